#include "operation.h"

#include <utility>

namespace cairn::server {

namespace reapi = build::bazel::remote::execution::v2;

Operation::Operation(std::string name, std::string instance, Digest action_digest,
                     Stage first_stage)
    : name_(std::move(name)),
      instance_(std::move(instance)),
      action_digest_(std::move(action_digest)),
      stages_{first_stage} {}

void Operation::Advance(Stage stage) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_ || stage == reapi::ExecutionStage::COMPLETED || stages_.back() == stage) return;
    stages_.push_back(stage);
  }
  changed_.notify_all();
}

void Operation::Complete(ExecuteResponse response) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (done_) return;
    done_ = true;
    response_ = std::move(response);
    completed_at_ = std::chrono::steady_clock::now();
    stages_.push_back(reapi::ExecutionStage::COMPLETED);
  }
  changed_.notify_all();
}

bool Operation::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

std::chrono::steady_clock::time_point Operation::completed_at() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return completed_at_;
}

size_t Operation::updates() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stages_.size();
}

size_t Operation::WaitForUpdate(size_t seen, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return stages_.size() > seen; });
  return stages_.size();
}

google::longrunning::Operation Operation::Render(size_t index) const {
  google::longrunning::Operation operation;
  operation.set_name(name_);
  reapi::ExecuteOperationMetadata metadata;
  *metadata.mutable_action_digest() = action_digest_;
  metadata.set_digest_function(reapi::DigestFunction::SHA256);
  std::lock_guard<std::mutex> lock(mutex_);
  if (index >= stages_.size()) index = stages_.size() - 1;
  metadata.set_stage(stages_[index]);
  operation.mutable_metadata()->PackFrom(metadata);
  if (done_ && index + 1 == stages_.size()) {
    operation.set_done(true);
    operation.mutable_response()->PackFrom(response_);
  }
  return operation;
}

}  // namespace cairn::server
