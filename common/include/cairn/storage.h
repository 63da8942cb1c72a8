// cairn/storage.h — the content-addressable store as a C++ interface.
//
// Storage is what the host, the sandboxes and the server program against.
// It has two kinds of implementation:
//   - StorageClient (cairn/storage_client.h) calls a store through the C ABI
//     (a storage plugin, or the host's services seen from a plugin);
//   - a backend written in C++ (cas-local) implements it directly and is
//     exported through the ABI with MakeStorageOps (cairn/storage_ops.h).
// Decorators (logging, leases, fault injection) wrap any Storage.
//
// Every method is thread-safe. Errors carry google.rpc codes: NOT_FOUND for
// a missing blob, INVALID_ARGUMENT for a malformed digest or a mismatch,
// UNIMPLEMENTED for an optional operation the store lacks.
#ifndef CAIRN_STORAGE_H
#define CAIRN_STORAGE_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "build/bazel/remote/asset/v1/remote_asset.pb.h"
#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/digest.h"
#include "cairn/status.h"

namespace cairn {

using ActionResult = build::bazel::remote::execution::v2::ActionResult;
// Remote Asset's requests. The Blob and Directory variants share one wire
// layout, so the Blob messages stand for both; AssetKind says which.
using AssetPushRequest = build::bazel::remote::asset::v1::PushBlobRequest;
using AssetFetchRequest = build::bazel::remote::asset::v1::FetchBlobRequest;
using AssetFetchResponse = build::bazel::remote::asset::v1::FetchBlobResponse;

enum class AssetKind : int32_t { kBlob = 1, kDirectory = 2 };  // CAIRN_ASSET_*

// What a store can do (ABI 1.1; cairn_storage_capabilities).
struct StorageCapabilities {
  uint32_t flags = 0;           // CAIRN_STORAGE_*
  uint64_t max_blob_size = 0;   // 0 = no limit
  uint64_t max_batch_size = 0;  // 0 = no limit
};

// Progress of a resumable upload (ABI 1.1).
struct UploadStatus {
  uint64_t committed_size = 0;
  bool complete = false;  // the blob is in the store
};

struct CapturedTree {
  Digest root;                 // root Directory
  std::optional<Digest> tree;  // REAPI Tree, when asked for
};

struct StorageStats {
  uint64_t object_count = 0;
  uint64_t total_bytes = 0;
  uint64_t quota_bytes = 0;
  uint64_t high_watermark_bytes = 0;
  uint64_t low_watermark_bytes = 0;
  uint64_t action_result_count = 0;
  uint64_t reference_count = 0;
};

struct VerifyReport {
  uint64_t problems = 0;
  std::string lines;  // one line per problem
};

struct StageOptions {
  bool hardlinks = false;
};

struct CaptureOptions {
  bool store_tree = false;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Blobs.
  virtual StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& digests) = 0;
  virtual StatusOr<bool> Contains(const Digest& digest) = 0;
  // limit 0 = to the end.
  virtual StatusOr<std::string> ReadBlob(const Digest& digest, uint64_t offset = 0,
                                         uint64_t limit = 0) = 0;
  virtual StatusOr<Digest> WriteBlob(std::string_view data,
                                     const std::optional<Digest>& expected = std::nullopt) = 0;
  virtual Status ReadBlobToFd(const Digest& digest, int fd) = 0;
  virtual StatusOr<Digest> WriteBlobFromFd(
      int fd, const std::optional<Digest>& expected = std::nullopt) = 0;
  virtual Status ReadBlobToPath(const Digest& digest, const std::string& path, bool executable) = 0;
  virtual StatusOr<Digest> WriteBlobFromPath(
      const std::string& path, bool move_source = false,
      const std::optional<Digest>& expected = std::nullopt) = 0;

  // Trees.
  virtual Status StageTree(const Digest& root, const std::string& path,
                           const StageOptions& options) = 0;
  virtual StatusOr<CapturedTree> CaptureTree(const std::string& path,
                                             const CaptureOptions& options) = 0;

  // Action cache of one REAPI instance ("" is the default instance).
  // Instances never see each other's entries; a store without
  // CAIRN_STORAGE_INSTANCES has only "" and reports UNIMPLEMENTED for
  // any other.
  virtual StatusOr<ActionResult> GetActionResult(const std::string& instance,
                                                 const Digest& action) = 0;
  virtual Status UpdateActionResult(const std::string& instance, const Digest& action,
                                    const ActionResult& result) = 0;

  // Named references.
  virtual StatusOr<Digest> GetReference(const std::string& name) = 0;
  virtual Status SetReference(const std::string& name, const Digest& digest) = 0;

  // Maintenance (UNIMPLEMENTED where a store has none).
  virtual StatusOr<VerifyReport> Verify(bool repair) = 0;
  virtual StatusOr<uint64_t> CollectGarbage(uint64_t target_bytes) = 0;
  virtual StatusOr<StorageStats> Stats() = 0;

  // --- Added with plugin ABI 1.1. Each is optional: the defaults below
  // say what a store without it does. The contracts are those of the
  // matching operations in cairn/plugin.h.

  // Default: nothing special, no limits.
  virtual StatusOr<StorageCapabilities> Capabilities() { return StorageCapabilities{}; }

