// The bwrap sandbox's host-tools mode (`host-tools: true`), with the real
// bwrap: actions that carry only their declared inputs (Bazel's, recc's)
// run the host's own tools on a read-only view of the host, in their input
// root, with the network off.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cairn/sandbox_common/command_resolver.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

constexpr const char* kHostPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::vector<std::string> SortedLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  return lines;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

class BwrapHostToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RunningAsRoot()) GTEST_SKIP() << "the sandbox tests need root; CI runs as root";
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    auto sandbox = harness_.OpenSandbox("bwrap", "host-tools: true\n");
    if (!sandbox.ok() && sandbox.status().code() == Code::kFailedPrecondition) {
      GTEST_SKIP() << "no bwrap here: " << sandbox.status().ToString();
    }
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    sandbox_ = std::move(*sandbox);
  }

  // An input root holding only `files` (relative path -> content; a path
  // ending in '*' is made executable), captured into the store.
  Digest ImportInputs(const std::map<std::string, std::string>& files) {
    std::string root = harness_.base_dir() + "/inputs-" + std::to_string(trees_++);
    EXPECT_EQ(mkdir(root.c_str(), 0755), 0);
    for (const auto& [name, content] : files) {
      bool executable = name.back() == '*';
      std::string path = root + "/" + (executable ? name.substr(0, name.size() - 1) : name);
      for (size_t slash = path.find('/', root.size() + 1); slash != std::string::npos;
           slash = path.find('/', slash + 1)) {
        mkdir(path.substr(0, slash).c_str(), 0755);
      }
      std::ofstream(path, std::ios::binary) << content;
      chmod(path.c_str(), executable ? 0755 : 0644);
    }
    StatusOr<CapturedTree> tree = harness_.cas().CaptureTree(root, CaptureOptions{});
    EXPECT_TRUE(tree.ok()) << tree.status().ToString();
    return tree.ok() ? tree->root : Digest();
  }

  ExecuteOutcome Run(Sandbox& sandbox, const Digest& root, const ActionOptions& options) {
    StatusOr<Action> action = harness_.MakeAction(root, options);
    EXPECT_TRUE(action.ok()) << action.status().ToString();
    if (!action.ok()) {
      ExecuteOutcome failed;
      failed.status = action.status();
      return failed;
    }
    return sandbox.Execute(*action, ExecuteOptions());
  }
  ExecuteOutcome Run(const Digest& root, const ActionOptions& options) {
    return Run(*sandbox_, root, options);
  }
  std::string Stdout(const ExecuteOutcome& outcome) {
    return outcome.result ? ReadText(harness_.cas(), outcome.result->stdout_digest()) : "";
  }
  std::string Stderr(const ExecuteOutcome& outcome) {
    return outcome.result ? ReadText(harness_.cas(), outcome.result->stderr_digest()) : "";
  }
  // The content of output file `path`, or "<missing>".
  std::string OutputFile(const ExecuteOutcome& outcome, const std::string& path) {
    if (!outcome.result) return "<missing>";
    for (const auto& file : outcome.result->output_files()) {
      if (file.path() == path) return ReadText(harness_.cas(), file.digest());
    }
    return "<missing>";
  }

  SandboxHarness harness_;
  std::unique_ptr<Sandbox> sandbox_;
  int trees_ = 0;
};

