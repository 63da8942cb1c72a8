// local_cas.h — cas-local: Cairn's default store, a directory on local disk.
//
// Options (YAML mapping; unknown keys are INVALID_ARGUMENT):
//   path:            the store directory (required; created if absent)
//   quota:           "10G", "512M", or "50%" of the filesystem (default: none)
//   high-watermark:  fraction of quota that triggers a collection (default 1.0)
//   low-watermark:   fraction of quota a collection brings it down to (default 0.8)
//   hash-threads:    threads that hash, copy and verify (default 2)
//
// On-disk layout (nothing outside this plugin reads it):
//   objects/ab/cdef...  blobs, named by SHA-256 (first 2 hex digits are the
//                       shard), mode 0444, mtime 1321009871; see object_store.h
//   tmp/                temporaries of writes in progress (same filesystem)
//   ac/ab/cdef...-SIZE  serialized ActionResult per action digest
//   refs/NAME...        serialized Digest per reference name (a/b/c -> files)
//   leases/PID-RANDOM   one flock-ed lease per open store; see lease_manager.h
//   gc.lock             serialises garbage collections across processes
//
// Guarantees: objects appear complete and verified or not at all (a kill at
// any point leaves no partial object); an action result or reference is
// written only after one syncfs made every object durable; objects used by
// any live process since its lease started are never evicted; several
// processes may use one store at once. Thread-safe.
#ifndef CAIRN_CAS_LOCAL_LOCAL_CAS_H
#define CAIRN_CAS_LOCAL_LOCAL_CAS_H

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "action_cache.h"
#include "cairn/host_services.h"
#include "cairn/storage.h"
#include "garbage_collector.h"
#include "lease_manager.h"
#include "object_store.h"
#include "reference_store.h"

namespace cairn::cas_local {

struct LocalCasOptions {
  std::string path;
  uint64_t quota_bytes = 0;  // 0 = none
  double high_watermark = 1.0;
  double low_watermark = 0.8;
  int threads = 2;

  // Parses the plugin's options; a percentage quota is resolved against the
  // filesystem holding `path` (which must exist by then).
  static StatusOr<LocalCasOptions> Parse(std::string_view yaml);
};

class LocalCas : public Storage {
 public:
  static StatusOr<std::unique_ptr<Storage>> Open(const HostServices& host, std::string_view options_yaml);

  StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& digests) override;
  StatusOr<bool> Contains(const Digest& digest) override;
  StatusOr<std::string> ReadBlob(const Digest& digest, uint64_t offset, uint64_t limit) override;
  StatusOr<Digest> WriteBlob(std::string_view data, const std::optional<Digest>& expected) override;
  Status ReadBlobToFd(const Digest& digest, int fd) override;
  StatusOr<Digest> WriteBlobFromFd(int fd, const std::optional<Digest>& expected) override;
  Status ReadBlobToPath(const Digest& digest, const std::string& path, bool executable) override;
  StatusOr<Digest> WriteBlobFromPath(const std::string& path, bool move_source,
                                     const std::optional<Digest>& expected) override;
  Status StageTree(const Digest& root, const std::string& path, const StageOptions& options) override;
  StatusOr<CapturedTree> CaptureTree(const std::string& path, const CaptureOptions& options) override;
  StatusOr<ActionResult> GetActionResult(const std::string& instance,
                                         const Digest& action) override;
  Status UpdateActionResult(const std::string& instance, const Digest& action,
                            const ActionResult& result) override;
  StatusOr<Digest> GetReference(const std::string& name) override;
  Status SetReference(const std::string& name, const Digest& digest) override;
  StatusOr<VerifyReport> Verify(bool repair) override;
  StatusOr<uint64_t> CollectGarbage(uint64_t target_bytes) override;
  StatusOr<StorageStats> Stats() override;

 private:
  LocalCas(const HostServices& host, LocalCasOptions options)
      : host_(host), options_(std::move(options)) {}
  Status Initialise();
  // Quota accounting: called for every object this process adds.
  void OnObjectAdded(uint64_t size);
  uint64_t HighWatermarkBytes() const;
  uint64_t LowWatermarkBytes() const;
  bool IsCancelled() const { return host_.IsCancelled(); }
  StatusOr<Digest> MoveIntoStore(const std::string& path, const std::optional<Digest>& expected);

  HostServices host_;
  LocalCasOptions options_;
  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<LeaseManager> leases_;
  std::unique_ptr<ActionCache> action_cache_;
  std::unique_ptr<ReferenceStore> references_;
  std::unique_ptr<GarbageCollector> collector_;
  // Estimated bytes in the store (known only with a quota).
  std::atomic<uint64_t> estimated_bytes_{0};
  std::atomic<bool> collecting_{false};
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_LOCAL_CAS_H
