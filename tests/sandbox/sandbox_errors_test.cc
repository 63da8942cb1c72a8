// Capabilities, refusals and clear errors — and the CAS untouched by them.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "cairn/plugin.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

class SandboxErrorsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!RunningAsRoot()) GTEST_SKIP() << "the sandbox tests need root; CI runs as root";
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    StatusOr<Digest> root = harness_.ImportBusyboxRoot();
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    root_ = *root;
    auto sandbox = harness_.OpenSandbox(GetParam());
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    sandbox_ = std::move(*sandbox);
  }

  // Objects in the store, not counting the executable variants ("....x")
  // that staging an executable makes of an object already there.
  size_t CountObjects() {
    size_t count = 0;
    for (const auto& [path, fingerprint] : harness_.SnapshotObjects()) {
      if (path.size() < 2 || path.compare(path.size() - 2, 2, ".x") != 0) ++count;
    }
    return count;
  }

  // Runs the action and checks that the store gained nothing.
  ExecuteOutcome RunExpectingNoNewObjects(const ActionOptions& options) {
    StatusOr<Action> action = harness_.MakeAction(root_, options);
    EXPECT_TRUE(action.ok());
    size_t before = CountObjects();
    ExecuteOutcome outcome = sandbox_->Execute(*action, ExecuteOptions());
    EXPECT_EQ(CountObjects(), before) << "the CAS was written to";
    return outcome;
  }

  SandboxHarness harness_;
  Digest root_;
  std::unique_ptr<Sandbox> sandbox_;
};

TEST_P(SandboxErrorsTest, CapabilitiesReportOsFamilyIsaAndFlags) {
  StatusOr<SandboxCapabilities> capabilities = sandbox_->Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
  std::map<std::string, std::string> properties;
  for (const auto& property : capabilities->platform.properties()) {
    properties[property.name()] = property.value();
  }
  EXPECT_EQ(properties["OSFamily"], "linux");
  EXPECT_FALSE(properties["ISA"].empty());
  EXPECT_EQ(capabilities->flags,
            CAIRN_SANDBOX_INTERACTIVE | CAIRN_SANDBOX_NETWORK | CAIRN_SANDBOX_UID_GID);
}

TEST_P(SandboxErrorsTest, AnUnknownPlatformPropertyIsRefusedByName) {
  ActionOptions options;
  options.arguments = {"true"};
  options.platform = {{"dockerImage", "debian:12"}};
  ExecuteOutcome outcome = RunExpectingNoNewObjects(options);
  EXPECT_EQ(outcome.status.code(), Code::kInvalidArgument);
  EXPECT_NE(outcome.status.message().find("dockerImage"), std::string::npos)
      << outcome.status.message();
}

TEST_P(SandboxErrorsTest, AForeignOsFamilyIsRefusedByName) {
  ActionOptions options;
  options.arguments = {"true"};
  options.platform = {{"OSFamily", "windows"}};
  ExecuteOutcome outcome = RunExpectingNoNewObjects(options);
  EXPECT_EQ(outcome.status.code(), Code::kInvalidArgument);
  EXPECT_NE(outcome.status.message().find("OSFamily"), std::string::npos);
}

TEST_P(SandboxErrorsTest, ACommandMissingFromTheRootIsNamed) {
  ActionOptions options;
  options.arguments = {"gcc", "-c", "x.c"};
  ExecuteOutcome outcome = RunExpectingNoNewObjects(options);
  EXPECT_EQ(outcome.status.code(), Code::kFailedPrecondition);
  EXPECT_NE(outcome.status.message().find("'gcc' was not found in the input root"),
            std::string::npos)
      << outcome.status.message();
}

TEST_P(SandboxErrorsTest, AnInputRootMissingFromTheCasIsNamed) {
  ActionOptions options;
  options.arguments = {"true"};
  Digest missing = DigestOfBytes("no such directory");
  StatusOr<Action> action = harness_.MakeAction(missing, options);
  ASSERT_TRUE(action.ok());
  ExecuteOutcome outcome = sandbox_->Execute(*action, ExecuteOptions());
  EXPECT_EQ(outcome.status.code(), Code::kFailedPrecondition);
  EXPECT_NE(outcome.status.message().find(DigestToString(missing)), std::string::npos)
      << outcome.status.message();
}

