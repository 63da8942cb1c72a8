// cairn/testing/fake_sandbox.h — a scripted cairn::Sandbox for unit tests.
//
// FakeSandbox runs nothing. Each Execute call is recorded (the Action, its
// Command when a Storage to read it from was given, the options' flags),
// reports progress stages, and returns the next queued outcome, or the
// handler's, or "exit code 0". It honours ExecuteOptions::is_cancelled, and
// can hold every execution until the test releases it, which is what the
// scheduler's concurrency tests need:
//
//   FakeSandbox sandbox(&storage);
//   sandbox.HoldExecutions();
//   std::thread worker([&] { scheduler.Build(...); });
//   ASSERT_TRUE(sandbox.WaitUntilHeld(2));     // two actions run at once
//   EXPECT_EQ(sandbox.running(), 2u);
//   sandbox.Release();                          // let everything finish
//   worker.join();
//   EXPECT_EQ(sandbox.executions()[0].command->arguments(0), "make");
//
// Thread-safe: Execute may be called from any number of threads while the
// test scripts and inspects from another. Progress callbacks run on the
// executing thread, as a real sandbox's do.
#ifndef CAIRN_TESTING_FAKE_SANDBOX_H
#define CAIRN_TESTING_FAKE_SANDBOX_H

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <vector>

#include "cairn/sandbox.h"
#include "cairn/storage.h"

namespace cairn::testing {

// What FakeSandbox saw of one Execute call.
struct RecordedExecution {
  Action action;
  std::optional<Command> command;  // read from the storage given, if it was there
  bool inline_stdout = false;
  bool inline_stderr = false;
  bool skip_cache_lookup = false;
  int live_output_fd = -1;
};

class FakeSandbox : public Sandbox {
 public:
  using Handler =
      std::function<ExecuteOutcome(const Action& action, const ExecuteOptions& options)>;

  // `storage` (optional; must outlive the sandbox) is where the Commands of
  // the executed Actions are read from.
  explicit FakeSandbox(Storage* storage = nullptr) : storage_(storage) {}

  StatusOr<SandboxCapabilities> Capabilities() override;
  // In order: record the call; CANCELLED at once if is_cancelled says so;
  // report each progress stage; wait while held (CANCELLED if cancelled
  // meanwhile); take the outcome; report kCompleted; return it.
  ExecuteOutcome Execute(const Action& action, const ExecuteOptions& options) override;
  // Recorded like Execute; returns SetInteractiveResult's value
  // (UNIMPLEMENTED by default).
  StatusOr<int> RunInteractive(const Action& action, const InteractiveOptions& options) override;

  // --- Scripting.
  void SetCapabilities(SandboxCapabilities capabilities);
  // Outcomes returned one per Execute, in the order queued.
  void EnqueueOutcome(ExecuteOutcome outcome);
  // Decides the outcome when the queue is empty.
  void SetHandler(Handler handler);
  // Reported through ExecuteOptions::progress before the outcome is taken
  // (default: kExecuting); kCompleted always follows at the end.
  void SetProgressStages(std::vector<ExecuteStage> stages);
  void SetInteractiveResult(StatusOr<int> result);
  // While holding, each Execute waits (after its progress stages) for a
  // Release. HoldExecutions(false) stops holding and lets all waiting go.
  void HoldExecutions(bool hold = true);
  // Lets `count` executions past the hold, now or when they arrive.
  void Release(size_t count = std::numeric_limits<size_t>::max());

  // --- Inspection.
  std::vector<RecordedExecution> executions() const;
  std::vector<Action> interactive_runs() const;
  size_t running() const;      // Execute calls in progress now
  size_t max_running() const;  // the most ever in progress at once
  size_t held() const;         // Execute calls waiting for a Release now
  size_t finished() const;     // Execute calls that have returned
  // Blocks until at least `count` executions are held. False after
  // `timeout`, a safety net so a broken test fails instead of hanging.
  bool WaitUntilHeld(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Blocks until at least `count` Execute calls have returned; false after
  // `timeout`.
  bool WaitUntilFinished(size_t count,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

 private:
  // Waits for a permit; false when cancelled first. Holds `lock`.
  bool WaitForRelease(std::unique_lock<std::mutex>& lock, const ExecuteOptions& options);
  ExecuteOutcome TakeOutcome(const Action& action, const ExecuteOptions& options);

  Storage* storage_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  SandboxCapabilities capabilities_;
  std::deque<ExecuteOutcome> outcomes_;
  Handler handler_;
  std::vector<ExecuteStage> stages_{ExecuteStage::kExecuting};
  StatusOr<int> interactive_result_ = Unimplemented("the fake sandbox has no interactive mode");
  bool hold_ = false;
  size_t permits_ = 0;
  size_t running_ = 0;
  size_t max_running_ = 0;
  size_t held_ = 0;
  size_t finished_ = 0;
  std::vector<RecordedExecution> executions_;
  std::vector<Action> interactive_runs_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_FAKE_SANDBOX_H