TEST_F(BwrapHostToolsTest, HostToolsRunInTheInputRootAndTheirOutputIsCaptured) {
  Digest root = ImportInputs({{"in.txt", "hello host tools\n"}});
  ActionOptions options;
  options.arguments = {"/bin/sh", "-c", "tr a-z A-Z < in.txt > out/OUT.txt && ls"};
  options.environment = {};
  options.working_directory = "";
  options.output_paths = {"out/OUT.txt"};
  ExecuteOutcome outcome = Run(root, options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(outcome.result->exit_code(), 0) << Stderr(outcome);
  EXPECT_EQ(Stdout(outcome), "in.txt\nout\n");
  ASSERT_EQ(outcome.result->output_files_size(), 1);
  EXPECT_EQ(OutputFile(outcome, "out/OUT.txt"), "HELLO HOST TOOLS\n");
}

TEST_F(BwrapHostToolsTest, AWorkingDirectoryBelowTheInputRootHoldsItsInputsAtAStablePath) {
  Digest root = ImportInputs({{"sub/in.txt", "one\ntwo\nthree\n"}, {"other.txt", "x\n"}});
  ActionOptions options;
  options.arguments = {"sh", "-c", "wc -l < in.txt > count.txt && cat ../other.txt && pwd"};
  options.environment = {{"PATH", kHostPath}};
  options.working_directory = "sub";
  options.output_paths = {"count.txt"};
  ExecuteOutcome first = Run(root, options);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_EQ(first.result->exit_code(), 0) << Stderr(first);
  EXPECT_EQ(OutputFile(first, "count.txt"), "3\n");
  std::string out = Stdout(first);
  ASSERT_EQ(out.rfind("x\n", 0), 0u) << out;
  std::string pwd = out.substr(2);
  EXPECT_EQ(pwd.size() >= 5 ? pwd.substr(pwd.size() - 5) : pwd, "/sub\n");
  // Another run of the same action sees its inputs at the same path, so
  // paths the tools record do not vary from run to run.
  ExecuteOutcome second = Run(root, options);
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(Stdout(second), out);
}

TEST_F(BwrapHostToolsTest, WritingOutsideTheInputRootFailsAsReadOnlyAndTheStoreStaysIntact) {
  Digest root = ImportInputs({{"in.txt", "staged\n"}});
  const char* home = std::getenv("HOME");
  std::string home_target =
      std::string(home != nullptr && home[0] == '/' ? home : "/root") + "/cairn-host-tools-probe";
  std::vector<std::string> targets = {"/usr/cairn-host-tools-probe", "/etc/cairn-host-tools-probe",
                                      home_target, "/cairn-host-tools-probe"};
  std::string script;
  for (const std::string& target : targets) {
    script += "(echo x > " + target + ") && echo WROTE " + target + "; ";
  }
  // The private /tmp and the input root are writable; /run is an empty
  // tmpfs, so no host socket there can be reached.
  script +=
      "echo changed >> in.txt && echo tmp > /tmp/t && cat /tmp/t && ls -A /run | wc -l; "
      "mount -o remount,rw / 2>/dev/null && echo REMOUNTED";
  ActionOptions options;
  options.arguments = {"sh", "-c", script};
  options.environment = {{"PATH", kHostPath}};
  options.working_directory = "";
  options.output_paths = {"in.txt"};
  ExecuteOutcome outcome = Run(root, options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "tmp\n0\n");
  std::string errors = Stderr(outcome);
  EXPECT_EQ(Count(errors, "Read-only file system"), targets.size()) << errors;
  for (const std::string& target : targets) {
    EXPECT_NE(access(target.c_str(), F_OK), 0) << target << " was created on the host";
    unlink(target.c_str());
  }
  EXPECT_EQ(OutputFile(outcome, "in.txt"), "staged\nchanged\n");
  // The input was a private copy: the store's object is what it was.
  StatusOr<VerifyReport> report = harness_.cas().Verify(false);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->problems, 0u) << report->lines;
}

TEST_F(BwrapHostToolsTest, TheNetworkIsOffUnlessThePlatformAsksForIt) {
  if (access("/bin/bash", X_OK) != 0) GTEST_SKIP() << "the probe connects with bash's /dev/tcp";
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

  Digest root = ImportInputs({{"in.txt", "x\n"}});
  ActionOptions options;
  options.arguments = {"/bin/bash", "-c",
                       "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; "
                       "(exec 3<>/dev/tcp/127.0.0.1/" +
                           port + ") 2>/dev/null && echo CONNECTED || echo REFUSED"};
  options.environment = {{"PATH", kHostPath}};
  options.working_directory = "";
  options.timeout_seconds = 60;
  ExecuteOutcome outcome = Run(root, options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "lo\nREFUSED\n") << Stderr(outcome);
  pollfd waiting{server, POLLIN, 0};
  EXPECT_EQ(poll(&waiting, 1, 0), 0) << "the server saw a connection";

  // Control: with network=on the same server is reachable, so the check
  // above is about the sandbox and not about the probe.
  std::thread acceptor([server] {
    pollfd incoming{server, POLLIN, 0};
    if (poll(&incoming, 1, 10000) == 1) close(accept(server, nullptr, nullptr));
  });
  options.arguments = {
      "/bin/bash", "-c",
      "(exec 3<>/dev/tcp/127.0.0.1/" + port + ") 2>/dev/null && echo CONNECTED || echo REFUSED"};
  options.platform = {{"network", "on"}};
  ExecuteOutcome networked = Run(root, options);
  acceptor.join();
  close(server);
  ASSERT_TRUE(networked.status.ok()) << networked.status.ToString();
  EXPECT_EQ(Stdout(networked), "CONNECTED\n");
}

