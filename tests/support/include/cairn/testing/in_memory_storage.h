// cairn/testing/in_memory_storage.h — the whole cairn::Storage in memory.
//
// A fake store for unit tests: blobs in a map (verified against their
// digests on every write), the action cache of each instance, references,
// resumable uploads and Remote Asset mappings with the semantics of
// cairn/plugin.h, and StageTree / CaptureTree against real directories
// giving the same canonical Directory digests as cas-local. Plus what a
// test needs to look inside and to break things:
//   - Count(op): how many times an operation was called;
//   - FailNext(op, n, status): the next n calls of op fail with status
//     (before doing anything), e.g. to test retries;
//   - DeleteBlob / CorruptBlob: an evicted or damaged object.
//
//   InMemoryStorage store;
//   Digest digest = *store.WriteBlob("hello");
//   store.FailNext(StorageOp::kReadBlob, 1, Unavailable("flaky"));
//   EXPECT_EQ(store.ReadBlob(digest).status().code(), Code::kUnavailable);
//   EXPECT_EQ(*store.ReadBlob(digest), "hello");
//   EXPECT_EQ(store.Count(StorageOp::kReadBlob), 2u);
//
// Thread-safe: one mutex guards the state; tree staging and capture do
// their file I/O outside it. Calls a store makes to itself (StageTree
// reading blobs) are not counted, only the caller's.
#ifndef CAIRN_TESTING_IN_MEMORY_STORAGE_H
#define CAIRN_TESTING_IN_MEMORY_STORAGE_H

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/plugin.h"
#include "cairn/storage.h"
#include "cairn/testing/operation_hooks.h"

namespace cairn::testing {

class AssetIndex;

// Every operation of cairn::Storage, for Count and FailNext.
enum class StorageOp {
  kFindMissing,
  kContains,
  kReadBlob,
  kWriteBlob,
  kReadBlobToFd,
  kWriteBlobFromFd,
  kReadBlobToPath,
  kWriteBlobFromPath,
  kStageTree,
  kCaptureTree,
  kGetActionResult,
  kUpdateActionResult,
  kGetReference,
  kSetReference,
  kVerify,
  kCollectGarbage,
  kStats,
  kCapabilities,
  kUploadWrite,
  kQueryUpload,
  kAbortUpload,
  kPushAsset,
  kFetchAsset,
  kRemoveAsset,
};

class InMemoryStorage : public Storage {
 public:
  // Every ABI 1.1 capability except CAIRN_STORAGE_REMOTE, and no limits.
  static StorageCapabilities DefaultCapabilities();

  // Without CAIRN_STORAGE_INSTANCES in `capabilities.flags`, any action
  // cache instance but "" is UNIMPLEMENTED and assets ignore instances.
  // max_blob_size, when set, is enforced on writes (INVALID_ARGUMENT).
  explicit InMemoryStorage(StorageCapabilities capabilities = DefaultCapabilities());
  ~InMemoryStorage() override;

  StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& digests) override;
  StatusOr<bool> Contains(const Digest& digest) override;
  StatusOr<std::string> ReadBlob(const Digest& digest, uint64_t offset = 0,
                                 uint64_t limit = 0) override;
  StatusOr<Digest> WriteBlob(std::string_view data,
                             const std::optional<Digest>& expected = std::nullopt) override;
  Status ReadBlobToFd(const Digest& digest, int fd) override;
  StatusOr<Digest> WriteBlobFromFd(int fd, const std::optional<Digest>& expected) override;
  // Creates a new file (ALREADY_EXISTS if there is one), 0644 or 0755.
  Status ReadBlobToPath(const Digest& digest, const std::string& path, bool executable) override;
  // With move_source the file is gone afterwards, as when a store renames it.
  StatusOr<Digest> WriteBlobFromPath(const std::string& path, bool move_source,
                                     const std::optional<Digest>& expected) override;

