// cairn/remote_client/cas_client.h — a remote CAS of one instance: what it
// can do, what it lacks, and moving blobs and trees to and from a local
// cairn::Storage.
//
// Small blobs travel in BatchUpdateBlobs / BatchReadBlobs calls of at most
// the server's max_batch_total_size_bytes (kDefaultBatchBytes when it
// states no limit); larger ones through ByteStream in kChunkBytes pieces,
// read from and written to the local store piece by piece, so memory stays
// bounded by about one batch whatever the blob sizes. Every downloaded blob
// is checked against its digest before it reaches the local store
// (DATA_LOSS naming the digest otherwise). Every call goes through the
// connection's Retrier; an interrupted ByteStream upload resumes from the
// server's QueryWriteStatus.
//
// Errors carry the remote's code and details, prefixed with its URL.
// Thread-safe; the capabilities are fetched once, by the first call that
// needs them.
//
//   CasClient cas(connection);
//   CAIRN_RETURN_IF_ERROR(cas.UploadTree(root, local));
//   ... execute remotely ...
//   CAIRN_RETURN_IF_ERROR(cas.DownloadTree(output_root, local));
#ifndef CAIRN_REMOTE_CLIENT_CAS_CLIENT_H
#define CAIRN_REMOTE_CLIENT_CAS_CLIENT_H

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/digest.h"
#include "cairn/remote_client/remote_connection.h"
#include "cairn/status.h"
#include "cairn/storage.h"
#include "google/bytestream/bytestream.grpc.pb.h"

namespace cairn::remote_client {

// Batch size used when the server states no limit: gRPC's default 4 MiB
// receive limit, less room for the messages' own framing.
inline constexpr int64_t kDefaultBatchBytes = (4 << 20) - (64 << 10);
// Bytes of blob data per ByteStream message.
inline constexpr int64_t kChunkBytes = 1 << 20;
// Digests per FindMissingBlobs call.
inline constexpr size_t kFindMissingChunk = 10000;

// What the server said in GetCapabilities, as the client uses it.
struct RemoteCapabilities {
  int64_t max_batch_total_size_bytes = 0;  // as stated; 0 = none stated
  int64_t max_cas_blob_size_bytes = 0;     // 0 = no limit
  bool zstd = false;                       // ByteStream compressed-blobs/zstd
  bool exec_enabled = false;
  bool action_cache_update_enabled = false;
  build::bazel::remote::execution::v2::SymlinkAbsolutePathStrategy::Value symlink_strategy =
      build::bazel::remote::execution::v2::SymlinkAbsolutePathStrategy::UNKNOWN;

  // The batch size the client uses: the stated limit (at most what the
  // channel's message limit leaves room for), or kDefaultBatchBytes.
  int64_t BatchBytes() const;
};

class CasClient {
 public:
  using Stubs = build::bazel::remote::execution::v2::ContentAddressableStorage::StubInterface;
  using CapabilitiesStub = build::bazel::remote::execution::v2::Capabilities::StubInterface;
  using ByteStreamStub = google::bytestream::ByteStream::StubInterface;

  // Stubs on the connection's channel.
  explicit CasClient(const std::shared_ptr<RemoteConnection>& connection);
  // Given stubs, e.g. gmock doubles in unit tests.
  CasClient(std::shared_ptr<RemoteConnection> connection,
            std::unique_ptr<CapabilitiesStub> capabilities, std::unique_ptr<Stubs> cas,
            std::unique_ptr<ByteStreamStub> bytestream);

  // GetCapabilities, once. FAILED_PRECONDITION when the server does not
  // accept SHA256 digests (the only function Cairn uses).
  StatusOr<RemoteCapabilities> Capabilities();

  // The digests the server lacks, in FindMissingBlobs calls of at most
  // kFindMissingChunk digests.
  StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& digests);

  // Uploads what of `digests` the server lacks, reading it from `local`.
  Status Upload(const std::vector<Digest>& digests, Storage& local);
  // Uploads `missing` (what a FindMissing just answered) without asking
  // again.
  Status UploadMissing(const std::vector<Digest>& missing, Storage& local);
  // Downloads what of `digests` `local` lacks, verifying each.
  Status Download(const std::vector<Digest>& digests, Storage& local);

  // Every Directory and file of the tree under `root` (all in `local`).
  Status UploadTree(const Digest& root, Storage& local);
  // Every Directory and file of the remote tree under `root` into `local`,
  // level by level (a Directory must be local before its children are
  // known).
  Status DownloadTree(const Digest& root, Storage& local);

  // One blob through ByteStream, whatever its size.
  Status WriteStream(const Digest& digest, Storage& local);
  Status ReadStream(const Digest& digest, Storage& local);

 private:
  Status UploadBatch(const std::vector<Digest>& digests, Storage& local);
  Status DownloadBatch(const std::vector<Digest>& digests, Storage& local);

  std::shared_ptr<RemoteConnection> connection_;
  std::unique_ptr<CapabilitiesStub> capabilities_stub_;
  std::unique_ptr<Stubs> cas_;
  std::unique_ptr<ByteStreamStub> bytestream_;
  std::mutex mutex_;
  std::optional<RemoteCapabilities> capabilities_;
};

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_CAS_CLIENT_H
