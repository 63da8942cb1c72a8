// cairn/testing/operation_hooks.h — call counters and fault injection for fakes.
//
// OperationHooks<Op> is what a fake calls on entry to each of its
// operations: it counts the call and hands back the failure a test asked
// for, if one is pending. `Op` is the fake's enum of operations.
//
//   OperationHooks<StorageOp> hooks;
//   hooks.FailNext(StorageOp::kReadBlob, 2, Unavailable("the store is down"));
//   // in the fake:  CAIRN_RETURN_IF_ERROR(hooks.Enter(StorageOp::kReadBlob));
//   EXPECT_EQ(hooks.Count(StorageOp::kReadBlob), 3u);
//
// Thread-safe. Failures queued for one operation are used in the order
// they were queued; each call consumes one.
#ifndef CAIRN_TESTING_OPERATION_HOOKS_H
#define CAIRN_TESTING_OPERATION_HOOKS_H

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>

#include "cairn/status.h"

namespace cairn::testing {

template <typename Op>
class OperationHooks {
 public:
  // Counts a call of `op`; returns the next injected failure for it, or OK.
  Status Enter(Op op) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++counts_[op];
    std::deque<Status>& pending = failures_[op];
    if (pending.empty()) return Status::Ok();
    Status failure = pending.front();
    pending.pop_front();
    return failure;
  }

  // The next `times` calls of `op` fail with `status` (which must not be OK),
  // after any failures already queued for it.
  void FailNext(Op op, int times, const Status& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int i = 0; i < times; ++i) failures_[op].push_back(status);
  }

  // How many times `op` was called, failed calls included.
  uint64_t Count(Op op) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = counts_.find(op);
    return found == counts_.end() ? 0 : found->second;
  }

  // Forgets the counts (not the pending failures).
  void ResetCounts() {
    std::lock_guard<std::mutex> lock(mutex_);
    counts_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::map<Op, uint64_t> counts_;
  std::map<Op, std::deque<Status>> failures_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_OPERATION_HOOKS_H
