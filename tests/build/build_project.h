// A real BuildStream-format project in a temporary directory, built by the
// real `cairn` binary (a child process) in the real bwrap sandbox, with a
// private configuration and cache directory per test.
//
// Every project starts with project.conf (name `test`, element-path
// `elements`), cairn.yaml choosing the bwrap sandbox, and `base.bst`: an
// import of files/base, a root file system made of the host's static
// /bin/busybox and a symlink per applet the tests use (sh, cat, echo...).
// The tests skip, saying why, when they cannot run: not root, no bwrap, or
// no /bin/busybox (Debian's busybox-static).
//
//   Write("elements/hello.bst", "kind: manual\nbuild-depends: [base.bst]\n...");
//   CliRun built = Cairn({"build", "hello.bst"});
//   EXPECT_EQ(built.code, 0) << built.err;
//   EXPECT_EQ(Events(built, "SUCCESS"), Names({"base.bst", "hello.bst"}));
#ifndef CAIRN_TESTS_BUILD_BUILD_PROJECT_H
#define CAIRN_TESTS_BUILD_BUILD_PROJECT_H

#include <gtest/gtest.h>

#include <sys/types.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace cairn::build_test {

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

using Names = std::set<std::string>;

// A cairn process started and not waited for yet.
struct Running {
  pid_t pid = -1;
  std::string out_path;
  std::string err_path;
};

// The contents of a file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

class BuildProjectTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Writes `text` to a file of the project (directories made as needed);
  // returns its absolute path.
  std::string Write(const std::string& relative, const std::string& text);
  // A project file's absolute path.
  std::string PathOf(const std::string& relative) const { return project_ + "/" + relative; }

  // `cairn -C PROJECT --cache-dir CACHE ARGS...`, with only PATH and the
  // private XDG directories in its environment; stdout and stderr read back.
  CliRun Cairn(const std::vector<std::string>& args) { return CairnIn(project_, args); }
  // The same for the project in `directory`, with this test's cache.
  CliRun CairnIn(const std::string& directory, const std::vector<std::string>& args);
  // The same, without waiting: Wait() collects its exit status and output.
  Running Start(const std::string& directory, const std::vector<std::string>& args);
  CliRun Wait(const Running& running);
  // Whether the process's stderr shows `text` within 15 seconds.
  bool WaitForOutput(const Running& running, const std::string& text);

  // name -> full cache key, from `cairn show --format '%{name} %{full-key}'`.
  std::map<std::string, std::string> Keys(const std::vector<std::string>& args);
  // name -> state (cached, buildable, waiting, failed), from `cairn show`.
  std::map<std::string, std::string> States(const std::vector<std::string>& args);

  // The elements named by the build's progress lines of one kind (START,
  // SUCCESS, CACHED, FAILURE, SKIPPED).
  static Names Events(const CliRun& run, const std::string& kind);
  // The names whose value differs between two Keys() results.
  static Names Changed(const std::map<std::string, std::string>& before,
                       const std::map<std::string, std::string>& after);

  // Checks out `target` to a new directory under the test's directory
  // (EXTRA: further checkout arguments) and returns it; "" on failure
  // (with a test failure naming the error).
  std::string Checkout(const std::string& target, const std::vector<std::string>& extra = {});
  // Builds `target` and checks out its artifact alone (--deps none);
  // returns the checkout directory, or "" with a test failure naming the
  // error when either fails.
  std::string BuildAndCheckOut(const std::string& target);

  // A fresh directory of the test's own (not in the project).
  std::string ScratchDir(const std::string& name);
  // Runs a host command line with /bin/sh; returns its exit status.
  static int Shell(const std::string& command);
  // The SHA-256 of a file, in hex.
  static std::string Sha256Of(const std::string& path);

  std::string base_;     // the test's temporary directory
  std::string project_;  // base_/project
  std::string cache_;    // base_/cache
};

}  // namespace cairn::build_test

#endif  // CAIRN_TESTS_BUILD_BUILD_PROJECT_H
