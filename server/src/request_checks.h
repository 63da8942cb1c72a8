// request_checks.h — checks every service applies to the fields of a
// request before it touches the store.
//
// Each failure is INVALID_ARGUMENT with a google.rpc.BadRequest naming the
// field ("blob_digests[3]", "digest_function"), so a client learns exactly
// which part of its request was wrong. Pure functions.
#ifndef CAIRN_SERVER_REQUEST_CHECKS_H
#define CAIRN_SERVER_REQUEST_CHECKS_H

#include <string>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/digest.h"
#include "cairn/status.h"

namespace cairn::server {

using DigestFunction = build::bazel::remote::execution::v2::DigestFunction;

// UNKNOWN (a client older than REAPI 2.7) or SHA256: this server hashes
// with SHA-256 only.
Status CheckDigestFunction(DigestFunction::Value function, const std::string& field);

// A SHA-256 digest: 64 lowercase hex digits, a size that is not negative,
// and not above `max_size` (0 = no limit; a larger blob is refused as
// REAPI's max_cas_blob_size_bytes says, INVALID_ARGUMENT).
Status CheckDigest(const Digest& digest, const std::string& field, uint64_t max_size = 0);

// "FIELD[INDEX]".
std::string Indexed(const std::string& field, size_t index);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_REQUEST_CHECKS_H
