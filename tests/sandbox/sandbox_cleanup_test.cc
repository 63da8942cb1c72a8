// Cleanup, for each local sandbox: whatever tree an action leaves in its
// working directory, and however the host process ends, the scratch
// directory is emptied but for the staged roots kept for other runs (and
// the run's pids cgroup removed) and the host survives.
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cairn/sandbox_common/process_limit.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

// A shell command creating a chain of `depth` nested directories "d" in
// its working directory, `chunk` levels at a time (each mkdir -p path
// stays below PATH_MAX), then printing "deep".
std::string DeepChainCommand(int depth, int chunk) {
  return "c=d; i=1; while [ $i -lt " + std::to_string(chunk) +
         " ]; do c=$c/d; i=$((i+1)); done; mkdir -p $c || exit 1; n=1; while [ $n -lt " +
         std::to_string(depth / chunk) +
         " ]; do mkdir -p x/$c && mv d x/$c/ && mv x d || exit 1; n=$((n+1)); done; echo deep";
}

// The names in `dir` but `kept` (the directory of shared staged roots,
// which outlive every run by design).
std::vector<std::string> Entries(const std::string& dir, const std::string& kept = "") {
  std::vector<std::string> names;
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (struct dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name != "." && name != ".." && name != kept) names.push_back(name);
  }
  closedir(handle);
  return names;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += name + " ";
  return text;
}

class SandboxCleanupTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!RunningAsRoot()) GTEST_SKIP() << "the sandbox tests need root; CI runs as root";
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    StatusOr<Digest> root = harness_.ImportBusyboxRoot({{"build/input.txt", "input\n"}});
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    root_ = *root;
  }

  StatusOr<std::unique_ptr<Sandbox>> Open() { return harness_.OpenSandbox(GetParam()); }

  ExecuteOutcome Run(Sandbox& sandbox, const std::string& script, int timeout_seconds) {
    ActionOptions options;
    options.arguments = {"sh", "-c", script};
    options.timeout_seconds = timeout_seconds;
    StatusOr<Action> action = harness_.MakeAction(root_, options);
    if (!action.ok()) {
      ExecuteOutcome failed;
      failed.status = action.status();
      return failed;
    }
    return sandbox.Execute(*action, ExecuteOptions());
  }

  // The deep chain as the whole check, in a child process (so a crash or a
  // descriptor limit hits only the child): 0 when the run succeeded and
  // the scratch directory is empty once the sandbox is gone.
  int RunDeepChainInChild(int depth, int chunk, rlim_t max_files) {
    pid_t child = fork();
    if (child == 0) {
      struct rlimit files = {max_files, max_files};
      if (max_files > 0 && setrlimit(RLIMIT_NOFILE, &files) != 0) _exit(10);
      int code = 0;
      {
        StatusOr<std::unique_ptr<Sandbox>> sandbox = Open();
        if (!sandbox.ok()) _exit(11);
        ExecuteOutcome outcome = Run(**sandbox, DeepChainCommand(depth, chunk), 600);
        if (!outcome.status.ok()) {
          std::fprintf(stderr, "%s\n", outcome.status.ToString().c_str());
          code = 12;
        } else if (outcome.result->exit_code() != 0 ||
                   ReadText(harness_.cas(), outcome.result->stdout_digest()) != "deep\n") {
          code = 13;
        }
      }
      std::vector<std::string> left = Entries(harness_.scratch_dir(), GetParam() + "-roots");
      if (code == 0 && !left.empty()) {
        std::fprintf(stderr, "left in the scratch directory: %s\n", Joined(left).c_str());
        code = 14;
      }
      _exit(code);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child) return -1;
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
  }

  SandboxHarness harness_;
  Digest root_;
};

TEST_P(SandboxCleanupTest, A50000DeepDirectoryChainIsRemovedAndTheHostSurvives) {
  EXPECT_EQ(RunDeepChainInChild(50000, 1000, 0), 0)
      << "0: ran and cleaned up; 12/13: the run failed; 14: scratch left behind; "
         "139: the host crashed";
}

TEST_P(SandboxCleanupTest, A2000DeepChainIsRemovedUnderALimitOf1024Descriptors) {
  EXPECT_EQ(RunDeepChainInChild(2000, 1000, 1024), 0)
      << "0: ran and cleaned up; 12/13: the run failed; 14: scratch left behind";
}

TEST_P(SandboxCleanupTest, ScratchLeftByAKilledRunIsRemovedWhenASandboxIsNextCreated) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    StatusOr<std::unique_ptr<Sandbox>> sandbox = Open();
    if (!sandbox.ok()) _exit(11);
    // Killed long before it ends; the timeout bounds it if the test is not.
    Run(**sandbox, "echo started > started.txt; sleep 60", 120);
    _exit(0);
  }
  // The child's run directories are named after it.
  const std::string owned = GetParam() + "-" + std::to_string(child) + "-";
  auto left_by_child = [&] {
    std::vector<std::string> found;
    for (const std::string& name : Entries(harness_.scratch_dir())) {
      if (name.rfind(owned, 0) == 0) found.push_back(name);
    }
    return found;
  };
  // Its pids cgroup too, where one can be made here.
  std::string cgroup_parent;
  {
    StatusOr<std::unique_ptr<PidsCgroup>> probe =
        PidsCgroup::Create("cairn-test-probe-" + std::to_string(getpid()), 8);
    if (probe.ok()) cgroup_parent = (*probe)->path().substr(0, (*probe)->path().rfind('/'));
  }
  const std::string owned_cgroup = "cairn-" + owned;
  auto cgroups_of_child = [&] {
    std::vector<std::string> found;
    if (cgroup_parent.empty()) return found;
    for (const std::string& name : Entries(cgroup_parent)) {
      if (name.rfind(owned_cgroup, 0) == 0) found.push_back(name);
    }
    return found;
  };
  // Running once its root is published (the shared roots' directory
  // outlives it) and its run directory is made.
  const std::string shared_roots = harness_.scratch_dir() + "/" + GetParam() + "-roots";
  for (int tries = 0; tries < 600 && (left_by_child().empty() || Entries(shared_roots).empty() ||
                                      (!cgroup_parent.empty() && cgroups_of_child().empty()));
       ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::vector<std::string> before = left_by_child();
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_GE(before.size(), 1u) << "the killed run's run directory, named " << owned
                               << "..., were expected in " << harness_.scratch_dir()
                               << "; found: " << Joined(Entries(harness_.scratch_dir()));

  {
    StatusOr<std::unique_ptr<Sandbox>> next = Open();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
  }  // its janitor finishes the removal
  EXPECT_TRUE(left_by_child().empty()) << Joined(left_by_child());
  if (!cgroup_parent.empty()) {
    EXPECT_TRUE(cgroups_of_child().empty())
        << "left in " << cgroup_parent << ": " << Joined(cgroups_of_child());
  }
}

INSTANTIATE_TEST_SUITE_P(LocalSandboxes, SandboxCleanupTest, ::testing::Values("bwrap", "chroot"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace cairn::testing
