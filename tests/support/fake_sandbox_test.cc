// FakeSandbox: recording, scripted outcomes, progress, cancellation and
// holding executions for concurrency tests.
#include "cairn/testing/fake_sandbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "cairn/testing/in_memory_storage.h"

namespace cairn::testing {
namespace {

using ::testing::ElementsAre;

Action ActionRunning(Storage& storage, const std::string& program) {
  Command command;
  command.add_arguments(program);
  Action action;
  *action.mutable_command_digest() = *storage.WriteMessage(command);
  return action;
}

TEST(FakeSandbox, RecordsEachActionWithItsCommandAndOptions) {
  InMemoryStorage storage;
  FakeSandbox sandbox(&storage);
  ExecuteOptions options;
  options.inline_stdout = true;
  ExecuteOutcome outcome = sandbox.Execute(ActionRunning(storage, "make"), options);
  EXPECT_TRUE(outcome.status.ok());
  ASSERT_TRUE(outcome.result.has_value());
  EXPECT_EQ(outcome.result->exit_code(), 0);
  std::vector<RecordedExecution> executions = sandbox.executions();
  ASSERT_EQ(executions.size(), 1u);
  ASSERT_TRUE(executions[0].command.has_value());
  EXPECT_EQ(executions[0].command->arguments(0), "make");
  EXPECT_TRUE(executions[0].inline_stdout);
  EXPECT_FALSE(executions[0].inline_stderr);
}

TEST(FakeSandbox, QueuedOutcomesComeFirstThenTheHandlerDecides) {
  InMemoryStorage storage;
  FakeSandbox sandbox(&storage);
  ExecuteOutcome timed_out;
  timed_out.status = DeadlineExceeded("too slow");
  sandbox.EnqueueOutcome(timed_out);
  sandbox.SetHandler([](const Action&, const ExecuteOptions&) {
    ExecuteOutcome outcome;
    outcome.result.emplace();
    outcome.result->set_exit_code(7);
    outcome.cached_result = true;
    return outcome;
  });
  Action action = ActionRunning(storage, "cc");
  EXPECT_EQ(sandbox.Execute(action, {}).status.code(), Code::kDeadlineExceeded);
  ExecuteOutcome second = sandbox.Execute(action, {});
  EXPECT_EQ(second.result->exit_code(), 7);
  EXPECT_TRUE(second.cached_result);
}

TEST(FakeSandbox, ReportsItsProgressStagesThenCompleted) {
  FakeSandbox sandbox;
  sandbox.SetProgressStages({ExecuteStage::kQueued, ExecuteStage::kExecuting});
  std::vector<ExecuteStage> seen;
  ExecuteOptions options;
  options.progress = [&](const ExecuteProgress& progress) { seen.push_back(progress.stage); };
  (void)sandbox.Execute(Action(), options);
  EXPECT_THAT(
      seen, ElementsAre(ExecuteStage::kQueued, ExecuteStage::kExecuting, ExecuteStage::kCompleted));
}

TEST(FakeSandbox, AnExecutionCancelledBeforeItStartsRunsNothing) {
  FakeSandbox sandbox;
  bool handler_ran = false;
  sandbox.SetHandler([&](const Action&, const ExecuteOptions&) {
    handler_ran = true;
    return ExecuteOutcome();
  });
  ExecuteOptions options;
  options.is_cancelled = [] { return true; };
  EXPECT_EQ(sandbox.Execute(Action(), options).status.code(), Code::kCancelled);
  EXPECT_FALSE(handler_ran);
  EXPECT_EQ(sandbox.executions().size(), 1u);
}

TEST(FakeSandbox, HeldExecutionsRunConcurrentlyUntilReleased) {
  FakeSandbox sandbox;
  sandbox.HoldExecutions();
  std::vector<std::thread> workers;
  workers.reserve(3);
  std::atomic<int> finished{0};
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&] {
      (void)sandbox.Execute(Action(), {});
      ++finished;
    });
  }
  ASSERT_TRUE(sandbox.WaitUntilHeld(3));
  EXPECT_EQ(sandbox.running(), 3u);
  EXPECT_EQ(finished.load(), 0);
  sandbox.Release(1);
  ASSERT_TRUE(sandbox.WaitUntilFinished(1));
  EXPECT_EQ(sandbox.held(), 2u);  // one permit lets exactly one go
  sandbox.Release();
  for (std::thread& worker : workers) worker.join();
  EXPECT_EQ(finished.load(), 3);
  EXPECT_EQ(sandbox.max_running(), 3u);
  EXPECT_EQ(sandbox.running(), 0u);
}

TEST(FakeSandbox, AHeldExecutionStopsWhenItIsCancelled) {
  FakeSandbox sandbox;
  sandbox.HoldExecutions();
  std::atomic<bool> cancel{false};
  ExecuteOutcome outcome;
  std::thread worker([&] {
    ExecuteOptions options;
    options.is_cancelled = [&] { return cancel.load(); };
    outcome = sandbox.Execute(Action(), options);
  });
  ASSERT_TRUE(sandbox.WaitUntilHeld(1));
  cancel = true;
  worker.join();
  EXPECT_EQ(outcome.status.code(), Code::kCancelled);
  EXPECT_EQ(sandbox.held(), 0u);
}

TEST(FakeSandbox, InteractiveRunsAreRecordedAndAnswerAsScripted) {
  FakeSandbox sandbox;
  EXPECT_EQ(sandbox.RunInteractive(Action(), {}).status().code(), Code::kUnimplemented);
  sandbox.SetInteractiveResult(42);
  EXPECT_EQ(*sandbox.RunInteractive(Action(), {}), 42);
  EXPECT_EQ(sandbox.interactive_runs().size(), 2u);
}

}  // namespace
}  // namespace cairn::testing
