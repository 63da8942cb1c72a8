// cairn/sandbox_common/scratch_janitor.h — removes finished scratch
// directories off the critical path.
//
// A run's scratch directory (its staged root: possibly tens of thousands of
// files) is no longer needed once outputs are captured, but removing it can
// take as long as staging did. Dispose() renames it out of the way at once
// and a background thread removes it; the destructor finishes every pending
// removal before returning, so nothing outlives the sandbox. Thread-safe.
#ifndef CAIRN_SANDBOX_COMMON_SCRATCH_JANITOR_H
#define CAIRN_SANDBOX_COMMON_SCRATCH_JANITOR_H

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace cairn {

class ScratchJanitor {
 public:
  ScratchJanitor() = default;
  ~ScratchJanitor();
  ScratchJanitor(const ScratchJanitor&) = delete;
  ScratchJanitor& operator=(const ScratchJanitor&) = delete;

  // Takes `path` over; it is removed (RemoveTree) soon.
  void Dispose(std::string path);

 private:
  void Loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> pending_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_SCRATCH_JANITOR_H
