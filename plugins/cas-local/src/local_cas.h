// local_cas.h — cas-local: Cairn's default store, a directory on local disk.
//
// Options (YAML mapping; unknown keys are INVALID_ARGUMENT):
//   path:            the store directory (required; created if absent)
//   quota:           "10G", "512M", or "50%" of the filesystem (default: none)
//   high-watermark:  fraction of quota that triggers a collection (default 1.0)
//   low-watermark:   fraction of quota a collection brings it down to (default 0.8)
//   hash-threads:    threads that hash, copy and verify (default 2)
//   verify-on-stage: hash every hardlinked file as it is staged, not only
//                    check its size, mode and mtime (default false; copies
//                    are always hashed); see object_stager.h
//
// On-disk layout (nothing outside this plugin reads it):
//   objects/ab/cdef...  blobs, named by SHA-256 (first 2 hex digits are the
//                       shard), mode 0444, mtime 1321009871; see object_store.h
//   objects/ab/cdef....x  an object's executable variant (0555), made when
//                       an executable is first staged by hardlink; see
//                       object_stager.h
//   tmp/                temporaries of writes in progress (same filesystem)
//   ac/ab/cdef...-SIZE  serialized ActionResult per action digest, instance ""
//   ac-instances/HASH/  the same for every other REAPI instance name, HASH
//                       the SHA-256 of the name; see action_caches.h
//   refs/NAME...        serialized Digest per reference name (a/b/c -> files)
//   uploads/ID          the bytes received so far of a resumable upload;
//                       see upload_store.h (removed after a day untouched)
//   assets/KIND/ab/...  one record per asset URI (Remote Asset), KIND blob or
//                       directory; see asset_store.h
//   leases/PID-RANDOM   one flock-ed lease per open store; see lease_manager.h
//   capture-index/HASH  per captured directory (HASH: SHA-256 of its real
//                       path), what its files were when last captured, so
//                       unchanged ones are not read again; capture_index.h
//   gc.lock             serialises garbage collections across processes
//
// Capabilities (ABI 1.1): CAIRN_STORAGE_INSTANCES, UPLOADS, ASSETS and
// LOCAL_FILES; no blob or batch limit.
//
// Guarantees: objects appear complete and verified or not at all (a kill at
// any point leaves no partial object), whether written at once or through
// a resumable upload, which survives a kill of the process receiving it and
// is verified against its digest before it becomes an object; an action
// result, reference or asset is written only after one syncfs made every
// object it names durable; action caches of different instances never see
// each other's entries; objects used by any live process since its lease
// started are never evicted, nor is anything an unexpired asset references
// (content, references, whole directory trees); several processes may use
// one store at once, and a blob one reports present is not evicted by
// another's collection; an object that no longer holds its bytes is never
// staged (it is removed and reported NOT_FOUND naming its digest), nor is a
// file whose digest states another size. Memory use does not grow with
// blob sizes. Thread-safe.
#ifndef CAIRN_CAS_LOCAL_LOCAL_CAS_H
#define CAIRN_CAS_LOCAL_LOCAL_CAS_H

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "action_caches.h"
#include "asset_store.h"
#include "cairn/host_services.h"
#include "cairn/storage.h"
#include "garbage_collector.h"
#include "lease_manager.h"
#include "local_cas_options.h"
#include "object_store.h"
#include "reference_store.h"
#include "upload_store.h"

namespace cairn::cas_local {

class LocalCas : public Storage {
 public:
  static StatusOr<std::unique_ptr<Storage>> Open(const HostServices& host,
                                                 std::string_view options_yaml);

  // Every operation of Storage, ABI 1.1's included (instances, resumable
  // uploads and assets).
  CAIRN_STORAGE_OVERRIDES;

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
  std::unique_ptr<ActionCaches> action_caches_;
  std::unique_ptr<ReferenceStore> references_;
  std::unique_ptr<UploadStore> uploads_;
  std::unique_ptr<AssetStore> assets_;
  std::unique_ptr<GarbageCollector> collector_;
  // Estimated bytes in the store (known only with a quota).
  std::atomic<uint64_t> estimated_bytes_{0};
  std::atomic<bool> collecting_{false};
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_LOCAL_CAS_H
