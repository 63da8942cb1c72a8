// For each local sandbox: an action whose working directory is the root
// (BuildStream's element builds: build-root and install-root share only
// "/") runs on the shared, read-only root with only its output directories
// writable, unless an output is not a directory of the input root.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cairn/directory_rules.h"
#include "cairn/relative_path.h"
#include "cairn/sandbox_common/scratch_janitor.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

// The content of the file at `path` below the Directory `root`, or
// "<missing path>".
std::string FileInTree(Storage& cas, const Digest& root, const std::string& path) {
  Digest current = root;
  std::vector<std::string> components = SplitPath(path);
  for (size_t i = 0; i < components.size(); ++i) {
    StatusOr<Directory> directory = cas.ReadMessage<Directory>(current);
    if (!directory.ok()) return "<" + directory.status().ToString() + ">";
    bool found = false;
    if (i + 1 == components.size()) {
      for (const auto& file : directory->files()) {
        if (file.name() == components[i]) return ReadText(cas, file.digest());
      }
    } else {
      for (const auto& node : directory->directories()) {
        if (node.name() != components[i]) continue;
        current = node.digest();
        found = true;
      }
    }
    if (!found) break;
  }
  return "<missing " + path + ">";
}

// The directory of the staged shared root the sandbox keeps, or "".
std::string SharedRootDir(const std::string& scratch_dir, const std::string& sandbox) {
  std::string found;
  std::string shared = scratch_dir + "/" + sandbox + "-roots";
  DIR* dir = opendir(shared.c_str());
  if (dir == nullptr) return found;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') found = shared + "/" + entry->d_name + "/root";
  }
  closedir(dir);
  return found;
}

class SandboxOutputMountsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!RunningAsRoot()) GTEST_SKIP() << "the sandbox tests need root; CI runs as root";
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    StatusOr<Digest> root = harness_.ImportBusyboxRoot({
        {"buildstream/proj/elem.bst/source.c", "int main;\n"},
        {"buildstream-install/", ""},
        {"etc/config", "config\n"},
        {"data/large", std::string(1 << 20, 'x')},
    });
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    root_ = *root;
    auto sandbox = harness_.OpenSandbox(GetParam());
    ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    sandbox_ = std::move(*sandbox);
  }

  ExecuteOutcome RunAtRoot(const std::string& script, std::vector<std::string> outputs) {
    ActionOptions options;
    options.arguments = {"sh", "-c", script};
    options.working_directory = "";
    options.output_paths = std::move(outputs);
    return Run(options);
  }
  ExecuteOutcome Run(const ActionOptions& options) {
    StatusOr<Action> action = harness_.MakeAction(root_, options);
    EXPECT_TRUE(action.ok()) << action.status().ToString();
    return sandbox_->Execute(*action, ExecuteOptions());
  }
  std::string Stdout(const ExecuteOutcome& outcome) {
    return outcome.result ? ReadText(harness_.cas(), outcome.result->stdout_digest()) : "";
  }
  std::string Stderr(const ExecuteOutcome& outcome) {
    return outcome.result ? ReadText(harness_.cas(), outcome.result->stderr_digest()) : "";
  }
  // The output directory at `path`, by its root Directory.
  Digest OutputDirectory(const ExecuteOutcome& outcome, const std::string& path) {
    for (const auto& directory : outcome.result->output_directories()) {
      if (directory.path() == path) return directory.root_directory_digest();
    }
    ADD_FAILURE() << "no output directory " << path;
    return Digest();
  }

  SandboxHarness harness_;
  Digest root_;
  std::unique_ptr<Sandbox> sandbox_;
};

TEST_P(SandboxOutputMountsTest, TheRootAsWorkingDirectoryWritesOnlyItsOutputDirectories) {
  std::map<std::string, std::string> before = harness_.SnapshotObjects();
  ExecuteOutcome outcome = RunAtRoot(
      "cat buildstream/proj/elem.bst/source.c > buildstream-install/copied && "
      "echo built >> buildstream/proj/elem.bst/source.c && "
      "mkdir -p buildstream-install/usr/bin && echo tool > buildstream-install/usr/bin/tool; "
      "for target in /etc/config /newfile /buildstream/newfile /buildstream/proj/new "
      "    /bin/busybox /data/large; do "
      "  (echo x >> $target) 2>/dev/null && echo WROTE $target; done; "
      "touch /newfile 2>&1 | grep -o 'Read-only file system'; "
      "echo tmp > /tmp/t && cat /tmp/t",
      {"buildstream-install", "buildstream/proj/elem.bst"});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "Read-only file system\ntmp\n") << Stderr(outcome);
  ASSERT_EQ(outcome.result->output_directories_size(), 2);
  Storage& cas = harness_.cas();
  Digest install = OutputDirectory(outcome, "buildstream-install");
  EXPECT_EQ(FileInTree(cas, install, "copied"), "int main;\n");
  EXPECT_EQ(FileInTree(cas, install, "usr/bin/tool"), "tool\n");
  EXPECT_EQ(FileInTree(cas, OutputDirectory(outcome, "buildstream/proj/elem.bst"), "source.c"),
            "int main;\nbuilt\n");

  StatusOr<VerifyReport> report = cas.Verify(false);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->problems, 0u) << report->lines;
  std::map<std::string, std::string> after = harness_.SnapshotObjects();
  for (const auto& [path, fingerprint] : before) {
    ASSERT_TRUE(after.count(path)) << path << " disappeared";
    EXPECT_EQ(after[path], fingerprint) << path;
  }

  // The next run of the same root sees none of it.
  ExecuteOutcome second =
      RunAtRoot("cat buildstream/proj/elem.bst/source.c; ls -A buildstream-install",
                {"buildstream-install", "buildstream/proj/elem.bst"});
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_EQ(Stdout(second), "int main;\n");
}

