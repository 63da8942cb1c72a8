// Parity: the same Action gives the same ActionResult, digest for digest,
// from the bwrap and the chroot sandbox (execution_metadata aside). That is
// the promise local and remote execution rest on.
#include <gtest/gtest.h>

#include "cairn/digest.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

struct ParityCase {
  std::string name;
  ActionOptions options;
};

std::vector<ParityCase> ParityCases() {
  std::vector<ParityCase> cases;
  {
    ParityCase c{"WritesFilesAndDirectories", {}};
    c.options.arguments = {"sh", "-c",
                           "mkdir -p out/d/e && echo hi > out/d/e/f && printf abc > out/g && "
                           "echo one > file1 && mkdir -p nested/deep && echo n > nested/deep/x"};
    c.options.output_paths = {"file1", "out", "nested/deep/x", "missing", "missing-dir/y"};
    cases.push_back(c);
  }
  {
    ParityCase c{"Symlinks", {}};
    c.options.arguments = {"sh", "-c",
                           "ln -s target link && mkdir d && ln -s ../file d/rel && "
                           "ln -s /abs/path d/abs && ln -s d dirlink"};
    c.options.output_paths = {"link", "d", "dirlink"};
    cases.push_back(c);
  }
  {
    ParityCase c{"ExecutableBits", {}};
    c.options.arguments = {
        "sh", "-c",
        "printf '#!/bin/sh\\necho run\\n' > tool && chmod 755 tool && "
        "touch plain && chmod 644 plain && mkdir bin && cp tool bin/t 2>/dev/null "
        "|| (cat tool > bin/t && chmod 700 bin/t) && ./tool"};
    c.options.output_paths = {"tool", "plain", "bin"};
    cases.push_back(c);
  }
  {
    ParityCase c{"NonZeroExit", {}};
    c.options.arguments = {"sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"};
    cases.push_back(c);
  }
  {
    ParityCase c{"LargeStdout", {}};
    c.options.arguments = {"seq", "1", "200000"};
    cases.push_back(c);
  }
  {
    ParityCase c{"EnvironmentAndWorkingDirectory", {}};
    c.options.arguments = {"sh", "-c",
                           "env | sort; pwd; hostname; id; cat input.txt; echo more >> input.txt; "
                           "ls -a /dev | tr '\\n' ' '; ls -ld /tmp | cut -c1-10"};
    c.options.environment = {{"PATH", "/bin"}, {"A_VAR", "a value"}, {"Z", "last"}, {"EMPTY", ""}};
    c.options.working_directory = "build/sub";
    c.options.output_paths = {"input.txt"};
    cases.push_back(c);
  }
  {
    ParityCase c{"CommandByAbsolutePathWithoutPath", {}};
    c.options.arguments = {"/bin/sh", "-c", "echo no PATH: \"$PATH\"; ../../bin/echo relative"};
    c.options.environment = {};
    c.options.working_directory = "build/sub";
    cases.push_back(c);
  }
  return cases;
}

ActionResult WithoutMetadata(ActionResult result) {
  result.clear_execution_metadata();
  return result;
}

TEST(SandboxParityTest, SameActionGivesIdenticalResultsFromBwrapAndChroot) {
  if (!RunningAsRoot()) GTEST_SKIP() << "the chroot sandbox needs root; CI runs as root";
  SandboxHarness harness;
  ASSERT_TRUE(harness.setup_status().ok()) << harness.setup_status().ToString();
  StatusOr<Digest> root = harness.ImportBusyboxRoot(
      {{"build/sub/input.txt", "input line\n"}, {"build/sub/keep", "k\n"}});
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  auto bwrap = harness.OpenSandbox("bwrap");
  ASSERT_TRUE(bwrap.ok()) << bwrap.status().ToString();
  auto chroot = harness.OpenSandbox("chroot");
  ASSERT_TRUE(chroot.ok()) << chroot.status().ToString();

  for (const ParityCase& parity : ParityCases()) {
    SCOPED_TRACE(parity.name);
    StatusOr<Action> action = harness.MakeAction(*root, parity.options);
    ASSERT_TRUE(action.ok()) << action.status().ToString();
    ExecuteOptions options;
    ExecuteOutcome from_bwrap = (*bwrap)->Execute(*action, options);
    ExecuteOutcome from_chroot = (*chroot)->Execute(*action, options);
    ASSERT_TRUE(from_bwrap.status.ok()) << from_bwrap.status.ToString();
    ASSERT_TRUE(from_chroot.status.ok()) << from_chroot.status.ToString();
    ASSERT_TRUE(from_bwrap.result && from_chroot.result);
    ActionResult a = WithoutMetadata(*from_bwrap.result);
    ActionResult b = WithoutMetadata(*from_chroot.result);
    EXPECT_EQ(a.SerializeAsString(), b.SerializeAsString())
        << "bwrap:\n"
        << a.DebugString() << "stdout: " << ReadText(harness.cas(), a.stdout_digest())
        << "stderr: " << ReadText(harness.cas(), a.stderr_digest()) << "\nchroot:\n"
        << b.DebugString() << "stdout: " << ReadText(harness.cas(), b.stdout_digest())
        << "stderr: " << ReadText(harness.cas(), b.stderr_digest());
  }
}

