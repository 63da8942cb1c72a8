// operation_registry.h — the operations of one Execution service, by name
// and by the action they run.
//
// Execute merges a request into the operation already running the same
// action in the same instance (unless the Action says do_not_cache), so an
// action runs once however many clients ask for it at the same time.
// WaitExecution finds an operation by name while it runs and for a while
// after it finished, so a client that lost its stream can pick the result
// up; an operation finished longer ago than `keep_finished`, or older than
// the newest `max_finished` finished ones, is forgotten (WaitExecution then
// answers NOT_FOUND and the client executes again, as REAPI says).
//
// Names are "{instance}/operations/{uuid}", or "operations/{uuid}" in the
// default instance, so the instance can be read back from a name
// (InstanceOfOperationName).
//
// Threads: every member may be called from any thread.
#ifndef CAIRN_SERVER_OPERATION_REGISTRY_H
#define CAIRN_SERVER_OPERATION_REGISTRY_H

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cairn/digest.h"
#include "cairn/status.h"
#include "operation.h"

namespace cairn::server {

// The instance named by an operation name; nullopt when `name` is not one
// this server gives out.
std::optional<std::string> InstanceOfOperationName(const std::string& name);

class OperationRegistry {
 public:
  OperationRegistry(std::chrono::seconds keep_finished, size_t max_finished);

  struct Started {
    std::shared_ptr<Operation> operation;
    bool created = false;  // false: merged into a running operation
  };

  // The running operation of `action` in `instance` when there is one and
  // `merge` is set; otherwise a new operation with `stages` so far (the
  // last one is current), which `start` is called with — under the
  // registry's lock, so no other request can merge into it before it is
  // queued. When `start` fails the new operation is forgotten and its
  // error returned.
  StatusOr<Started> StartOrJoin(const std::string& instance, const Digest& action, bool merge,
                                const std::vector<Operation::Stage>& stages,
                                const std::function<Status(std::shared_ptr<Operation>)>& start);

  // A new operation that is already complete with `response` (an answer
  // from the action cache), findable by name like the others.
  std::shared_ptr<Operation> AddCompleted(const std::string& instance, const Digest& action,
                                          Operation::Stage first_stage,
                                          Operation::ExecuteResponse response);

  // Nothing merges into `operation` any more (it is being cancelled: a
  // new request for the same action gets an operation of its own).
  void StopMerging(const std::shared_ptr<Operation>& operation);

  // Called once `operation` is complete: nothing merges into it any more,
  // and its time to be forgotten starts.
  void Finished(const std::shared_ptr<Operation>& operation);

  // The operation called `name`; nullptr when unknown or forgotten.
  std::shared_ptr<Operation> Find(const std::string& name) const;

 private:
  // Under mutex_.
  std::shared_ptr<Operation> Create(const std::string& instance, const Digest& action,
                                    Operation::Stage first_stage);
  void Forget(const std::string& name);
  void ForgetOldFinished();

  const std::chrono::seconds keep_finished_;
  const size_t max_finished_;

  mutable std::mutex mutex_;
  std::mt19937_64 random_;
  std::map<std::string, std::shared_ptr<Operation>> by_name_;
  // The operation running each (instance, action digest) that others may join.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<Operation>> running_;
  // Finished operations, oldest first.
  std::deque<std::shared_ptr<Operation>> finished_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_OPERATION_REGISTRY_H