TEST_F(BwrapHostToolsTest, ABareNameIsFoundThroughTheCommandsPathOnTheHost) {
  Digest root = ImportInputs({{"in.txt", "x\n"}});
  ActionOptions options;
  options.arguments = {"sh", "-c", "echo found $0"};
  options.environment = {{"PATH", "/nonexistent:/usr/bin:/bin"}};
  options.working_directory = "";
  ExecuteOutcome outcome = Run(root, options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(outcome.result->exit_code(), 0) << Stderr(outcome);
  EXPECT_EQ(Stdout(outcome), "found sh\n");

  // Looked up before the sandbox starts: a clear error, not exit code 127.
  options.arguments = {"cairn-no-such-tool"};
  ExecuteOutcome missing = Run(root, options);
  EXPECT_EQ(missing.status.code(), Code::kFailedPrecondition) << missing.status.ToString();
  EXPECT_NE(missing.status.message().find("cairn-no-such-tool"), std::string::npos);
  EXPECT_NE(missing.status.message().find("PATH=/nonexistent:/usr/bin:/bin"), std::string::npos);
}

TEST_F(BwrapHostToolsTest, ARelativeProgramRunsFromTheWorkingDirectoryInTheInputRoot) {
  Digest root = ImportInputs({{"sub/tool.sh*", "#!/bin/sh\necho tool ran in \"${PWD##*/}\"\n"}});
  ActionOptions options;
  options.arguments = {"./tool.sh"};
  options.environment = {{"PATH", kHostPath}};
  options.working_directory = "sub";
  ExecuteOutcome outcome = Run(root, options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(outcome.result->exit_code(), 0) << Stderr(outcome);
  EXPECT_EQ(Stdout(outcome), "tool ran in sub\n");
}

TEST_F(BwrapHostToolsTest, TheEnvironmentIsExactlyTheCommands) {
  Digest root = ImportInputs({{"in.txt", "x\n"}});
  ActionOptions options;
  options.arguments = {"env"};
  options.environment = {{"GREETING", "hello"}, {"PATH", "/usr/bin:/bin"}};
  options.working_directory = "";
  ExecuteOutcome outcome = Run(root, options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  std::vector<std::string> lines = SortedLines(Stdout(outcome));
  // PWD is bwrap's, as in the default mode.
  ASSERT_EQ(lines.size(), 3u) << Stdout(outcome);
  EXPECT_EQ(lines[0], "GREETING=hello");
  EXPECT_EQ(lines[1], "PATH=/usr/bin:/bin");
  EXPECT_EQ(lines[2].rfind("PWD=/", 0), 0u) << lines[2];
}

TEST_F(BwrapHostToolsTest, TheTimeoutKillsTheActionAsInTheDefaultMode) {
  Digest root = ImportInputs({{"in.txt", "x\n"}});
  ActionOptions options;
  options.arguments = {"sh", "-c", "echo started; exec sleep 600"};
  options.environment = {{"PATH", kHostPath}};
  options.working_directory = "";
  options.timeout_seconds = 1;
  ExecuteOutcome outcome = Run(root, options);
  EXPECT_EQ(outcome.status.code(), Code::kDeadlineExceeded) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "started\n");
}

TEST_F(BwrapHostToolsTest, WithoutHostToolsTheSameActionFindsNoShellInItsRoot) {
  Digest root = ImportInputs({{"in.txt", "hello\n"}});
  auto plain = harness_.OpenSandbox("bwrap");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  ActionOptions options;
  options.arguments = {"/bin/sh", "-c", "tr a-z A-Z < in.txt > out/OUT.txt"};
  options.working_directory = "";
  options.output_paths = {"out/OUT.txt"};
  ExecuteOutcome outcome = Run(**plain, root, options);
  EXPECT_EQ(outcome.status.code(), Code::kFailedPrecondition) << outcome.status.ToString();
  EXPECT_NE(outcome.status.message().find("'/bin/sh' was not found in the input root"),
            std::string::npos)
      << outcome.status.ToString();
}

TEST_F(BwrapHostToolsTest, AnInteractiveRunUsesTheHostsToolsInItsInputRootToo) {
  Digest root = ImportInputs({{"sub/in.txt", "interactive\n"}});
  ActionOptions options;
  options.arguments = {"sh", "-c", "tr a-z A-Z < in.txt; echo x > /usr/cairn-probe; exit 3"};
  options.environment = {{"PATH", kHostPath}};
  options.working_directory = "sub";
  StatusOr<Action> action = harness_.MakeAction(root, options);
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  InteractiveOptions interactive;
  interactive.stdin_fd = null_fd;
  interactive.stdout_fd = out[1];
  interactive.stderr_fd = null_fd;
  StatusOr<int> code = sandbox_->RunInteractive(*action, interactive);
  close(out[1]);
  close(null_fd);
  std::string printed;
  char buffer[256];
  for (ssize_t got; (got = read(out[0], buffer, sizeof(buffer))) > 0;) {
    printed.append(buffer, static_cast<size_t>(got));
  }
  close(out[0]);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(printed, "INTERACTIVE\n");
  EXPECT_NE(access("/usr/cairn-probe", F_OK), 0) << "/usr/cairn-probe was created on the host";
}

TEST_F(BwrapHostToolsTest, TheOptionIsABooleanAndIsListedAmongTheKnownOnes) {
  auto invalid = harness_.OpenSandbox("bwrap", "host-tools: sometimes\n");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), Code::kInvalidArgument);
  EXPECT_NE(invalid.status().message().find("host-tools"), std::string::npos)
      << invalid.status().ToString();

  auto misspelt = harness_.OpenSandbox("bwrap", "host-tool: true\n");
  ASSERT_FALSE(misspelt.ok());
  EXPECT_NE(misspelt.status().message().find("host-tools"), std::string::npos)
      << misspelt.status().ToString();
}

