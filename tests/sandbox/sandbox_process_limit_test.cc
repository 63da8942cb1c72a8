// max-processes, for each local sandbox: a burst of processes past the
// limit fails inside the action, and the limit's cgroup goes with the run.
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cairn/sandbox_common/process_limit.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

std::vector<std::string> EntriesStartingWith(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> names;
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (struct dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  closedir(handle);
  return names;
}

class SandboxProcessLimitTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!RunningAsRoot()) GTEST_SKIP() << "the sandbox tests need root; CI runs as root";
    // As root, only a pids cgroup binds: RLIMIT_NPROC is not enforced for
    // the host's root user.
    StatusOr<std::unique_ptr<PidsCgroup>> probe =
        PidsCgroup::Create("cairn-test-probe-" + std::to_string(getpid()), 8);
    if (!probe.ok())
      GTEST_SKIP() << "no pids cgroup can be made here: " << probe.status().ToString();
    std::string path = (*probe)->path();
    cgroup_parent_ = path.substr(0, path.rfind('/'));
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    StatusOr<Digest> root = harness_.ImportBusyboxRoot();
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    root_ = *root;
  }

  ExecuteOutcome Run(const std::string& sandbox_options, const std::string& script) {
    auto sandbox = harness_.OpenSandbox(GetParam(), sandbox_options);
    EXPECT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    ExecuteOutcome outcome;
    if (!sandbox.ok()) return outcome;
    ActionOptions options;
    options.arguments = {"sh", "-c", script};
    options.timeout_seconds = 60;  // bounds the test whatever happens
    StatusOr<Action> action = harness_.MakeAction(root_, options);
    EXPECT_TRUE(action.ok()) << action.status().ToString();
    return (*sandbox)->Execute(*action, ExecuteOptions());
  }

  SandboxHarness harness_;
  Digest root_;
  std::string cgroup_parent_;
};

// 200 short sleeps in the background: bounded in count and in time even
// without the limit (they would all end after 5 s).
constexpr const char* kBurst = "for i in $(seq 200); do sleep 5 & done; wait; echo all started";

TEST_P(SandboxProcessLimitTest, ABurstOfProcessesPastMaxProcessesFailsToFork) {
  ExecuteOutcome outcome = Run("max-processes: 64\n", kBurst);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  ASSERT_TRUE(outcome.result.has_value());
  EXPECT_NE(outcome.result->exit_code(), 0);
  EXPECT_EQ(ReadText(harness_.cas(), outcome.result->stdout_digest()), "");
  EXPECT_NE(ReadText(harness_.cas(), outcome.result->stderr_digest()).find("fork"),
            std::string::npos)
      << ReadText(harness_.cas(), outcome.result->stderr_digest());
  const std::string ours = "cairn-" + GetParam() + "-" + std::to_string(getpid()) + "-";
  EXPECT_TRUE(EntriesStartingWith(cgroup_parent_, ours).empty())
      << "the run's pids cgroup was left in " << cgroup_parent_;
}

TEST_P(SandboxProcessLimitTest, TheSameBurstRunsUnderTheDefaultLimit) {
  ExecuteOutcome outcome =
      Run("", "for i in $(seq 200); do sleep 1 & done; wait; echo all started");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(outcome.result->exit_code(), 0);
  EXPECT_EQ(ReadText(harness_.cas(), outcome.result->stdout_digest()), "all started\n");
}

TEST_P(SandboxProcessLimitTest, MaxProcessesMustBeAPositiveNumber) {
  auto sandbox = harness_.OpenSandbox(GetParam(), "max-processes: 0\n");
  ASSERT_FALSE(sandbox.ok());
  EXPECT_EQ(sandbox.status().code(), Code::kInvalidArgument);
  EXPECT_NE(sandbox.status().message().find("max-processes"), std::string::npos)
      << sandbox.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(LocalSandboxes, SandboxProcessLimitTest,
                         ::testing::Values("bwrap", "chroot"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

std::string OwnCgroups() {
  std::ifstream in("/proc/self/cgroup");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Where no pids cgroup can be made, the limit is RLIMIT_NPROC, which the
// kernel applies to users other than root: a child that joins the limit as
// an unprivileged user gets EAGAIN from fork past it.
TEST(ProcessLimitFallbackTest, WithoutACgroupRlimitNprocStopsForksPastTheLimit) {
  if (!RunningAsRoot()) GTEST_SKIP() << "switching to an unprivileged user needs root";
  // The user's processes elsewhere count too: an unused uid has none.
  // (one per test process: several may run this test at once).
  const uid_t unused_uid = 60000 + static_cast<uid_t>(getpid() % 5000);
  constexpr int kLimit = 8;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(unused_uid) != 0 || setuid(unused_uid) != 0) _exit(101);
    if (JoinProcessLimit(-1, kLimit) != 0) _exit(102);
    pid_t sleepers[2 * kLimit];
    int started = 0;
    for (int i = 0; i < 2 * kLimit; ++i) {
      pid_t sleeper = fork();
      if (sleeper == 0) {
        pause();
        _exit(0);
      }
      if (sleeper < 0) break;
      sleepers[started++] = sleeper;
    }
    for (int i = 0; i < started; ++i) {
      kill(sleepers[i], SIGKILL);
      waitpid(sleepers[i], nullptr, 0);
    }
    _exit(started);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_LT(WEXITSTATUS(status), 100) << "the child could not switch user or set the limit";
  // The child itself is one of the user's processes: at most kLimit - 1
  // more, and without the limit it would have started all 2 * kLimit.
  EXPECT_GT(WEXITSTATUS(status), 0) << "no fork worked at all";
  EXPECT_LT(WEXITSTATUS(status), kLimit) << "forks did not stop at RLIMIT_NPROC";
}

// Reads keeper.moves() until `done` says yes, for at most 10 s.
template <typename Done>
bool WaitForMoves(const CgroupMoveKeeper& keeper, Done done) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done(keeper.moves())) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TEST(CgroupMoveKeeperTest, MovesOnlyWhileHeldAndLeavesThisProcessInItsCgroups) {
  std::string before = OwnCgroups();
  ASSERT_FALSE(before.empty());
  StatusOr<std::unique_ptr<PidsCgroup>> cgroup =
      PidsCgroup::Create("cairn-test-keeper-" + std::to_string(getpid()), 8);
  CgroupMoveKeeper keeper;
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(keeper.moves(), 0u) << "moves made with nobody holding";
  {
    CgroupMoveKeeper::Hold hold(&keeper);
    if (cgroup.ok()) {
      EXPECT_TRUE(WaitForMoves(keeper, [](uint64_t moves) { return moves >= 3; }))
          << "a held keeper made " << keeper.moves() << " moves";
    }
  }
  // After the linger, the moves stop: two reads 100 ms apart agree.
  uint64_t last = keeper.moves();
  EXPECT_TRUE(WaitForMoves(keeper, [&last](uint64_t moves) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    bool still = moves == last;
    last = moves;
    return still;
  })) << "the moves went on after the hold ended";
  EXPECT_EQ(OwnCgroups(), before);
}

}  // namespace
}  // namespace cairn::testing
