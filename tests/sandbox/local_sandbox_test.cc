// LocalSandbox::Execute on fakes: an in-memory CAS, a fake clock and a
// scripted process instead of bwrap or chroot. Proves the timeout, both
// kinds of cancellation, the partial result and the progress stages
// without root, real processes or sleeps.
#include "cairn/sandbox_common/local_sandbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cairn/abi.h"
#include "cairn/merkle.h"
#include "cairn/sandbox_common/overlay_mount.h"
#include "cairn/storage_ops.h"
#include "cairn/testing/in_memory_storage.h"
#include "fake_supervised_process.h"

namespace cairn::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Launch hands over a FakeSupervisedProcess the test scripted, after
// letting the test act as the command would (write its streams and outputs).
class ScriptedSandbox : public LocalSandbox {
 public:
  using Command = std::function<void(const LaunchRequest& request)>;
  ScriptedSandbox(HostServices host, std::string scratch_dir,
                  const std::shared_ptr<FakeClock>& clock, bool overlays = false)
      : LocalSandbox(std::move(host), "scripted", std::move(scratch_dir), 0, 0, clock),
        overlays_(overlays) {}

  std::shared_ptr<FakeSupervisedProcess> process;
  Command command;
  int launches = 0;

 protected:
  StatusOr<LaunchedProcess> Launch(const LaunchRequest& request) override {
    ++launches;
    if (command) command(request);
    LaunchedProcess launched;
    launched.process = process;
    return launched;
  }
  Status CheckSetup(const SupervisionResult&, const StagedRoot&, bool) override {
    return Status::Ok();
  }
  bool MountsOverlayRoots() const override { return overlays_; }

 private:
  bool overlays_;
};