  // Copies (never hardlinks) into an existing directory; captures regular
  // files, executables, symlinks and directories, nothing else.
  Status StageTree(const Digest& root, const std::string& path,
                   const StageOptions& options) override;
  StatusOr<CapturedTree> CaptureTree(const std::string& path,
                                     const CaptureOptions& options) override;

  // NOT_FOUND on a miss; see the constructor for instances.
  StatusOr<ActionResult> GetActionResult(const std::string& instance,
                                         const Digest& action) override;
  Status UpdateActionResult(const std::string& instance, const Digest& action,
                            const ActionResult& result) override;

  // NOT_FOUND when unset; setting replaces.
  StatusOr<Digest> GetReference(const std::string& name) override;
  Status SetReference(const std::string& name, const Digest& digest) override;

  // Verify checks every blob against its digest (repair removes the bad
  // ones). CollectGarbage evicts least recently used blobs no asset keeps
  // alive until at most target_bytes remain (0: there is no watermark, so
  // nothing is evicted).
  StatusOr<VerifyReport> Verify(bool repair) override;
  StatusOr<uint64_t> CollectGarbage(uint64_t target_bytes) override;
  StatusOr<StorageStats> Stats() override;

  StatusOr<StorageCapabilities> Capabilities() override;
  // Uploads and assets: the semantics of upload_* and *_asset in cairn/plugin.h.
  StatusOr<UploadStatus> UploadWrite(const std::string& upload_id, const Digest& expected,
                                     uint64_t offset, std::string_view data, bool finish) override;
  StatusOr<UploadStatus> QueryUpload(const std::string& upload_id, const Digest& expected) override;
  Status AbortUpload(const std::string& upload_id) override;
  Status PushAsset(AssetKind kind, const AssetPushRequest& request) override;
  StatusOr<AssetFetchResponse> FetchAsset(AssetKind kind,
                                          const AssetFetchRequest& request) override;
  Status RemoveAsset(AssetKind kind, const AssetFetchRequest& request) override;

  // --- Test hooks.
  uint64_t Count(StorageOp op) const { return hooks_.Count(op); }
  void ResetCounts() { hooks_.ResetCounts(); }
  void FailNext(StorageOp op, int times, const Status& status) {
    hooks_.FailNext(op, times, status);
  }
  // Removes a blob as eviction would; false when it was not there.
  bool DeleteBlob(const Digest& digest);
  // Replaces a stored blob's bytes without changing its digest, as disk
  // corruption would; false when it was not there.
  bool CorruptBlob(const Digest& digest, std::string bytes);
  size_t blob_count() const;

 private:
  struct Blob {
    std::string bytes;
    uint64_t last_used = 0;  // for CollectGarbage's LRU order
  };
  struct Upload {
    Digest expected;
    std::string data;
  };

  // Callers hold mutex_.
  Status CheckWrite(std::string_view data, const std::optional<Digest>& expected,
                    const Digest& actual) const;
  Digest StoreLocked(std::string_view data);
  StatusOr<std::string> ReadLocked(const Digest& digest);
  Status CheckInstance(const std::string& instance) const;
  // Calls `visit` once for `root` and each distinct digest below it, with
  // whether it is in the store (a missing Directory is not descended into).
  void VisitTreeLocked(const Digest& root,
                       const std::function<void(const Digest&, bool present)>& visit) const;
  std::vector<Digest> MissingInTreeLocked(const Digest& root) const;

  // Unlocked helpers shared by several operations.
  StatusOr<Digest> WriteChecked(std::string_view data, const std::optional<Digest>& expected);
  StatusOr<std::string> ReadWhole(const Digest& digest);

  const StorageCapabilities capabilities_;
  OperationHooks<StorageOp> hooks_;
  mutable std::mutex mutex_;
  std::map<std::string, Blob> blobs_;  // by "hash/size"
  uint64_t use_clock_ = 0;
  std::map<std::string, std::map<std::string, ActionResult>> action_cache_;  // instance, action
  std::map<std::string, Digest> references_;
  std::map<std::string, Upload> uploads_;
  std::unique_ptr<AssetIndex> assets_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_IN_MEMORY_STORAGE_H
