// garbage_collector.h — least-recently-used eviction down to a size.
//
// One collection at a time across processes (flock on gc.lock). It lists
// every object with its LastUse() (max(atime, ctime), see object_store.h),
// and unlinks the least recently used until the store holds at most the
// target, skipping the empty blob and never touching an object used since
// the oldest live lease started. Each candidate is re-checked
// just before it is unlinked, so a use that races with the scan wins.
//
// Evicting an object a staged tree hardlinks to is harmless: the link keeps
// the bytes.
#ifndef CAIRN_CAS_LOCAL_GARBAGE_COLLECTOR_H
#define CAIRN_CAS_LOCAL_GARBAGE_COLLECTOR_H

#include <cstdint>
#include <string>

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

 private:
  std::string root_;
  ObjectStore& objects_;
  LeaseManager& leases_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_GARBAGE_COLLECTOR_H