  // Resumable writes, named by the caller's upload id (upload_write,
  // upload_status, upload_abort). Defaults: UNIMPLEMENTED.
  virtual StatusOr<UploadStatus> UploadWrite(const std::string& upload_id, const Digest& expected,
                                             uint64_t offset, std::string_view data, bool finish);
  virtual StatusOr<UploadStatus> QueryUpload(const std::string& upload_id, const Digest& expected);
  virtual Status AbortUpload(const std::string& upload_id);

  // Assets: URIs plus qualifiers naming content, with what they keep alive
  // (push_asset, fetch_asset, remove_asset). Defaults: UNIMPLEMENTED.
  virtual Status PushAsset(AssetKind kind, const AssetPushRequest& request);
  virtual StatusOr<AssetFetchResponse> FetchAsset(AssetKind kind, const AssetFetchRequest& request);
  virtual Status RemoveAsset(AssetKind kind, const AssetFetchRequest& request);

  // Convenience: protobuf messages as blobs.
  template <typename Message>
  StatusOr<Message> ReadMessage(const Digest& digest) {
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, ReadBlob(digest));
    Message message;
    if (!message.ParseFromString(bytes)) {
      return DataLoss("blob " + DigestToString(digest) + " is not a valid " +
                      message.GetTypeName());
    }
    return message;
  }
  StatusOr<Digest> WriteMessage(const google::protobuf::MessageLite& message) {
    return WriteBlob(message.SerializeAsString());
  }
};

// For an implementation of ReadBlob: how many bytes a read of `digest` from
// `offset` returns, at most `limit` of them (0 = to the end); an offset past
// the end is OUT_OF_RANGE.
inline StatusOr<uint64_t> BlobReadLength(const Digest& digest, uint64_t offset, uint64_t limit) {
  uint64_t size = static_cast<uint64_t>(digest.size_bytes());
  if (offset > size) {
    return OutOfRange("offset " + std::to_string(offset) + " is past the end of blob " +
                      DigestToString(digest));
  }
  uint64_t length = size - offset;
  return limit != 0 && limit < length ? limit : length;
}

}  // namespace cairn

// The declarations with which a class overrides Storage, listed once next to
// the interface, so that the implementations (the C ABI client, cas-local,
// cas-remote and its views) stay in step with it: an operation added or
// changed is written here, not again in every class. Written in the class
// body, inside namespace cairn or one nested in it (the names are cairn's,
// unqualified), with a semicolon after:
//
//   class MyStore : public Storage {
//    public:
//     CAIRN_STORAGE_OVERRIDES;
//   };
//
// CAIRN_STORAGE_REQUIRED_OVERRIDES: the pure virtual operations only (ABI
// 1.0), for a store that keeps the defaults of the ABI 1.1 ones.
// CAIRN_STORAGE_OVERRIDES: every operation. The default arguments stay with
// the interface.
#define CAIRN_STORAGE_REQUIRED_OVERRIDES                                                          \
  StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& digests) override;         \
  StatusOr<bool> Contains(const Digest& digest) override;                                         \
  StatusOr<std::string> ReadBlob(const Digest& digest, uint64_t offset, uint64_t limit) override; \
  StatusOr<Digest> WriteBlob(std::string_view data, const std::optional<Digest>& expected)        \
      override;                                                                                   \
  Status ReadBlobToFd(const Digest& digest, int fd) override;                                     \
  StatusOr<Digest> WriteBlobFromFd(int fd, const std::optional<Digest>& expected) override;       \
  Status ReadBlobToPath(const Digest& digest, const std::string& path, bool executable) override; \
  StatusOr<Digest> WriteBlobFromPath(const std::string& path, bool move_source,                   \
                                     const std::optional<Digest>& expected) override;             \
  Status StageTree(const Digest& root, const std::string& path, const StageOptions& options)      \
      override;                                                                                   \
  StatusOr<CapturedTree> CaptureTree(const std::string& path, const CaptureOptions& options)      \
      override;                                                                                   \
  StatusOr<ActionResult> GetActionResult(const std::string& instance, const Digest& action)       \
      override;                                                                                   \
  Status UpdateActionResult(const std::string& instance, const Digest& action,                    \
                            const ActionResult& result) override;                                 \
  StatusOr<Digest> GetReference(const std::string& name) override;                                \
  Status SetReference(const std::string& name, const Digest& digest) override;                    \
  StatusOr<VerifyReport> Verify(bool repair) override;                                            \
  StatusOr<uint64_t> CollectGarbage(uint64_t target_bytes) override;                              \
  StatusOr<StorageStats> Stats() override

#define CAIRN_STORAGE_OVERRIDES                                                             \
  CAIRN_STORAGE_REQUIRED_OVERRIDES;                                                         \
  StatusOr<StorageCapabilities> Capabilities() override;                                    \
  StatusOr<UploadStatus> UploadWrite(const std::string& upload_id, const Digest& expected,  \
                                     uint64_t offset, std::string_view data, bool finish)   \
      override;                                                                             \
  StatusOr<UploadStatus> QueryUpload(const std::string& upload_id, const Digest& expected)  \
      override;                                                                             \
  Status AbortUpload(const std::string& upload_id) override;                                \
  Status PushAsset(AssetKind kind, const AssetPushRequest& request) override;               \
  StatusOr<AssetFetchResponse> FetchAsset(AssetKind kind, const AssetFetchRequest& request) \
      override;                                                                             \
  Status RemoveAsset(AssetKind kind, const AssetFetchRequest& request) override

#endif  // CAIRN_STORAGE_H
