// execution_queue.h — the slots executions run in, and the line waiting
// for them.
//
// A fixed number of worker threads take jobs in order of priority (lower
// first, as REAPI's ExecutionPolicy.priority says; equal priorities in
// the order they came). At most `max_waiting` jobs wait (0 = no limit);
// past it Submit refuses with RESOURCE_EXHAUSTED, which clients retry
// after a delay. The queued and running gauges of the Metrics follow the
// jobs.
//
// Shutting down takes two steps: Close() refuses new jobs (UNAVAILABLE)
// and lets the queued and running ones go on; the destructor sets
// cancelled() — running jobs should poll it and stop — abandons the jobs
// that never started (their `abandon` runs instead of `run`) and joins
// the workers.
//
// Threads: every member may be called from any thread; jobs run on the
// workers and must not call Submit or the destructor.
#ifndef CAIRN_SERVER_EXECUTION_QUEUE_H
#define CAIRN_SERVER_EXECUTION_QUEUE_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "cairn/status.h"
#include "metrics.h"

namespace cairn::server {

class ExecutionQueue {
 public:
  struct Job {
    std::function<void()> run;
    std::function<void()> abandon;  // instead of run when the queue is destroyed first
  };

  ExecutionQueue(int workers, uint64_t max_waiting, Metrics& metrics);
  ~ExecutionQueue();
  ExecutionQueue(const ExecutionQueue&) = delete;
  ExecutionQueue& operator=(const ExecutionQueue&) = delete;

  Status Submit(int32_t priority, Job job);
  void Close();
  bool cancelled() const { return cancelled_; }

 private:
  void Work();

  const uint64_t max_waiting_;
  Metrics& metrics_;
  std::atomic<bool> cancelled_{false};

  std::mutex mutex_;
  std::condition_variable job_added_;
  bool closed_ = false;
  bool stopping_ = false;
  uint64_t sequence_ = 0;
  std::map<std::pair<int32_t, uint64_t>, Job> waiting_;
  std::vector<std::thread> workers_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_EXECUTION_QUEUE_H
