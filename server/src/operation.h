// operation.h — one execution as its callers see it.
//
// An Operation is what Execute and WaitExecution stream: the stages the
// execution has passed (CACHE_CHECK, QUEUED, EXECUTING, ...) in the order
// it passed them, and at the end its ExecuteResponse. Every caller
// following it keeps its own position in that list, so a stage is never
// skipped for one caller because another was slow, and any number of
// callers (merged Executes, WaitExecution after a reconnect) see the same
// outcome.
//
// Threads: every member may be called from any thread. The worker running
// the execution calls Advance() and Complete(); handlers call
// WaitForUpdate() and Render().
//
//   size_t next = 0;
//   for (;;) {
//     size_t count = operation.WaitForUpdate(next, std::chrono::seconds(1));
//     for (; next < count; ++next) Send(operation.Render(next));
//     if (operation.done() && next == count) break;
//   }
#ifndef CAIRN_SERVER_OPERATION_H
#define CAIRN_SERVER_OPERATION_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/digest.h"
#include "google/longrunning/operations.pb.h"

namespace cairn::server {

class Operation {
 public:
  using Stage = build::bazel::remote::execution::v2::ExecutionStage::Value;
  using ExecuteResponse = build::bazel::remote::execution::v2::ExecuteResponse;

  // `name` as Execute returns it; `instance` the REAPI instance it runs in.
  Operation(std::string name, std::string instance, Digest action_digest, Stage first_stage);
  Operation(const Operation&) = delete;
  Operation& operator=(const Operation&) = delete;

  const std::string& name() const { return name_; }
  const std::string& instance() const { return instance_; }
  const Digest& action_digest() const { return action_digest_; }

  // Records a new stage. Ignored when it is the current stage, or once
  // the operation is done (COMPLETED is only reached through Complete).
  void Advance(Stage stage);
  // Finishes the operation with `response`: the stage becomes COMPLETED
  // and the operation done. Only the first call counts.
  void Complete(ExecuteResponse response);

  bool done() const;

  // CancelOperation: asks the execution to stop. A queued one never
  // starts, a running one's sandbox is told to stop; either completes
  // with CANCELLED (unless it finished first).
  void RequestCancel() { cancel_requested_ = true; }
  bool cancel_requested() const { return cancel_requested_; }
  // When Complete() was called (meaningless before).
  std::chrono::steady_clock::time_point completed_at() const;

  // The number of updates so far (stages recorded, COMPLETED included);
  // never decreases, at least 1.
  size_t updates() const;
  // Waits up to `timeout` for more than `seen` updates; returns updates().
  size_t WaitForUpdate(size_t seen, std::chrono::milliseconds timeout) const;
  // Update `index` (< updates()) as the google.longrunning.Operation sent
  // to clients: ExecuteOperationMetadata in `metadata`, and for the last
  // update of a done operation done=true with the ExecuteResponse in
  // `response` (never `error`, as REAPI requires).
  google::longrunning::Operation Render(size_t index) const;

 private:
  const std::string name_;
  const std::string instance_;
  const Digest action_digest_;

  std::atomic<bool> cancel_requested_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Stage> stages_;
  bool done_ = false;
  ExecuteResponse response_;
  std::chrono::steady_clock::time_point completed_at_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_OPERATION_H
