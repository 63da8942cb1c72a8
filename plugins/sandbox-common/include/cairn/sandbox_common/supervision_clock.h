// cairn/sandbox_common/supervision_clock.h — where supervision reads the time.
//
// The supervisor (process_supervisor.h) decides timeouts and the kill
// grace period by this clock alone, never by std::chrono directly, so unit
// tests drive it with a fake clock that moves only when the fake process
// "waits" (tests/sandbox/fake_supervised_process.h): no real sleeps, no
// timing assertions. Waiting itself is the process side's job
// (SupervisedProcess::WaitForActivity), because the real wait is one
// poll() that output or the child's exit must be able to cut short.
//
// Implementations must be thread-safe; SteadyClock is.
#ifndef CAIRN_SANDBOX_COMMON_SUPERVISION_CLOCK_H
#define CAIRN_SANDBOX_COMMON_SUPERVISION_CLOCK_H

#include <chrono>

namespace cairn {

class SupervisionClock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~SupervisionClock() = default;
  virtual TimePoint Now() = 0;
};

// The real clock: std::chrono::steady_clock.
class SteadyClock final : public SupervisionClock {
 public:
  TimePoint Now() override { return std::chrono::steady_clock::now(); }
};

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_SUPERVISION_CLOCK_H
