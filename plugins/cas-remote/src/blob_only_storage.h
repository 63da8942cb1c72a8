// blob_only_storage.h — the base of the Storage views cas-remote hands to
// the remote client (its local cache, and the sources of an upload).
//
// CasClient moves blobs between a remote CAS and "a local Storage", and
// needs only the blob operations of one. The views here implement those;
// everything else is refused with UNIMPLEMENTED naming the view, so a
// mistaken use is loud instead of silently empty.
#ifndef CAIRN_CAS_REMOTE_BLOB_ONLY_STORAGE_H
#define CAIRN_CAS_REMOTE_BLOB_ONLY_STORAGE_H

#include <string>

#include "cairn/storage.h"

namespace cairn::cas_remote {

class BlobOnlyStorage : public Storage {
 public:
  // `name` says which view refused an operation.
  explicit BlobOnlyStorage(std::string name) : name_(std::move(name)) {}

  StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& digests) override;
  StatusOr<bool> Contains(const Digest& digest) override;
  StatusOr<std::string> ReadBlob(const Digest& digest, uint64_t offset, uint64_t limit) override;
  StatusOr<Digest> WriteBlob(std::string_view data, const std::optional<Digest>& expected) override;
  Status ReadBlobToFd(const Digest& digest, int fd) override;
  StatusOr<Digest> WriteBlobFromFd(int fd, const std::optional<Digest>& expected) override;
  Status ReadBlobToPath(const Digest& digest, const std::string& path, bool executable) override;
  StatusOr<Digest> WriteBlobFromPath(const std::string& path, bool move_source,
                                     const std::optional<Digest>& expected) override;
  Status StageTree(const Digest& root, const std::string& path,
                   const StageOptions& options) override;
  StatusOr<CapturedTree> CaptureTree(const std::string& path,
                                     const CaptureOptions& options) override;
  StatusOr<ActionResult> GetActionResult(const std::string& instance,
                                         const Digest& action) override;
  Status UpdateActionResult(const std::string& instance, const Digest& action,
                            const ActionResult& result) override;
  StatusOr<Digest> GetReference(const std::string& name) override;
  Status SetReference(const std::string& name, const Digest& digest) override;
  StatusOr<VerifyReport> Verify(bool repair) override;
  StatusOr<uint64_t> CollectGarbage(uint64_t target_bytes) override;
  StatusOr<StorageStats> Stats() override;

 protected:
  Status Refuse(const std::string& operation) const;

 private:
  std::string name_;
};

}  // namespace cairn::cas_remote

#endif  // CAIRN_CAS_REMOTE_BLOB_ONLY_STORAGE_H
