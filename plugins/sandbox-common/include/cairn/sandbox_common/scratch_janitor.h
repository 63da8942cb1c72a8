// cairn/sandbox_common/scratch_janitor.h — removes finished scratch
// directories off the critical path.
//
// A run's scratch directory (its staged root: possibly tens of thousands of
// files) is no longer needed once outputs are captured, but removing it can
// take as long as staging did. Dispose() renames it out of the way at once
// and a background thread removes it; the destructor finishes every pending
// removal before returning, so nothing outlives the sandbox. Thread-safe.
//
// A process killed mid-run (SIGKILL, a crash) leaves its directories
// behind. So every private scratch directory is named after the process
// that owns it (OwnedScratchPrefix: "bwrap-<pid>-..."), and
// DisposeLeftovers() hands over those whose process is gone; each local
// sandbox calls it when it is created.
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

  // Disposes of every entry of `scratch_parent` named `prefix` + PID + "-"
  // ... whose process PID no longer exists (not this process's, nor any
  // that kill(PID, 0) finds). Returns how many; a missing or unreadable
  // `scratch_parent` has none.
  size_t DisposeLeftovers(const std::string& scratch_parent, const std::string& prefix);

 private:
  void Loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> pending_;
  bool stopping_ = false;
  std::thread worker_;
};

// `prefix` + this process's pid + "-": how private scratch directories made
// by this process start, so that DisposeLeftovers can tell their owner.
std::string OwnedScratchPrefix(const std::string& prefix);

// Whether `name` is `prefix` + PID + "-" ... for a PID that is neither this
// process nor any other that still exists.
bool OwnedByDeadProcess(const std::string& name, const std::string& prefix);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_SCRATCH_JANITOR_H
