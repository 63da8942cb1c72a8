// `cairn run` end to end: the real cairn binary as a child process, with
// an empty configuration directory, its own cache directory and the real
// sandbox plugins, on a busybox root built by the test.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "../common/json_reader.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

struct CairnResult {
  int code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// The first capture of `pattern` in `text`, or "".
std::string Find(const std::string& text, const std::string& pattern) {
  std::smatch match;
  return std::regex_search(text, match, std::regex(pattern)) ? match[1].str() : "";
}

class SandboxRunCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RunningAsRoot()) GTEST_SKIP() << "the sandbox tests need root; CI runs as root";
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    base_ = harness_.base_dir();
    root_ = harness_.MakeBusyboxTree("busybox-root");
    ASSERT_FALSE(root_.empty());
    ASSERT_EQ(mkdir((base_ + "/config").c_str(), 0755), 0);
  }

  // Runs `cairn --cache-dir CACHE ARGS...` with only PATH, the XDG
  // directories and a canary variable in its environment.
  // With `out_path`, stdout goes to that file and is not read back.
  CairnResult Cairn(std::vector<std::string> args, const std::string& out_path = "") {
    args.insert(args.begin(), {CAIRN_BINARY, "--cache-dir", base_ + "/cache"});
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> environment = {
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "XDG_CONFIG_HOME=" + base_ + "/config",
        "XDG_CACHE_HOME=" + base_ + "/xdg-cache", "CAIRN_LEAK_CANARY=leaked"};
    std::vector<char*> envp;
    for (std::string& variable : environment) envp.push_back(variable.data());
    envp.push_back(nullptr);

    std::string stdout_path = out_path.empty() ? base_ + "/cairn.out" : out_path;
    std::string err_path = base_ + "/cairn.err";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    pid_t pid = -1;
    CairnResult result;
    int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(spawned, 0) << "cannot start " << CAIRN_BINARY;
    if (spawned != 0) return result;
    int status = 0;
    waitpid(pid, &status, 0);
    result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (out_path.empty()) result.out = ReadFile(stdout_path);
    result.err = ReadFile(err_path);
    return result;
  }

  // `cairn [--sandbox NAME] run --root ROOT --env PATH=/bin EXTRA... -- COMMAND...`
  CairnResult Run(const std::vector<std::string>& extra, const std::vector<std::string>& command,
                  const std::string& sandbox = "bwrap", const std::string& out_path = "") {
    std::vector<std::string> args = {"--sandbox", sandbox, "run",      "--root",
                                     root_,       "--env", "PATH=/bin"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("--");
    args.insert(args.end(), command.begin(), command.end());
    return Cairn(args, out_path);
  }

  SandboxHarness harness_;
  std::string base_;
  std::string root_;
};

TEST_F(SandboxRunCommandTest, ACommandExitingThreePrintsItsOutputReportsTheCodeAndExitsOne) {
  CairnResult result = Run({}, {"sh", "-c", "echo hi; exit 3"});
  EXPECT_EQ(result.code, 1) << result.err;
  EXPECT_EQ(result.out, "hi\n");
  EXPECT_NE(result.err.find("exit-code: 3\n"), std::string::npos) << result.err;
}

