// lease_manager.h — telling other processes what this one may still use.
//
// Each open store holds a lease: a file leases/<pid>-<random> locked with
// flock(LOCK_EX) for as long as the store is open. The lease's mtime is the
// start of the process's current busy period: it moves to "now" when an
// operation starts after the process was idle for kLeaseRefreshSeconds.
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
  void BeginOperation();
  void EndOperation();

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
  int in_flight_ = 0;
  std::atomic<time_t> start_{0};
};

// RAII bracket for one operation.
class LeaseScope {
 public:
  explicit LeaseScope(LeaseManager& leases) : leases_(leases) { leases_.BeginOperation(); }
  ~LeaseScope() { leases_.EndOperation(); }
  LeaseScope(const LeaseScope&) = delete;
  LeaseScope& operator=(const LeaseScope&) = delete;

 private:
  LeaseManager& leases_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_LEASE_MANAGER_H
