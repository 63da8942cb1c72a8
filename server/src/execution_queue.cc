#include "execution_queue.h"

#include <string>

namespace cairn::server {

ExecutionQueue::ExecutionQueue(int workers, uint64_t max_waiting, Metrics& metrics)
    : max_waiting_(max_waiting), metrics_(metrics) {
  if (workers < 1) workers = 1;
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

ExecutionQueue::~ExecutionQueue() {
  std::map<std::pair<int32_t, uint64_t>, Job> never_started;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    stopping_ = true;
    cancelled_ = true;
    never_started.swap(waiting_);
  }
  job_added_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  metrics_.AddQueued(-static_cast<int64_t>(never_started.size()));
  for (auto& [order, job] : never_started) {
    if (job.abandon) job.abandon();
  }
}

Status ExecutionQueue::Submit(int32_t priority, Job job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return Unavailable("the server is shutting down and takes no new executions");
    if (max_waiting_ != 0 && waiting_.size() >= max_waiting_) {
      return ResourceExhausted("the execution queue is full (" + std::to_string(waiting_.size()) +
                               " actions waiting, limits.max-queue); retry later");
    }
    waiting_.emplace(std::make_pair(priority, sequence_++), std::move(job));
    metrics_.AddQueued(1);
  }
  job_added_.notify_one();
  return Status::Ok();
}

void ExecutionQueue::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
}

void ExecutionQueue::Work() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      job_added_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      job = std::move(waiting_.begin()->second);
      waiting_.erase(waiting_.begin());
      metrics_.AddQueued(-1);
      metrics_.AddRunning(1);
    }
    job.run();
    metrics_.AddRunning(-1);
  }
}

}  // namespace cairn::server
