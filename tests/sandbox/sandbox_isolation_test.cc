// Isolation, for each local sandbox: what an action cannot do or see.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cairn/sandbox_common/scratch_janitor.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

class SandboxIsolationTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!RunningAsRoot()) GTEST_SKIP() << "the sandbox tests need root; CI runs as root";
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    StatusOr<Digest> root = harness_.ImportBusyboxRoot(
        {{"build/input.txt", "staged input\n"}, {"etc/config", "config\n"}});
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    root_ = *root;
    auto sandbox = harness_.OpenSandbox(GetParam());
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    sandbox_ = std::move(*sandbox);
  }

  ExecuteOutcome Run(const ActionOptions& options) {
    StatusOr<Action> action = harness_.MakeAction(root_, options);
    EXPECT_TRUE(action.ok()) << action.status().ToString();
    return sandbox_->Execute(*action, ExecuteOptions());
  }
  std::string Stdout(const ExecuteOutcome& outcome) {
    return outcome.result ? ReadText(harness_.cas(), outcome.result->stdout_digest()) : "";
  }

  SandboxHarness harness_;
  Digest root_;
  std::unique_ptr<Sandbox> sandbox_;
};

TEST_P(SandboxIsolationTest, WritingOutsideTheWritablePartsFailsAndTheStoreStaysIntact) {
  std::map<std::string, std::string> before = harness_.SnapshotObjects();
  ActionOptions options;
  // Every attempt prints a line only when it succeeds; the writable working
  // directory holds a private copy of the staged input.
  options.arguments = {"sh", "-c",
                       "for target in /bin/busybox /etc/config /newfile /build/../etc/new; do "
                       "  (echo x >> $target) 2>/dev/null && echo WROTE $target; done; "
                       "rm -f /bin/busybox 2>/dev/null && echo REMOVED; "
                       "chmod 777 /etc/config 2>/dev/null && echo CHMOD; "
                       "mount -o remount,rw / 2>/dev/null && echo REMOUNTED; "
                       "touch /etc/config 2>/dev/null && echo TOUCHED; "
                       "echo changed >> input.txt && echo tmp > /tmp/t && cat /tmp/t"};
  options.output_paths = {"input.txt"};
  ExecuteOutcome outcome = Run(options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "tmp\n");
  ASSERT_EQ(outcome.result->output_files_size(), 1);
  EXPECT_EQ(ReadText(harness_.cas(), outcome.result->output_files(0).digest()),
            "staged input\nchanged\n");

  StatusOr<VerifyReport> report = harness_.cas().Verify(false);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->problems, 0u) << report->lines;
  // Every object that existed is unchanged (new ones are the outputs).
  std::map<std::string, std::string> after = harness_.SnapshotObjects();
  for (const auto& [path, fingerprint] : before) {
    ASSERT_TRUE(after.count(path)) << path << " disappeared";
    EXPECT_EQ(after[path], fingerprint) << path;
  }
}