// ResolveHostToolsProgram on its own: no root or bwrap needed.
class HostToolsProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cairn-host-tools-resolve-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    base_ = pattern;
    root_ = base_ + "/root";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((root_ + "/sub").c_str(), 0755), 0);
    std::ofstream(root_ + "/sub/tool") << "#!/bin/sh\n";
    chmod((root_ + "/sub/tool").c_str(), 0755);
    std::ofstream(root_ + "/data") << "not a program\n";
    // A tool on the host's /tmp, which the sandbox's private /tmp hides.
    std::ofstream(base_ + "/hidden-tool") << "#!/bin/sh\n";
    chmod((base_ + "/hidden-tool").c_str(), 0755);
  }
  void TearDown() override {
    if (base_.empty()) return;
    std::string command = "rm -rf '" + base_ + "'";
    int ignored = std::system(command.c_str());
    (void)ignored;
  }
  StatusOr<std::string> Resolve(const std::string& program, const std::string& path,
                                const std::string& working_directory = "sub") {
    ActionSpec spec;
    spec.arguments = {program};
    if (!path.empty()) spec.environment = {{"PATH", path}};
    spec.working_directory = working_directory;
    return ResolveHostToolsProgram(root_, kInside, spec);
  }

  static constexpr const char* kInside = "/tmp/cairn-exec/root";
  std::string base_;
  std::string root_;
};

TEST_F(HostToolsProgramTest, ABareNameIsFoundInTheCommandsPathOnTheHost) {
  StatusOr<std::string> found = Resolve("sh", "/nonexistent:/bin");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(*found, "/bin/sh");
}

TEST_F(HostToolsProgramTest, RelativePathsAndPathEntriesStartAtTheWorkingDirectory) {
  StatusOr<std::string> relative = Resolve("sub/tool", "/bin", "");
  ASSERT_TRUE(relative.ok()) << relative.status().ToString();
  EXPECT_EQ(*relative, std::string(kInside) + "/sub/tool");
  // An empty PATH entry is the working directory, as for execvp.
  StatusOr<std::string> from_path = Resolve("tool", "/nonexistent:");
  ASSERT_TRUE(from_path.ok()) << from_path.status().ToString();
  EXPECT_EQ(*from_path, std::string(kInside) + "/sub/tool");
  StatusOr<std::string> by_inside_path = Resolve(std::string(kInside) + "/sub/tool", "", "");
  ASSERT_TRUE(by_inside_path.ok()) << by_inside_path.status().ToString();
  EXPECT_EQ(*by_inside_path, std::string(kInside) + "/sub/tool");
}

TEST_F(HostToolsProgramTest, WhatTheSandboxCannotRunIsRefusedNamingThePath) {
  for (const std::string& program : {std::string("./data"), std::string("./missing"),
                                     base_ + "/hidden-tool", std::string("cairn-no-such-tool")}) {
    StatusOr<std::string> found = Resolve(program, "/bin:" + base_);
    EXPECT_EQ(found.status().code(), Code::kFailedPrecondition) << program;
    EXPECT_NE(found.status().message().find(program), std::string::npos)
        << found.status().ToString();
  }
  StatusOr<std::string> hidden = Resolve("hidden-tool", base_);
  EXPECT_EQ(hidden.status().code(), Code::kFailedPrecondition) << hidden.status().ToString();
  EXPECT_NE(hidden.status().message().find("PATH=" + base_), std::string::npos);
}

}  // namespace
}  // namespace cairn::testing
