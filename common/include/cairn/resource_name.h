// cairn/resource_name.h — ByteStream resource names of CAS blobs (REAPI v2).
//
// Reads:   [{instance}/]blobs/[{function}/]{hash}/{size}
//          [{instance}/]compressed-blobs/{compressor}/[{function}/]{hash}/{size}
// Writes:  [{instance}/]uploads/{uuid}/blobs/[{function}/]{hash}/{size}[/{metadata}]
//          [{instance}/]uploads/{uuid}/compressed-blobs/{compressor}/[{function}/]{hash}/{size}[/{metadata}]
//
// - {instance} is zero or more non-empty segments; the first segment that
//   is `blobs`, `compressed-blobs` or `uploads` ends it.
// - {compressor} is a lowercase Compressor name other than `identity`
//   (zstd, deflate, brotli). {hash}/{size} describe the uncompressed blob.
// - {function} is the lowercase DigestFunction name, present only for the
//   functions REAPI says to name (sha256tree, blake3, gitsha1); naming one
//   it says to leave out (sha256, sha1, md5, ...) is an error.
// - {hash} is lowercase hex of a length some digest function produces
//   (32, 40, 64, 96 or 128 digits): whether the caller supports that
//   function is the caller's check. {size} is a non-negative decimal.
// - {uuid} is any non-empty segment (it only separates concurrent uploads);
//   {metadata} is whatever follows the size, which servers may ignore.
//
// Every error is INVALID_ARGUMENT naming the resource name (shortened if
// long) and what was wrong. Pure functions; thread-safe.
//
//   StatusOr<BlobResourceName> name = ParseWriteResourceName(request.resource_name());
//   if (!name.ok()) return name.status();
//   store.Write(name->digest, ...);
#ifndef CAIRN_RESOURCE_NAME_H
#define CAIRN_RESOURCE_NAME_H

#include <string>
#include <string_view>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/digest.h"
#include "cairn/status.h"

namespace cairn {

struct BlobResourceName {
  using Compressor = build::bazel::remote::execution::v2::Compressor;
  using DigestFunction = build::bazel::remote::execution::v2::DigestFunction;

  std::string instance_name;                            // "" when absent
  std::string upload_id;                                // the {uuid} of a write name; "" for reads
  Compressor::Value compressor = Compressor::IDENTITY;  // IDENTITY: plain `blobs`
  // UNKNOWN when the name leaves the function out (inferred from the hash).
  DigestFunction::Value digest_function = DigestFunction::UNKNOWN;
  Digest digest;
  std::string metadata;  // writes: what followed {size}, without its '/'
};

StatusOr<BlobResourceName> ParseReadResourceName(std::string_view name);
StatusOr<BlobResourceName> ParseWriteResourceName(std::string_view name);

// The names the parsers accept, for clients: a read name ignores
// upload_id and metadata; a write name needs a non-empty upload_id.
std::string FormatReadResourceName(const BlobResourceName& name);
std::string FormatWriteResourceName(const BlobResourceName& name);

}  // namespace cairn

#endif  // CAIRN_RESOURCE_NAME_H
