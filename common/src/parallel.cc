#include "cairn/parallel.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn {

Status ParallelFor(size_t count, int threads, const std::function<Status(size_t)>& body) {
  return ParallelForWithWorker(count, threads, [&](int, size_t index) { return body(index); });
}

Status ParallelForWithWorker(size_t count, int threads,
                             const std::function<Status(int worker, size_t)>& body) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  size_t error_index = count;
  Status error;
  auto work = [&](int worker) {
    for (;;) {
      if (failed.load(std::memory_order_relaxed)) return;
      size_t index = next.fetch_add(1);
      if (index >= count) return;
      Status status;
      try {
        status = body(worker, index);
      } catch (const std::exception& e) {
        status = Internal(std::string("parallel work item threw: ") + e.what());
      }
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        if (index < error_index) {
          error_index = index;
          error = status;
        }
        failed = true;
      }
    }
  };
  size_t helpers = threads > 1 ? static_cast<size_t>(threads - 1) : 0;
  if (helpers > count / 2) helpers = count / 2;  // not worth a thread for one item
  std::vector<std::thread> pool;
  pool.reserve(helpers);
  for (size_t i = 0; i < helpers; ++i) pool.emplace_back(work, static_cast<int>(i + 1));
  work(0);
  for (std::thread& thread : pool) thread.join();
  return error;
}

}  // namespace cairn