TEST_P(SandboxErrorsTest, AnOutputPathLeavingTheWorkingDirectoryIsRefused) {
  ActionOptions options;
  options.arguments = {"true"};
  options.output_paths = {"../escape"};
  ExecuteOutcome outcome = RunExpectingNoNewObjects(options);
  EXPECT_EQ(outcome.status.code(), Code::kInvalidArgument);
  EXPECT_NE(outcome.status.message().find("../escape"), std::string::npos);
}

TEST_P(SandboxErrorsTest, AnUnknownPluginOptionIsRefusedByName) {
  auto sandbox = harness_.OpenSandbox(GetParam(), "scrach-dir-typo: /x\n");
  ASSERT_FALSE(sandbox.ok());
  EXPECT_EQ(sandbox.status().code(), Code::kInvalidArgument);
  EXPECT_NE(sandbox.status().message().find("scrach-dir-typo"), std::string::npos);
}

TEST_P(SandboxErrorsTest, AnInteractiveRunGetsAWritableRootWhoseChangesAreThrownAway) {
  ActionOptions options;
  options.arguments = {
      "sh", "-c", "echo changed > /bin/new && echo x >> /bin/sh 2>/dev/null; cat /bin/new; exit 4"};
  StatusOr<Action> action = harness_.MakeAction(root_, options);
  ASSERT_TRUE(action.ok());
  std::map<std::string, std::string> before = harness_.SnapshotObjects();
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  InteractiveOptions interactive;
  interactive.stdin_fd = 0;
  interactive.stdout_fd = out[1];
  interactive.stderr_fd = 2;
  StatusOr<int> code = sandbox_->RunInteractive(*action, interactive);
  close(out[1]);
  char buffer[256] = {};
  ssize_t got = read(out[0], buffer, sizeof(buffer) - 1);
  close(out[0]);
  ASSERT_TRUE(code.ok()) << code.status().ToString();
  EXPECT_EQ(*code, 4);
  EXPECT_EQ(std::string(buffer, got > 0 ? static_cast<size_t>(got) : 0), "changed\n");
  // Every object is unchanged; staging may have added executable variants
  // (OBJECT.x) for the shared root the writable overlay lies on.
  std::map<std::string, std::string> after = harness_.SnapshotObjects();
  for (const auto& [path, fingerprint] : after) {
    if (before.count(path) == 0) {
      EXPECT_EQ(path.substr(path.size() - 2), ".x") << path << " was added";
    } else {
      EXPECT_EQ(fingerprint, before[path]) << path;
    }
  }
  for (const auto& [path, fingerprint] : before) {
    EXPECT_EQ(after.count(path), 1u) << path << " disappeared";
  }
}

INSTANTIATE_TEST_SUITE_P(LocalSandboxes, SandboxErrorsTest, ::testing::Values("bwrap", "chroot"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(BwrapSandboxTest, AMissingBwrapBinaryIsNamedWhenTheSandboxIsCreated) {
  SandboxHarness harness;
  ASSERT_TRUE(harness.setup_status().ok()) << harness.setup_status().ToString();
  auto sandbox = harness.OpenSandbox("bwrap", "bwrap-path: /nonexistent/bwrap\n");
  ASSERT_FALSE(sandbox.ok());
  EXPECT_EQ(sandbox.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(sandbox.status().message().find("/nonexistent/bwrap"), std::string::npos)
      << sandbox.status().message();
}

TEST(ChrootSandboxTest, ANonRootUserIsToldThatRootIsNeeded) {
  if (!RunningAsRoot()) {
    SandboxHarness harness;
    auto sandbox = harness.OpenSandbox("chroot");
    ASSERT_FALSE(sandbox.ok());
    EXPECT_NE(sandbox.status().message().find("needs root (running as uid"), std::string::npos);
    return;
  }
  // As root, check it from a child that drops to an unprivileged uid.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setuid(65534) != 0) _exit(2);
    bool clear = false;
    {
      SandboxHarness harness;  // removes its directory before _exit
      auto sandbox = harness.OpenSandbox("chroot");
      clear =
          !sandbox.ok() && sandbox.status().code() == Code::kFailedPrecondition &&
          sandbox.status().message().find("needs root (running as uid 65534)") != std::string::npos;
    }
    _exit(clear ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace cairn::testing
