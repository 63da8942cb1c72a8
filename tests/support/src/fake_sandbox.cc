#include "cairn/testing/fake_sandbox.h"

#include <algorithm>
#include <utility>

namespace cairn::testing {
namespace {

// How often a held execution looks at its is_cancelled, which cannot wake it.
constexpr auto kCancelPoll = std::chrono::milliseconds(1);

bool IsCancelled(const ExecuteOptions& options) {
  return options.is_cancelled && options.is_cancelled();
}

void Report(const ExecuteOptions& options, ExecuteStage stage, const std::string& operation,
            std::string message = "") {
  if (options.progress) options.progress(ExecuteProgress{stage, operation, std::move(message)});
}

}  // namespace

StatusOr<SandboxCapabilities> FakeSandbox::Capabilities() {
  std::lock_guard<std::mutex> lock(mutex_);
  return capabilities_;
}

ExecuteOutcome FakeSandbox::Execute(const Action& action, const ExecuteOptions& options) {
  RecordedExecution record;
  record.action = action;
  if (storage_ != nullptr) {
    StatusOr<Command> command = storage_->ReadMessage<Command>(action.command_digest());
    if (command.ok()) record.command = std::move(*command);
  }
  record.inline_stdout = options.inline_stdout;
  record.inline_stderr = options.inline_stderr;
  record.skip_cache_lookup = options.skip_cache_lookup;
  record.live_output_fd = options.live_output_fd;

  std::unique_lock<std::mutex> lock(mutex_);
  executions_.push_back(std::move(record));
  std::string operation = "fake-sandbox/" + std::to_string(executions_.size());
  std::vector<ExecuteStage> stages = stages_;
  ++running_;
  max_running_ = std::max(max_running_, running_);
  lock.unlock();

  ExecuteOutcome outcome;
  bool cancelled = IsCancelled(options);
  if (!cancelled) {
    for (ExecuteStage stage : stages) Report(options, stage, operation);
    lock.lock();
    if (hold_ && permits_ > 0) {
      --permits_;
    } else if (hold_) {
      cancelled = !WaitForRelease(lock, options);
    }
    lock.unlock();
  }
  if (cancelled) {
    outcome.status = Cancelled("the fake sandbox's execution " + operation + " was cancelled");
  } else {
    outcome = TakeOutcome(action, options);
  }
  Report(options, ExecuteStage::kCompleted, operation, outcome.status.ToString());

  lock.lock();
  --running_;
  ++finished_;
  changed_.notify_all();
  return outcome;
}

bool FakeSandbox::WaitForRelease(std::unique_lock<std::mutex>& lock,
                                 const ExecuteOptions& options) {
  ++held_;
  changed_.notify_all();
  bool released = true;
  while (hold_ && permits_ == 0) {
    // is_cancelled belongs to the caller and may take its own locks.
    lock.unlock();
    bool cancelled = IsCancelled(options);
    lock.lock();
    if (cancelled) {
      released = false;
      break;
    }
    changed_.wait_for(lock, kCancelPoll);
  }
  if (released && hold_) --permits_;
  --held_;
  changed_.notify_all();
  return released;
}

ExecuteOutcome FakeSandbox::TakeOutcome(const Action& action, const ExecuteOptions& options) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!outcomes_.empty()) {
    ExecuteOutcome outcome = std::move(outcomes_.front());
    outcomes_.pop_front();
    return outcome;
  }
  Handler handler = handler_;
  lock.unlock();
  if (handler) return handler(action, options);
  ExecuteOutcome outcome;
  outcome.result.emplace();
  outcome.result->set_exit_code(0);
  return outcome;
}

StatusOr<int> FakeSandbox::RunInteractive(const Action& action, const InteractiveOptions&) {
  std::lock_guard<std::mutex> lock(mutex_);
  interactive_runs_.push_back(action);
  return interactive_result_;
}

void FakeSandbox::SetCapabilities(SandboxCapabilities capabilities) {
  std::lock_guard<std::mutex> lock(mutex_);
  capabilities_ = std::move(capabilities);
}

void FakeSandbox::EnqueueOutcome(ExecuteOutcome outcome) {
  std::lock_guard<std::mutex> lock(mutex_);
  outcomes_.push_back(std::move(outcome));
}

void FakeSandbox::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> lock(mutex_);
  handler_ = std::move(handler);
}

void FakeSandbox::SetProgressStages(std::vector<ExecuteStage> stages) {
  std::lock_guard<std::mutex> lock(mutex_);
  stages_ = std::move(stages);
}

void FakeSandbox::SetInteractiveResult(StatusOr<int> result) {
  std::lock_guard<std::mutex> lock(mutex_);
  interactive_result_ = std::move(result);
}

void FakeSandbox::HoldExecutions(bool hold) {
  std::lock_guard<std::mutex> lock(mutex_);
  hold_ = hold;
  changed_.notify_all();
}

void FakeSandbox::Release(size_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  permits_ = count > std::numeric_limits<size_t>::max() - permits_
                 ? std::numeric_limits<size_t>::max()
                 : permits_ + count;
  changed_.notify_all();
}

std::vector<RecordedExecution> FakeSandbox::executions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return executions_;
}

std::vector<Action> FakeSandbox::interactive_runs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return interactive_runs_;
}

size_t FakeSandbox::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

size_t FakeSandbox::max_running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return max_running_;
}

size_t FakeSandbox::held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return held_;
}

size_t FakeSandbox::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return finished_;
}

bool FakeSandbox::WaitUntilFinished(size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return finished_ >= count; });
}

bool FakeSandbox::WaitUntilHeld(size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return held_ >= count; });
}

}  // namespace cairn::testing