void WriteText(int fd, const std::string& text) {
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

class LocalSandboxTest : public ::testing::Test {
 protected:
  LocalSandboxTest() {
    char name[] = "/tmp/cairn-local-sandbox-XXXXXX";
    scratch_ = mkdtemp(name);
    services_.struct_size = sizeof services_;
    services_.abi_major = CAIRN_ABI_VERSION_MAJOR;
    services_.abi_minor = CAIRN_ABI_VERSION_MINOR;
    services_.host = this;
    services_.is_cancelled = [](void* host) -> int32_t {
      return static_cast<LocalSandboxTest*>(host)->host_cancelled_();
    };
    services_.cas = MakeStorageOps(ErrorDetails::kWrite);
    services_.cas_store = static_cast<Storage*>(&storage_);
    services_.scratch_dir = scratch_.c_str();
    sandbox_ =
        std::make_unique<ScriptedSandbox>(HostServices(&services_), scratch_ + "/sandbox", clock_);
    sandbox_->process = std::make_shared<FakeSupervisedProcess>(*clock_);
  }
  ~LocalSandboxTest() override {
    sandbox_.reset();
    std::system(("rm -rf '" + scratch_ + "'").c_str());
  }

  // /bin/tool in the input root; the command runs it at the root and may
  // write out.txt (unless `with_output` is false: nothing to capture).
  Action MakeAction(std::optional<seconds> timeout, bool with_output = true) {
    FileNode tool;
    tool.set_name("tool");
    *tool.mutable_digest() = *storage_.WriteBlob("#!/bin/sh\n");
    tool.set_is_executable(true);
    Directory bin;
    *bin.add_files() = tool;
    Directory root;
    DirectoryNode* bin_node = root.add_directories();
    bin_node->set_name("bin");
    *bin_node->mutable_digest() = *storage_.WriteMessage(bin);
    Command command;
    command.add_arguments("/bin/tool");
    if (with_output) command.add_output_paths("out.txt");
    Action action;
    *action.mutable_command_digest() = *storage_.WriteMessage(command);
    *action.mutable_input_root_digest() = *storage_.WriteMessage(root);
    if (timeout) action.mutable_timeout()->set_seconds(timeout->count());
    return action;
  }

  std::string Blob(const Digest& digest) { return storage_.ReadBlob(digest).value(); }

  std::string scratch_;
  InMemoryStorage storage_;
  std::function<bool()> host_cancelled_ = [] { return false; };
  cairn_host_services services_{};
  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::unique_ptr<ScriptedSandbox> sandbox_;
};

TEST_F(LocalSandboxTest, ACommandThatFinishesReportsItsStagesInOrderAndItsOutputs) {
  sandbox_->command = [](const LaunchRequest& request) {
    WriteText(request.stdout_fd, "built\n");
    std::ofstream(request.root->OutputHostPath("out.txt")) << "artifact";
  };
  sandbox_->process->ExitAt(seconds(1), ExitedWith(0));
  std::vector<ExecuteStage> stages;
  ExecuteOptions options;
  options.progress = [&](const ExecuteProgress& progress) { stages.push_back(progress.stage); };
  ExecuteOutcome outcome = sandbox_->Execute(MakeAction(seconds(60)), options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_THAT(stages, ElementsAre(ExecuteStage::kExecuting, ExecuteStage::kFetching,
                                  ExecuteStage::kCompleted));
  EXPECT_EQ(outcome.result->exit_code(), 0);
  EXPECT_EQ(Blob(outcome.result->stdout_digest()), "built\n");
  ASSERT_EQ(outcome.result->output_files_size(), 1);
  EXPECT_EQ(Blob(outcome.result->output_files(0).digest()), "artifact");
}

TEST_F(LocalSandboxTest, TheTimeoutKillsTheCommandAndReturnsTheStreamsSoFar) {
  sandbox_->command = [](const LaunchRequest& request) {
    WriteText(request.stdout_fd, "half done");
    WriteText(request.stderr_fd, "still going");
  };
  std::vector<ExecuteStage> stages;
  ExecuteOptions options;
  options.progress = [&](const ExecuteProgress& progress) { stages.push_back(progress.stage); };
  ExecuteOutcome outcome = sandbox_->Execute(MakeAction(seconds(30)), options);
  EXPECT_EQ(outcome.status.code(), Code::kDeadlineExceeded);
  EXPECT_THAT(outcome.status.message(), HasSubstr("timeout of 30 s"));
  EXPECT_THAT(sandbox_->process->log(), ElementsAre("kill-tree at 30000 ms", "wait-for-tree"));
  ASSERT_TRUE(outcome.result.has_value());
  EXPECT_EQ(Blob(outcome.result->stdout_digest()), "half done");
  EXPECT_EQ(Blob(outcome.result->stderr_digest()), "still going");
  EXPECT_EQ(outcome.result->output_files_size(), 0);
  EXPECT_THAT(stages, ElementsAre(ExecuteStage::kExecuting, ExecuteStage::kFetching,
                                  ExecuteStage::kCompleted));
}

TEST_F(LocalSandboxTest, CancellingTheCallStopsTheCommandWithAPartialResult) {
  sandbox_->command = [](const LaunchRequest& request) { WriteText(request.stdout_fd, "so far"); };
  ExecuteOptions options;
  options.is_cancelled = [this] { return clock_->Elapsed() >= seconds(2); };
  ExecuteOutcome outcome = sandbox_->Execute(MakeAction(std::nullopt), options);
  EXPECT_EQ(outcome.status.code(), Code::kCancelled);
  EXPECT_THAT(sandbox_->process->log(), ElementsAre("kill-tree at 2000 ms", "wait-for-tree"));
  ASSERT_TRUE(outcome.result.has_value());
  EXPECT_EQ(Blob(outcome.result->stdout_digest()), "so far");
}

TEST_F(LocalSandboxTest, CancellationByTheHostStopsTheCommandToo) {
  host_cancelled_ = [this] { return clock_->Elapsed() >= seconds(3); };
  ExecuteOptions options;
  options.is_cancelled = [] { return false; };
  ExecuteOutcome outcome = sandbox_->Execute(MakeAction(seconds(60)), options);
  EXPECT_EQ(outcome.status.code(), Code::kCancelled);
  EXPECT_THAT(sandbox_->process->log(), ElementsAre("kill-tree at 3000 ms", "wait-for-tree"));
}

TEST_F(LocalSandboxTest, ACallCancelledBeforeItStartsLaunchesNothing) {
  std::vector<ExecuteStage> stages;
  ExecuteOptions options;
  options.is_cancelled = [] { return true; };
  options.progress = [&](const ExecuteProgress& progress) { stages.push_back(progress.stage); };
  ExecuteOutcome outcome = sandbox_->Execute(MakeAction(seconds(60)), options);
  EXPECT_EQ(outcome.status.code(), Code::kCancelled);
  EXPECT_EQ(sandbox_->launches, 0);
  EXPECT_TRUE(stages.empty());
}

TEST_F(LocalSandboxTest, ACommandThatIgnoresItsKillIsKilledWithItsProcessGroup) {
  sandbox_->process->IgnoreKillTree();
  ExecuteOutcome outcome = sandbox_->Execute(MakeAction(seconds(10)), {});
  EXPECT_EQ(outcome.status.code(), Code::kDeadlineExceeded);
  EXPECT_THAT(sandbox_->process->log(),
              ElementsAre("kill-tree at 10000 ms", "kill-group at 15000 ms", "wait-for-tree"));
  EXPECT_EQ(outcome.result->exit_code(), 128 + 9);
}

TEST_F(LocalSandboxTest, AnOverlayRootThatCannotBeMountedIsRunAgainOnACopyFromThenOn) {
  ScriptedSandbox sandbox(HostServices(&services_), scratch_ + "/overlays", clock_,
                          /*overlays=*/true);
  std::vector<bool> overlaid;
  sandbox.command = [&](const LaunchRequest& request) {
    overlaid.push_back(request.root->overlay().has_value());
    auto process = std::make_shared<FakeSupervisedProcess>(*clock_);
    auto soon = clock_->Elapsed() + milliseconds(10);
    if (request.root->overlay()) {
      // As bwrap's or chroot's child does when the mount fails.
      process->OutputAt(soon, ProcessStream::kStatus, kOverlayFailedStatus);
      process->ExitAt(soon, ExitedWith(1));
    } else {
      WriteText(request.stdout_fd, "ran");
      process->ExitAt(soon, ExitedWith(0));
    }
    sandbox.process = process;
  };
  for (int run = 0; run < 2; ++run) {
    ExecuteOutcome outcome = sandbox.Execute(MakeAction(seconds(60), /*with_output=*/false), {});
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    EXPECT_EQ(outcome.result->exit_code(), 0);
    EXPECT_EQ(Blob(outcome.result->stdout_digest()), "ran");
  }
  EXPECT_THAT(overlaid, ElementsAre(true, false, false));
}

}  // namespace
}  // namespace cairn::testing
