#include "operation_registry.h"

#include <cstdio>

namespace cairn::server {
namespace {

constexpr char kOperations[] = "operations/";

std::string RunningKeyDigest(const Digest& action) { return DigestToString(action); }

}  // namespace

std::optional<std::string> InstanceOfOperationName(const std::string& name) {
  const std::string marker = std::string("/") + kOperations;
  size_t at = name.rfind(marker);
  std::string instance;
  std::string id;
  if (at != std::string::npos) {
    instance = name.substr(0, at);
    id = name.substr(at + marker.size());
  } else if (name.rfind(kOperations, 0) == 0) {
    id = name.substr(sizeof(kOperations) - 1);
  } else {
    return std::nullopt;
  }
  if (id.empty() || id.find('/') != std::string::npos) return std::nullopt;
  return instance;
}

OperationRegistry::OperationRegistry(std::chrono::seconds keep_finished, size_t max_finished)
    : keep_finished_(keep_finished), max_finished_(max_finished), random_(std::random_device{}()) {}

std::shared_ptr<Operation> OperationRegistry::Create(const std::string& instance,
                                                     const Digest& action,
                                                     Operation::Stage first_stage) {
  // A version 4 UUID: names must not be guessable from one another, as a
  // name is all WaitExecution asks for.
  uint64_t high = random_();
  uint64_t low = random_();
  high = (high & ~0xf000ull) | 0x4000ull;
  low = (low & ~(3ull << 62)) | (2ull << 62);
  char uuid[40];
  std::snprintf(uuid, sizeof(uuid), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xffff),
                static_cast<unsigned>(high & 0xffff), static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffull));
  std::string name = (instance.empty() ? "" : instance + "/") + kOperations + uuid;
  auto operation = std::make_shared<Operation>(name, instance, action, first_stage);
  by_name_[name] = operation;
  return operation;
}

StatusOr<OperationRegistry::Started> OperationRegistry::StartOrJoin(
    const std::string& instance, const Digest& action, bool merge,
    const std::vector<Operation::Stage>& stages,
    const std::function<Status(std::shared_ptr<Operation>)>& start) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto key = std::make_pair(instance, RunningKeyDigest(action));
  if (merge) {
    auto running = running_.find(key);
    // A done operation's result was visible before this request; a request
    // skipping the cache must not get it, so only a live one is joined.
    if (running != running_.end() && !running->second->done()) {
      return Started{running->second, false};
    }
  }
  std::shared_ptr<Operation> operation = Create(instance, action, stages.front());
  for (size_t i = 1; i < stages.size(); ++i) operation->Advance(stages[i]);
  Status started = start(operation);
  if (!started.ok()) {
    Forget(operation->name());
    return started;
  }
  // An Action with do_not_cache is never merged into, either.
  if (merge) running_[key] = operation;
  return Started{operation, true};
}

std::shared_ptr<Operation> OperationRegistry::AddCompleted(const std::string& instance,
                                                           const Digest& action,
                                                           Operation::Stage first_stage,
                                                           Operation::ExecuteResponse response) {
  std::shared_ptr<Operation> operation;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    operation = Create(instance, action, first_stage);
  }
  operation->Complete(std::move(response));
  Finished(operation);
  return operation;
}

void OperationRegistry::StopMerging(const std::shared_ptr<Operation>& operation) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto key = std::make_pair(operation->instance(), RunningKeyDigest(operation->action_digest()));
  auto running = running_.find(key);
  if (running != running_.end() && running->second == operation) running_.erase(running);
}

void OperationRegistry::Finished(const std::shared_ptr<Operation>& operation) {
  StopMerging(operation);
  std::lock_guard<std::mutex> lock(mutex_);
  finished_.push_back(operation);
  ForgetOldFinished();
}

std::shared_ptr<Operation> OperationRegistry::Find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = by_name_.find(name);
  if (found == by_name_.end()) return nullptr;
  const std::shared_ptr<Operation>& operation = found->second;
  // Expired but not yet swept (sweeping happens as others finish).
  if (operation->done() &&
      std::chrono::steady_clock::now() - operation->completed_at() > keep_finished_) {
    return nullptr;
  }
  return operation;
}

void OperationRegistry::Forget(const std::string& name) { by_name_.erase(name); }

void OperationRegistry::ForgetOldFinished() {
  auto now = std::chrono::steady_clock::now();
  while (!finished_.empty() && (finished_.size() > max_finished_ ||
                                now - finished_.front()->completed_at() > keep_finished_)) {
    Forget(finished_.front()->name());
    finished_.pop_front();
  }
}

}  // namespace cairn::server