std::string ReadHostFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes under /proc/sys are checked by file owner, so a uid-0 command with
// no capabilities could change host-wide settings through a writable procfs
// (core_pattern runs a program as root on the next crash). The sandbox's
// /proc/sys, /proc/sysrq-trigger, /proc/irq and /proc/bus must be read-only.
// The probe writes core_pattern's own value back, so that even a regression
// (or tests running in parallel) never leaves the host with another one;
// the shell's status tells whether the write got through. Never write
// /proc/sysrq-trigger here, not even a harmless value.
TEST_P(SandboxIsolationTest, HostWideSettingsUnderProcSysCannotBeWritten) {
  const std::string core_pattern = "/proc/sys/kernel/core_pattern";
  const std::string before = ReadHostFile(core_pattern);
  ASSERT_FALSE(before.empty()) << "cannot read " << core_pattern;
  ActionOptions options;
  options.arguments = {
      "sh", "-c",
      "pattern=/proc/sys/kernel/core_pattern; value=$(cat $pattern) && echo readable; "
      "(printf '%s\\n' \"$value\" > $pattern) 2>/dev/null && echo WROTE $pattern; "
      "(echo cairn-sandbox-probe > /proc/sys/kernel/hostname) 2>/dev/null && echo WROTE hostname; "
      "while read id parent device root point flags rest; do case $point in "
      "  /proc/sys|/proc/sysrq-trigger|/proc/irq|/proc/bus) echo $point ${flags%%,*};; esac; "
      "done < /proc/self/mountinfo | sort"};
  ExecuteOutcome outcome = Run(options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(ReadHostFile(core_pattern), before) << "the host's core_pattern changed";
  std::string expected = "readable\n";
  for (const char* cover : {"/proc/bus", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}) {
    if (access(cover, F_OK) == 0) expected += std::string(cover) + " ro\n";
  }
  EXPECT_EQ(Stdout(outcome), expected);
}

TEST_P(SandboxIsolationTest, HostFilesThatWereNotStagedAreNotVisible) {
  std::string secret = harness_.base_dir() + "/host-secret";
  std::ofstream(secret) << "top secret\n";
  ActionOptions options;
  options.arguments = {"sh", "-c",
                       "cat " + secret +
                           " 2>/dev/null; cat /etc/passwd 2>/dev/null; "
                           "ls /usr /work /home /root 2>/dev/null; ls / | tr '\\n' ' '"};
  ExecuteOutcome outcome = Run(options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "bin build dev etc proc tmp ");
}

TEST_P(SandboxIsolationTest, AHostTcpServerOnLoopbackCannotBeReached) {
  int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(server, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(server, 8), 0);
  socklen_t length = sizeof(address);
  getsockname(server, reinterpret_cast<sockaddr*>(&address), &length);
  std::string port = std::to_string(ntohs(address.sin_port));

  ActionOptions options;
  options.arguments = {
      "sh", "-c", "echo hello | nc -w 2 127.0.0.1 " + port + " && echo CONNECTED || echo REFUSED"};
  ExecuteOutcome outcome = Run(options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "REFUSED\n");
  pollfd waiting{server, POLLIN, 0};
  EXPECT_EQ(poll(&waiting, 1, 0), 0) << "the server saw a connection";

  // Control: with network=on the same server is reachable, so the check
  // above is about the sandbox and not about nc.
  // The server accepts and hangs up, so nc finishes.
  std::thread acceptor([server] {
    pollfd incoming{server, POLLIN, 0};
    if (poll(&incoming, 1, 10000) == 1) close(accept(server, nullptr, nullptr));
  });
  options.platform = {{"network", "on"}};
  ExecuteOutcome networked = Run(options);
  acceptor.join();
  ASSERT_TRUE(networked.status.ok()) << networked.status.ToString();
  EXPECT_EQ(Stdout(networked), "CONNECTED\n");
  close(server);
}

// A sleep duration no other test process uses, so the check for survivors
// cannot see another test's processes when ctest runs tests in parallel.
std::string UniqueSleepMarker() { return "9" + std::to_string(100000 + getpid() % 800000); }

TEST_P(SandboxIsolationTest, ABackgroundProcessIsKilledAtTimeout) {
  ActionOptions options;
  const std::string marker = UniqueSleepMarker();
  options.arguments = {"sh", "-c", "sleep " + marker + "1 & echo started; sleep " + marker + "2"};
  options.timeout_seconds = 1;
  ExecuteOutcome outcome = Run(options);
  EXPECT_EQ(outcome.status.code(), Code::kDeadlineExceeded) << outcome.status.ToString();
  ASSERT_TRUE(outcome.result.has_value()) << "a partial result carries the streams so far";
  EXPECT_EQ(Stdout(outcome), "started\n");
  EXPECT_TRUE(ProcessesMatching(marker).empty())
      << "still running: " << ProcessesMatching(marker).front();
}

TEST_P(SandboxIsolationTest, ABackgroundProcessDiesWhenTheCommandExits) {
  ActionOptions options;
  const std::string marker = UniqueSleepMarker();
  options.arguments = {"sh", "-c", "(sleep " + marker + "3 >/dev/null 2>&1 &); echo done"};
  ExecuteOutcome outcome = Run(options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "done\n");
  EXPECT_TRUE(ProcessesMatching(marker).empty());
}

TEST_P(SandboxIsolationTest, HostCancellationStopsEveryProcess) {
  ActionOptions options;
  const std::string marker = UniqueSleepMarker();
  options.arguments = {"sh", "-c", "sleep " + marker + "4 & sleep " + marker + "5"};
  std::thread canceller([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    harness_.Cancel();
  });
  ExecuteOutcome outcome = Run(options);
  canceller.join();
  EXPECT_EQ(outcome.status.code(), Code::kCancelled) << outcome.status.ToString();
  EXPECT_TRUE(ProcessesMatching(marker).empty());
}

TEST_P(SandboxIsolationTest, TheHostEnvironmentDoesNotLeakIn) {
  setenv("CAIRN_LEAK_CANARY", "leaked", 1);
  ActionOptions options;
  options.arguments = {"/bin/env"};
  options.environment = {{"ONLY", "this"}};
  ExecuteOutcome outcome = Run(options);
  unsetenv("CAIRN_LEAK_CANARY");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  // PWD is the one variable the sandbox adds (bwrap always sets it).
  EXPECT_EQ(Stdout(outcome), "ONLY=this\nPWD=/build\n");
}

// PID 1 is bwrap's namespace init (with bwrap's command line) or the
// chroot sandbox's init (a clone of the host process): /proc/1/cmdline is
// readable by every process inside, and must show nothing of the host.
TEST_P(SandboxIsolationTest, PidOneShowsNothingOfTheHostsCommandLine) {
  ActionOptions options;
  options.arguments = {"sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; cat /proc/1/comm"};
  ExecuteOutcome outcome = Run(options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  std::string shown = Stdout(outcome);
  EXPECT_EQ(shown.find(harness_.base_dir()), std::string::npos) << shown;
  EXPECT_EQ(shown.find("/tmp/"), std::string::npos) << shown;
  EXPECT_EQ(shown.find(program_invocation_short_name), std::string::npos) << shown;
  EXPECT_NE(shown.find_first_not_of(" \n"), std::string::npos) << "nothing shown at all";
}

TEST_P(SandboxIsolationTest, UnixUidAndGidAreHonoured) {
  ActionOptions options;
  options.arguments = {"sh", "-c", "id -u; id -g; echo made > out"};
  options.platform = {{"unixGID", "4321"}, {"unixUID", "1234"}};
  options.output_paths = {"out"};
  ExecuteOutcome outcome = Run(options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "1234\n4321\n");
  EXPECT_EQ(outcome.result->output_files_size(), 1);
}

TEST_P(SandboxIsolationTest, TheScratchDirectoryIsRemovedAfterEveryRun) {
  ActionOptions options;
  options.arguments = {"sh", "-c", "mkdir -p locked/deeper && chmod 0 locked/deeper locked"};
  ExecuteOutcome outcome = Run(options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  // Removal happens in the background; destroying the sandbox finishes it.
  sandbox_.reset();
  std::string listing = harness_.scratch_dir();
  // But for the staged roots kept for other runs (and processes).
  std::string command = "test -z \"$(ls -A " + listing + " | grep -vx " + GetParam() + "-roots)\"";
  EXPECT_EQ(std::system(command.c_str()), 0) << "leftovers in " << listing;
}

// How many staged roots the sandbox keeps in its scratch directory now.
int SharedRootsIn(const std::string& scratch_dir, const std::string& sandbox) {
  int count = 0;
  DIR* dir = opendir((scratch_dir + "/" + sandbox + "-roots").c_str());
  if (dir == nullptr) return 0;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

TEST_P(SandboxIsolationTest, ASecondRunOfTheSameRootDoesNotSeeTheFirstRunsWrites) {
  ActionOptions writer;
  writer.arguments = {"sh", "-c",
                      "echo changed >> input.txt; echo new > made.txt; mkdir dir; "
                      "echo t > /tmp/left; (echo x >> /etc/config) 2>/dev/null; echo wrote"};
  ExecuteOutcome first = Run(writer);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  ASSERT_EQ(Stdout(first), "wrote\n");

  ActionOptions reader;
  reader.arguments = {"sh", "-c", "cat input.txt /etc/config; ls -A . /tmp"};
  ExecuteOutcome second = Run(reader);
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(Stdout(second), "staged input\nconfig\n.:\ninput.txt\n\n/tmp:\n");
  // Both runs used the one staged root, so the check above is about reuse.
  EXPECT_EQ(SharedRootsIn(harness_.scratch_dir(), GetParam()), 1);
}

// The root as working directory with nothing to capture (`cairn run
// --root DIR -- CMD`, `cairn shell`): the whole root is writable, through
// an overlay over the shared staged root rather than a copy of it
// (staged_root.h). Whatever the command does to the root, the store's
// objects and the next run are untouched, and no mount is left on the host.
TEST_P(SandboxIsolationTest, TheRootAsWorkingDirectoryIsAWritableOverlayThatLeavesNothingBehind) {
  std::map<std::string, std::string> before = harness_.SnapshotObjects();
  ActionOptions writer;
  writer.working_directory = "";
  writer.arguments = {"sh", "-c",
                      "chmod 666 /etc/config && echo changed >> etc/config && "
                      "rm build/input.txt && rm /bin/cat && "
                      "mkdir -p new/dir && echo made > new/dir/file && "
                      "grep -c ' / / .* - overlay ' /proc/self/mountinfo; echo wrote"};
  ExecuteOutcome first = Run(writer);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_EQ(Stdout(first), "1\nwrote\n") << "the root is not a writable overlay: "
                                         << ReadText(harness_.cas(), first.result->stderr_digest());

  std::map<std::string, std::string> after = harness_.SnapshotObjects();
  for (const auto& [path, fingerprint] : before) {
    ASSERT_TRUE(after.count(path)) << path << " disappeared";
    EXPECT_EQ(after[path], fingerprint) << path;
  }
  StatusOr<VerifyReport> report = harness_.cas().Verify(false);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->problems, 0u) << report->lines;
  EXPECT_EQ(ReadHostFile("/proc/self/mountinfo").find(harness_.scratch_dir()), std::string::npos)
      << "a mount of the run is left on the host";

  ActionOptions reader;
  reader.working_directory = "";
  reader.arguments = {"sh", "-c", "cat etc/config build/input.txt; ls -ld etc/config new"};
  ExecuteOutcome second = Run(reader);
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(Stdout(second).substr(0, 30), "config\nstaged input\n-r--r--r--") << Stdout(second);
  EXPECT_EQ(Stdout(second).find("new"), std::string::npos) << Stdout(second);
}

TEST_P(SandboxIsolationTest, ConcurrentRunsOfTheSameRootEachSeeOnlyTheirOwnWrites) {
  constexpr int kRuns = 4;
  std::vector<Action> actions;
  for (int i = 0; i < kRuns; ++i) {
    ActionOptions options;
    options.arguments = {"sh", "-c", "echo $RUN >> input.txt; sleep 0.3; cat input.txt"};
    options.environment = {{"PATH", "/bin"}, {"RUN", std::to_string(i)}};
    StatusOr<Action> action = harness_.MakeAction(root_, options);
    ASSERT_TRUE(action.ok()) << action.status().ToString();
    actions.push_back(*action);
  }
  std::vector<ExecuteOutcome> outcomes(kRuns);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRuns; ++i) {
    threads.emplace_back([&, i] { outcomes[i] = sandbox_->Execute(actions[i], ExecuteOptions()); });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_TRUE(outcomes[i].status.ok()) << outcomes[i].status.ToString();
    EXPECT_EQ(Stdout(outcomes[i]), "staged input\n" + std::to_string(i) + "\n");
  }
}

INSTANTIATE_TEST_SUITE_P(LocalSandboxes, SandboxIsolationTest, ::testing::Values("bwrap", "chroot"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace cairn::testing
