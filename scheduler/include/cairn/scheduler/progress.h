// cairn/scheduler/progress.h — what `cairn build` prints while it builds.
//
// The scheduler reports each element's progress (queued, found in the
// cache, started, built, failed, skipped); the reporter turns that into the
// lines a user reads, in BuildStream's style:
//
//   [00:00:01] START   base/busybox.bst (1a2b3c4d)
//   [00:00:04] SUCCESS base/busybox.bst (1a2b3c4d)
//   [00:00:04] CACHED  base/alpine.bst (5e6f7a8b)
//   [00:00:09] FAILURE app/hello.bst (9c0d1e2f)
//       install-commands[2] `make install` exited with code 2
//       Log file: /home/me/.cache/cairn/logs/app/hello/9c0d1e2f-build.log
//       Printing the last 2 lines from the log file:
//       ======================================================================
//       make: *** [install] Error 2
//       ======================================================================
//   [00:00:09] SKIPPED app/world.bst (3a4b5c6d)
//
// The time is the time since the reporter was made. Not on a terminal,
// that is all: one line per event (a failure's details indented below it),
// no escape sequences. On a terminal the same lines scroll above one live
// status line at the bottom of the screen,
//
//   [3/12] building: base/gcc.bst (12s), app/hello.bst (3s)  cached: 1  failed: 0
//
// redrawn on each event and by a background thread while the elapsed times
// change; it is cut to the terminal's width so it never wraps, and cleared
// ("\r\x1b[K") before a line is scrolled above it, so the screen never shows
// a stale or doubled one. There, the kind of each line is coloured (green
// SUCCESS, red FAILURE, cyan CACHED...) unless NO_COLOR is set and not
// empty (https://no-color.org).
//
// Text from elsewhere (element names, messages, log lines) is printed with
// control bytes and bytes that are not UTF-8 escaped (cairn/quote.h), so a
// build log cannot move the cursor or change colours.
//
// Nothing else may write to the same terminal while the reporter lives: a
// line written behind its back lands after the status line, on the same
// row. Warnings and notes go through Log() instead.
//
// Threads: Report, Log and Finish may be called from any thread at once;
// each event's lines are written whole, in one write(2), never interleaved
// with another's. Writes happen under the reporter's lock, so a terminal
// that stops reading (Ctrl-S) holds up the callers until it reads again.
// Write errors are ignored: progress is not worth failing a build for.
//
//   ProgressReporter progress(STDERR_FILENO, isatty(STDERR_FILENO), plan.size());
//   progress.Report({ElementEvent::kStarted, "base/busybox.bst", key});
//   ...
//   progress.Finish();  // "3 built, 8 cached, 1 failed, 0 skipped in 9.2 s"
#ifndef CAIRN_SCHEDULER_PROGRESS_H
#define CAIRN_SCHEDULER_PROGRESS_H

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::scheduler {

enum class ElementEvent {
  kQueued,     // will be processed; prints nothing
  kCached,     // its artifact was found, it is not built
  kPulled,     // its artifact came from a remote cache, it is not built
  kStarted,    // its build began
  kSucceeded,  // its build finished and was stored
  kFailed,     // its build failed
  kSkipped,    // not built because a dependency failed
};

struct ProgressEvent {
  ElementEvent event = ElementEvent::kQueued;
  std::string element;    // "base/busybox.bst"
  std::string cache_key;  // hex; its first 8 characters are shown, as bst does
  // Printed indented below the line when not empty; for kFailed, why:
  // "install-commands[2] `make install` exited with code 2".
  std::string message;
  std::string log_path;  // kFailed (printed) and kSucceeded: the build log
  std::string log_tail;  // kFailed: the last lines of that log, printed indented
};

class ProgressReporter {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Writes to `out_fd` (not owned; stderr normally). `terminal`: whether
  // `out_fd` is a terminal (the caller asks isatty(); tests force it), which
  // turns on the status line, its refresher thread and colours. `total`:
  // how many elements this session processes, the N of "[done/N]". `clock`
  // (steady_clock::now when empty) gives every time shown; it is called
  // from the refresher thread too, so it must be thread-safe.
  ProgressReporter(int out_fd, bool terminal, size_t total, Clock clock = {});
  // Stops the refresher (without waiting for its next tick) and clears the
  // status line.
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

  // Prints the event's line (none for kQueued) and updates the counts.
  // Thread-safe.
  void Report(const ProgressEvent& event);
  // Prints `line` as it is (escaped, see above) as a line of its own: for
  // warnings and notes. Thread-safe.
  void Log(const std::string& line);
  // Prints the summary, "N built, M cached, K failed, S skipped in T s",
  // and removes the status line for good; later events still print their
  // lines. Thread-safe; a second call prints the summary again.
  void Finish();

 private:
  struct Running {
    std::string element;
    std::chrono::steady_clock::time_point started;
  };

  void StopRunning(const std::string& element);  // needs mutex_
  std::string EventText(const ProgressEvent& event) const;
  std::string Timestamp() const;
  std::string Colored(const char* color, const std::string& text) const;
  std::string StatusLine(size_t width) const;
  // Writes `scrolled` (whole lines) above the status line, which is then
  // redrawn; on no terminal, writes `scrolled` only. Needs mutex_.
  void Emit(const std::string& scrolled);
  void RefreshLoop();

  const int out_fd_;
  const bool terminal_;
  const size_t total_;
  const Clock clock_;
  const bool color_;
  const std::chrono::steady_clock::time_point start_;

  std::mutex mutex_;  // guards everything below and every write to out_fd_
  std::condition_variable wake_;
  bool stopping_ = false;
  bool finished_ = false;
  std::vector<Running> running_;  // in the order they started
  size_t built_ = 0, cached_ = 0, pulled_ = 0, failed_ = 0, skipped_ = 0;
  std::string status_shown_;  // the status line on screen, "" when none

  std::thread refresher_;  // last: starts after everything it reads exists
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_PROGRESS_H