TEST_P(SandboxOutputMountsTest, TheRootIsSharedWithTheStoreNotCopied) {
  ExecuteOutcome outcome =
      RunAtRoot("stat -c '%i %h' /data/large /bin/busybox", {"buildstream-install"});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  std::string shared = SharedRootDir(harness_.scratch_dir(), GetParam());
  ASSERT_FALSE(shared.empty()) << "no shared root in " << harness_.scratch_dir();
  std::string expected;
  for (const char* path : {"/data/large", "/bin/busybox"}) {
    struct stat info {};
    ASSERT_EQ(lstat((shared + path).c_str(), &info), 0) << path;
    EXPECT_GE(info.st_nlink, 2u) << path << " is hardlinked into the store";
    expected += std::to_string(info.st_ino) + " " + std::to_string(info.st_nlink) + "\n";
  }
  EXPECT_EQ(Stdout(outcome), expected) << Stderr(outcome);
}

TEST_P(SandboxOutputMountsTest, AnOutputInsideAnotherIsCapturedInBoth) {
  ExecuteOutcome outcome = RunAtRoot(
      "echo top > buildstream/top && echo inner > buildstream/proj/elem.bst/inner && "
      "(echo x > /etc/new) 2>/dev/null || echo refused",
      {"buildstream", "buildstream/proj/elem.bst"});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "refused\n") << Stderr(outcome);
  Storage& cas = harness_.cas();
  Digest outer = OutputDirectory(outcome, "buildstream");
  EXPECT_EQ(FileInTree(cas, outer, "top"), "top\n");
  EXPECT_EQ(FileInTree(cas, outer, "proj/elem.bst/inner"), "inner\n");
  EXPECT_EQ(FileInTree(cas, outer, "proj/elem.bst/source.c"), "int main;\n");
  Digest inner = OutputDirectory(outcome, "buildstream/proj/elem.bst");
  EXPECT_EQ(FileInTree(cas, inner, "inner"), "inner\n");
  EXPECT_EQ(FileInTree(cas, inner, "source.c"), "int main;\n");
}

TEST_P(SandboxOutputMountsTest, AnOutputMissingFromTheInputRootKeepsTheWholeRootWritable) {
  ExecuteOutcome outcome = RunAtRoot(
      "echo new > /etc/new && echo wrote /etc/new; stat -c %h /bin/busybox; "
      "mkdir -p missing && echo out > missing/out && echo i > buildstream-install/i",
      {"buildstream-install", "missing/out"});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "wrote /etc/new\n1\n") << Stderr(outcome);
  ASSERT_EQ(outcome.result->output_files_size(), 1);
  EXPECT_EQ(outcome.result->output_files(0).path(), "missing/out");
  EXPECT_EQ(ReadText(harness_.cas(), outcome.result->output_files(0).digest()), "out\n");
  EXPECT_EQ(FileInTree(harness_.cas(), OutputDirectory(outcome, "buildstream-install"), "i"),
            "i\n");
  EXPECT_EQ(SharedRootDir(harness_.scratch_dir(), GetParam()), "") << "no shared root staged";
}

TEST_P(SandboxOutputMountsTest, AFileOutputKeepsTheWholeRootWritable) {
  ExecuteOutcome outcome =
      RunAtRoot("echo more >> etc/config && echo x > /newfile && echo wrote", {"etc/config"});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "wrote\n") << Stderr(outcome);
  ASSERT_EQ(outcome.result->output_files_size(), 1);
  EXPECT_EQ(ReadText(harness_.cas(), outcome.result->output_files(0).digest()), "config\nmore\n");
}

TEST_P(SandboxOutputMountsTest, UnixUidAndGidCanWriteTheOutputDirectories) {
  ActionOptions options;
  options.arguments = {"sh", "-c",
                       "id -u; echo made > buildstream-install/made && "
                       "echo more >> buildstream/proj/elem.bst/source.c && echo wrote"};
  options.working_directory = "";
  options.output_paths = {"buildstream-install", "buildstream/proj/elem.bst"};
  options.platform = {{"unixGID", "4321"}, {"unixUID", "1234"}};
  ExecuteOutcome outcome = Run(options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  EXPECT_EQ(Stdout(outcome), "1234\nwrote\n") << Stderr(outcome);
  EXPECT_EQ(FileInTree(harness_.cas(), OutputDirectory(outcome, "buildstream-install"), "made"),
            "made\n");
}

INSTANTIATE_TEST_SUITE_P(LocalSandboxes, SandboxOutputMountsTest,
                         ::testing::Values("bwrap", "chroot"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace cairn::testing
