// lease_manager.h — telling other processes what this one may still use.
//
// Each open store holds a lease: a file leases/<pid>-<random> locked with
// flock(LOCK_EX) for as long as the store is open. The lease's mtime is the
// start of the oldest operation the process still has in flight (or of its
// last one): it moves forward when an operation starts and the lease is
// kLeaseRefreshSeconds old, to the start of the oldest operation then in
// flight, "now" when it is the only one. So a store that is never idle (a
// server whose calls always overlap) still moves its lease, and the
// collector can evict what it used before its oldest running operation.
// The garbage collector never evicts an object used since the oldest live
// lease started, so a blob a running build or server request has touched
// (captured, found present, staged) cannot vanish before the build records
// it. A lease whose lock can be taken belongs to a dead process and is
// removed by the scan. Thread-safe.
#ifndef CAIRN_CAS_LOCAL_LEASE_MANAGER_H
#define CAIRN_CAS_LOCAL_LEASE_MANAGER_H

#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "cairn/status.h"
#include "cairn/unique_fd.h"

namespace cairn::cas_local {

inline constexpr time_t kLeaseRefreshSeconds = 10;

class LeaseManager {
 public:
  // Creates and locks this process's lease under root/leases.
  static StatusOr<std::unique_ptr<LeaseManager>> Open(const std::string& root);
  ~LeaseManager();

  // Brackets every store operation (see the refresh rule above).
  // BeginOperation returns the operation's start, for EndOperation.
  time_t BeginOperation();
  void EndOperation(time_t started);

  // The start of the oldest live lease (this process's included); removes
  // the leases of dead processes on the way.
  StatusOr<time_t> OldestLiveLeaseStart();

  // This lease's current start, in seconds.
  const std::atomic<time_t>& start() const { return start_; }

 private:
  LeaseManager() = default;

  std::string directory_;
  std::string name_;
  UniqueFd leases_fd_;
  UniqueFd lease_fd_;
  std::mutex mutex_;
  std::multiset<time_t> in_flight_;  // starts of the operations running
  std::atomic<time_t> start_{0};
};

// RAII bracket for one operation.
class LeaseScope {
 public:
  explicit LeaseScope(LeaseManager& leases) : leases_(leases), started_(leases_.BeginOperation()) {}
  ~LeaseScope() { leases_.EndOperation(started_); }
  LeaseScope(const LeaseScope&) = delete;
  LeaseScope& operator=(const LeaseScope&) = delete;

 private:
  LeaseManager& leases_;
  time_t started_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_LEASE_MANAGER_H