// The parity above would be hollow if both results were wrong in the same
// way: check what the cases must produce, once, through bwrap.
TEST(SandboxParityTest, ResultsCarryTheExpectedOutputsAndStreams) {
  if (!RunningAsRoot()) GTEST_SKIP() << "the sandbox tests need root; CI runs as root";
  SandboxHarness harness;
  ASSERT_TRUE(harness.setup_status().ok()) << harness.setup_status().ToString();
  StatusOr<Digest> root = harness.ImportBusyboxRoot({{"build/sub/input.txt", "input line\n"}});
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  for (std::string name : {"bwrap", "chroot"}) {
    SCOPED_TRACE(name);
    auto sandbox = harness.OpenSandbox(name);
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    std::vector<ParityCase> cases = ParityCases();

    auto run = [&](const ActionOptions& options) {
      StatusOr<Action> action = harness.MakeAction(*root, options);
      EXPECT_TRUE(action.ok());
      ExecuteOptions execute;
      execute.inline_stdout = true;
      ExecuteOutcome outcome = (*sandbox)->Execute(*action, execute);
      EXPECT_TRUE(outcome.status.ok()) << outcome.status.ToString();
      return outcome.result.value_or(ActionResult());
    };

    ActionResult files = run(cases[0].options);
    EXPECT_EQ(files.exit_code(), 0);
    ASSERT_EQ(files.output_files_size(), 2);  // file1, nested/deep/x; missing ones absent
    EXPECT_EQ(files.output_files(0).path(), "file1");
    EXPECT_EQ(ReadText(harness.cas(), files.output_files(0).digest()), "one\n");
    EXPECT_EQ(files.output_files(1).path(), "nested/deep/x");
    ASSERT_EQ(files.output_directories_size(), 1);
    EXPECT_EQ(files.output_directories(0).path(), "out");
    build::bazel::remote::execution::v2::Tree tree;
    ASSERT_TRUE(
        tree.ParseFromString(ReadText(harness.cas(), files.output_directories(0).tree_digest())));
    EXPECT_EQ(DigestOfMessage(tree.root()), files.output_directories(0).root_directory_digest());

    ActionResult links = run(cases[1].options);
    ASSERT_EQ(links.output_symlinks_size(), 2);
    EXPECT_EQ(links.output_symlinks(0).path(), "dirlink");
    EXPECT_EQ(links.output_symlinks(1).path(), "link");
    EXPECT_EQ(links.output_symlinks(1).target(), "target");

    ActionResult bits = run(cases[2].options);
    ASSERT_EQ(bits.output_files_size(), 2);
    EXPECT_EQ(bits.output_files(0).path(), "plain");
    EXPECT_FALSE(bits.output_files(0).is_executable());
    EXPECT_EQ(bits.output_files(1).path(), "tool");
    EXPECT_TRUE(bits.output_files(1).is_executable());
    EXPECT_EQ(bits.stdout_raw(), "run\n");

    ActionResult failing = run(cases[3].options);
    EXPECT_EQ(failing.exit_code(), 3);
    EXPECT_EQ(ReadText(harness.cas(), failing.stdout_digest()), "to-stdout\n");
    EXPECT_EQ(ReadText(harness.cas(), failing.stderr_digest()), "to-stderr\n");

    ActionResult large = run(cases[4].options);
    EXPECT_EQ(large.stdout_digest().size_bytes(), 1288895);
    EXPECT_TRUE(large.stdout_raw().empty()) << "too large to inline";

    ActionResult env = run(cases[5].options);
    std::string out = ReadText(harness.cas(), env.stdout_digest());
    EXPECT_EQ(out.substr(0, out.find("\n/build/sub\n")),
              "A_VAR=a value\nEMPTY=\nPATH=/bin\nPWD=/build/sub\nSHLVL=1\nZ=last");
    EXPECT_NE(out.find("\n/build/sub\ncairn\nuid=0 gid=0"), std::string::npos) << out;
    EXPECT_NE(out.find("input line\n"), std::string::npos);
    EXPECT_NE(out.find(". .. fd full null random stderr stdin stdout urandom zero"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("drwxrwxrwt"), std::string::npos) << out;
    ASSERT_EQ(env.output_files_size(), 1);
    EXPECT_EQ(ReadText(harness.cas(), env.output_files(0).digest()), "input line\nmore\n");
  }
}

}  // namespace
}  // namespace cairn::testing
