// garbage_collector.h — least-recently-used eviction down to a size.
//
// One collection at a time across processes (flock on gc.lock). It lists
// every object with its LastUse() (max(atime, ctime), see object_store.h),
// and unlinks the least recently used until the store holds at most the
// target, skipping the empty blob and never touching an object used since
// the oldest live lease started. Each candidate is re-checked, renamed
// into tmp/, and checked again before it is unlinked (restored if it was
// used meanwhile), so a use that races with the collection wins even in
// another process: what Contains reported present stays (object_store.h).
// An object's executable variant (object_stager.h) counts as a use of it
// and goes with it.
//
// Objects the keep-alive callback names (what assets reference, see
// asset_store.h) are never evicted; it is asked once per collection, under
// the lock, after the scan.
//
// Evicting an object a staged tree hardlinks to is harmless: the link keeps
// the bytes.
#ifndef CAIRN_CAS_LOCAL_GARBAGE_COLLECTOR_H
#define CAIRN_CAS_LOCAL_GARBAGE_COLLECTOR_H

#include <cstdint>
#include <ctime>
#include <functional>
#include <string>
#include <unordered_set>

#include "cairn/status.h"
#include "lease_manager.h"
#include "object_store.h"

namespace cairn::cas_local {

struct StoreUsage {
  uint64_t object_count = 0;
  uint64_t total_bytes = 0;
};

class GarbageCollector {
 public:
  GarbageCollector(std::string root, ObjectStore& objects, LeaseManager& leases)
      : root_(std::move(root)), objects_(objects), leases_(leases) {}

  // Bytes freed. The store may stay above target when the rest is in use.
  StatusOr<uint64_t> Collect(uint64_t target_bytes);

  StatusOr<StoreUsage> Usage() const;

  // Hashes of objects to keep whatever their age. Set once, before
  // concurrent use.
  using KeepAlive = std::function<StatusOr<std::unordered_set<std::string>>()>;
  void SetKeepAlive(KeepAlive keep_alive) { keep_alive_ = std::move(keep_alive); }

 private:
  // Removes one object unless it was used since `protected_since`; false
  // when it was kept.
  StatusOr<bool> Evict(const std::string& hash, time_t protected_since);

  std::string root_;
  ObjectStore& objects_;
  LeaseManager& leases_;
  KeepAlive keep_alive_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_GARBAGE_COLLECTOR_H