TEST_F(SandboxRunCommandTest, ACommandExitingZeroMakesCairnRunExitZero) {
  CairnResult result = Run({}, {"true"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.err.find("exit-code: 0\n"), std::string::npos) << result.err;
}

TEST_F(SandboxRunCommandTest, OutputFilesAndDirectoriesArePrintedAsDigestsTheCasCanShow) {
  CairnResult result =
      Run({"--cwd", "build", "--output", "out.txt", "--output", "outdir"},
          {"sh", "-c", "echo file > out.txt; mkdir outdir; echo inner > outdir/a"});
  ASSERT_EQ(result.code, 0) << result.err;
  std::string file = Find(result.err, "output-file: out\\.txt (\\S+)");
  std::string directory = Find(result.err, "output-directory: outdir \\S+ \\(root (\\S+)\\)");
  ASSERT_FALSE(file.empty()) << result.err;
  ASSERT_FALSE(directory.empty()) << result.err;

  CairnResult cat = Cairn({"cas", "cat", file});
  EXPECT_EQ(cat.code, 0) << cat.err;
  EXPECT_EQ(cat.out, "file\n");
  CairnResult listing = Cairn({"cas", "ls", directory});
  EXPECT_EQ(listing.code, 0) << listing.err;
  std::string inner = Find(listing.out, "(\\S+)\\s+a\\s*\\n");
  ASSERT_FALSE(inner.empty()) << listing.out;
  EXPECT_EQ(Cairn({"cas", "cat", inner}).out, "inner\n");
}

TEST_F(SandboxRunCommandTest, OnlyTheEnvGivenReachesTheCommandNotTheCallersEnvironment) {
  CairnResult result = Run({"--env", "K=V"}, {"env"});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("K=V\n"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("CAIRN_LEAK_CANARY"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("XDG_CONFIG_HOME"), std::string::npos) << result.out;
}

TEST_F(SandboxRunCommandTest, ACommandOutlivingTheTimeoutIsKilledReportedAndExitsOne) {
  CairnResult result = Run({"--timeout", "1"}, {"sleep", "30"});
  EXPECT_EQ(result.code, 1) << result.err;
  EXPECT_NE(result.err.find("exceeded its timeout"), std::string::npos) << result.err;
}

TEST_F(SandboxRunCommandTest, ChrootAndBwrapGiveTheSameOutputDigest) {
  std::vector<std::string> outputs = {"--cwd", "build", "--output", "out"};
  std::vector<std::string> command = {"sh", "-c", "mkdir out; echo $PWD > out/pwd; ls / > out/ls"};
  CairnResult bwrap = Run(outputs, command, "bwrap");
  CairnResult chroot = Run(outputs, command, "chroot");
  ASSERT_EQ(bwrap.code, 0) << bwrap.err;
  ASSERT_EQ(chroot.code, 0) << chroot.err;
  std::string pattern = "output-directory: out (\\S+)";
  ASSERT_FALSE(Find(bwrap.err, pattern).empty()) << bwrap.err;
  EXPECT_EQ(Find(bwrap.err, pattern), Find(chroot.err, pattern));
}

TEST_F(SandboxRunCommandTest, SandboxGivenAfterRunIsTheSameGlobalOverride) {
  CairnResult result =
      Cairn({"run", "--sandbox", "no-such-sandbox", "--root", root_, "--", "true"});
  EXPECT_EQ(result.code, 4) << result.err;
  EXPECT_NE(result.err.find("no-such-sandbox"), std::string::npos) << result.err;
}

TEST_F(SandboxRunCommandTest, AnUnknownSandboxExitsFourNamingIt) {
  CairnResult result = Run({}, {"true"}, "no-such-sandbox");
  EXPECT_EQ(result.code, 4) << result.err;
  EXPECT_NE(result.err.find("no-such-sandbox"), std::string::npos) << result.err;
}

TEST_F(SandboxRunCommandTest, AMissingRootDirectoryIsACommandLineErrorNamingIt) {
  std::string missing = base_ + "/no-such-root";
  CairnResult result = Cairn({"run", "--root", missing, "--", "true"});
  EXPECT_EQ(result.code, 2) << result.err;
  EXPECT_NE(result.err.find(missing), std::string::npos) << result.err;
}

TEST_F(SandboxRunCommandTest, ARootGivenAsTheDigestPrintedByCasImportRuns) {
  CairnResult imported = Cairn({"cas", "import", root_});
  ASSERT_EQ(imported.code, 0) << imported.err;
  std::string digest = Find(imported.out, "^(\\S+)");
  ASSERT_FALSE(digest.empty()) << imported.out;
  CairnResult result = Cairn({"--sandbox", "bwrap", "run", "--root", digest, "--env", "PATH=/bin",
                              "--", "sh", "-c", "echo from digest"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "from digest\n");
}

TEST_F(SandboxRunCommandTest, SeveralRootsAreMergedInOrderWithTheLaterWinning) {
  std::string sources = base_ + "/sources";
  for (const char* directory : {"", "/src", "/etc"}) mkdir((sources + directory).c_str(), 0755);
  std::ofstream(sources + "/src/main.c") << "int main(void) { return 0; }\n";
  std::ofstream(sources + "/etc/motd") << "later\n";
  std::string early = harness_.MakeBusyboxTree("early", {{"etc/motd", "earlier\n"}});
  std::string earlier_digest = Find(Cairn({"cas", "import", early}).out, "^(\\S+)");
  ASSERT_FALSE(earlier_digest.empty());
  CairnResult result =
      Cairn({"--sandbox", "bwrap", "run", "--root", earlier_digest, "--root", root_, "--root",
             sources, "--env", "PATH=/bin", "--", "sh", "-c", "cat /etc/motd /src/main.c"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "later\nint main(void) { return 0; }\n");
  EXPECT_NE(result.err.find("etc/motd"), std::string::npos)
      << "the replaced path is reported: " << result.err;
}

// A symlink the command made, whose target would forge a line of the report
// and holds a terminal escape.
const char kForgingLink[] = "printf 'x\\nexit-code: 0\\033[31m' > t; ln -s \"$(cat t)\" link";
const char kForgedTarget[] = "x\nexit-code: 0\x1b[31m";

TEST_F(SandboxRunCommandTest, AHostileSymlinkTargetIsPrintedQuotedOnOneLine) {
  CairnResult result = Run({"--cwd", "build", "--output", "link"}, {"sh", "-c", kForgingLink});
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.err.find("output-symlink: link -> \"x\\nexit-code: 0\\033[31m\"\n"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(result.err.find("\nexit-code: 0\x1b"), std::string::npos) << result.err;
}

TEST_F(SandboxRunCommandTest, FormatJsonReportsTheResultAsOneObjectWithExactNames) {
  CairnResult result =
      Run({"--cwd", "build", "--output", "link", "--output", "out.txt", "--format", "json"},
          {"sh", "-c", std::string(kForgingLink) + "; echo file > out.txt; exit 3"});
  EXPECT_EQ(result.code, 1) << result.err;
  std::optional<JsonValue> parsed = JsonReader::Parse(result.out);
  ASSERT_TRUE(parsed.has_value()) << result.out;
  ASSERT_NE(parsed->Get("exit-code"), nullptr) << result.out;
  EXPECT_EQ(parsed->Get("exit-code")->number, 3);
  ASSERT_EQ(parsed->Get("output-symlinks")->array.size(), 1u) << result.out;
  const JsonValue& link = parsed->Get("output-symlinks")->array[0];
  EXPECT_EQ(link.Get("path")->string, "link");
  EXPECT_EQ(link.Get("target")->string, kForgedTarget);
  ASSERT_EQ(parsed->Get("output-files")->array.size(), 1u) << result.out;
  const JsonValue& file = parsed->Get("output-files")->array[0];
  EXPECT_EQ(file.Get("path")->string, "out.txt");
  EXPECT_EQ(Cairn({"cas", "cat", file.Get("digest")->string}).out, "file\n");
}

TEST_F(SandboxRunCommandTest, AGibibyteOfStdoutIsPrintedWholeWithPeakMemoryUnder64MiB) {
  std::string big = base_ + "/big.out";
  CairnResult result = Run({}, {"head", "-c", "1073741824", "/dev/zero"}, "bwrap", big);
  struct stat printed {};
  ASSERT_EQ(stat(big.c_str(), &printed), 0);
  unlink(big.c_str());
  ASSERT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(printed.st_size, 1073741824);
  // The largest resident set of any child this test waited for: cairn, and
  // the sandbox processes it waited for. ru_maxrss is in KiB.
  struct rusage usage {};
  ASSERT_EQ(getrusage(RUSAGE_CHILDREN, &usage), 0);
  EXPECT_LT(usage.ru_maxrss, 64 * 1024) << "peak resident set of a child, KiB";
}

}  // namespace
}  // namespace cairn::testing
