// cairn/storage_client.h — a Storage that calls a store through the C ABI.
//
// Used by the host to drive a storage plugin, and by plugins to reach the
// host's active CAS (cairn_host_services.cas). Every call is guarded: an
// exception thrown by the other side becomes INTERNAL, a NULL optional
// operation becomes UNIMPLEMENTED (or, for the action cache of instance "",
// the ABI 1.0 operation). Typed error details the store reports (ABI 1.1
// cairn_error.details) arrive on the returned Status. `name` prefixes error messages
// ("storage plugin cas-local: read_blob: ...").
//
// The ops table and store must outlive the client; the client never closes
// the store.
#ifndef CAIRN_STORAGE_CLIENT_H
#define CAIRN_STORAGE_CLIENT_H

#include <string>

#include "cairn/plugin.h"
#include "cairn/storage.h"

namespace cairn {

class StorageClient : public Storage {
 public:
  StorageClient(const cairn_storage_ops* ops, void* store, std::string name);

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

  // ABI 1.1. A store whose table lacks an operation (a 1.0 plugin, or one
  // that left it NULL) gets the default of cairn/storage.h: flags 0 for
  // Capabilities, UNIMPLEMENTED for the rest.
  StatusOr<StorageCapabilities> Capabilities() override;
  StatusOr<UploadStatus> UploadWrite(const std::string& upload_id, const Digest& expected,
                                     uint64_t offset, std::string_view data, bool finish) override;
  StatusOr<UploadStatus> QueryUpload(const std::string& upload_id, const Digest& expected) override;
  Status AbortUpload(const std::string& upload_id) override;
  Status PushAsset(AssetKind kind, const AssetPushRequest& request) override;
  StatusOr<AssetFetchResponse> FetchAsset(AssetKind kind,
                                          const AssetFetchRequest& request) override;
  Status RemoveAsset(AssetKind kind, const AssetFetchRequest& request) override;

 private:
  std::string What(const char* operation) const { return name_ + ": " + operation; }
  Status InstancesUnsupported(const std::string& instance) const;

  const cairn_storage_ops* ops_;
  void* store_;
  std::string name_;
};

}  // namespace cairn

#endif  // CAIRN_STORAGE_CLIENT_H
