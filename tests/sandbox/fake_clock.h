// fake_clock.h — a SupervisionClock that moves only when told.
//
// Tests of the supervisor and of LocalSandbox use it with
// FakeSupervisedProcess, whose waits advance it: time passes exactly as
// the test scripts it, with no real sleeps and nothing timed.
//
//   FakeClock clock;
//   clock.Advance(std::chrono::seconds(5));
//   EXPECT_EQ(clock.Elapsed(), std::chrono::seconds(5));
//
// Thread-safe.
#ifndef CAIRN_TESTS_SANDBOX_FAKE_CLOCK_H
#define CAIRN_TESTS_SANDBOX_FAKE_CLOCK_H

#include <chrono>
#include <mutex>

#include "cairn/sandbox_common/supervision_clock.h"

namespace cairn::testing {

class FakeClock : public SupervisionClock {
 public:
  TimePoint Now() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return start_ + elapsed_;
  }
  void Advance(std::chrono::nanoseconds by) {
    std::lock_guard<std::mutex> lock(mutex_);
    elapsed_ += by;
  }
  // Time since the clock was made; what tests compare.
  std::chrono::milliseconds Elapsed() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::chrono::duration_cast<std::chrono::milliseconds>(elapsed_);
  }
  // The clock time `since_start` after the clock was made.
  TimePoint At(std::chrono::nanoseconds since_start) const { return start_ + since_start; }

 private:
  std::mutex mutex_;
  // An arbitrary origin: nothing may depend on the real time.
  const TimePoint start_ = TimePoint() + std::chrono::hours(1000);
  std::chrono::nanoseconds elapsed_{0};
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SANDBOX_FAKE_CLOCK_H
