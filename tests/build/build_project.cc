#include "build_project.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cairn/digest.h"

namespace cairn::build_test {
namespace {

namespace fs = std::filesystem;

constexpr char kBusybox[] = "/bin/busybox";

// The applets the tests' commands use, each a symlink to busybox.
const char* const kApplets[] = {"sh",   "cat",   "echo",   "mkdir", "cp",    "ln",
                                "test", "[",     "printf", "sed",   "ls",    "chmod",
                                "env",  "touch", "rm",     "true",  "false", "head"};

bool OnPath(const std::string& program) {
  for (const char* directory : {"/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"}) {
    if (access((std::string(directory) + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void BuildProjectTest::SetUp() {
  if (geteuid() != 0) GTEST_SKIP() << "the bwrap sandbox as run here needs root; CI runs as root";
  if (!OnPath("bwrap")) GTEST_SKIP() << "bwrap is not installed";
  if (access(kBusybox, X_OK) != 0) {
    GTEST_SKIP() << kBusybox << " is missing (Debian's busybox-static provides it)";
  }
  char pattern[] = "/tmp/cairn-build-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  base_ = pattern;
  project_ = base_ + "/project";
  cache_ = base_ + "/cache";
  fs::create_directories(base_ + "/config");

  Write("project.conf", "name: test\nelement-path: elements\n");
  Write("cairn.yaml", "sandbox: {plugin: bwrap}\n");
  std::string bin = project_ + "/files/base/bin";
  fs::create_directories(bin);
  fs::copy_file(kBusybox, bin + "/busybox");
  for (const char* applet : kApplets) fs::create_symlink("busybox", bin + "/" + applet);
  Write("elements/base.bst",
        "kind: import\n"
        "sources:\n"
        "- kind: local\n"
        "  path: files/base\n");
}

void BuildProjectTest::TearDown() {
  if (base_.empty()) return;
  std::error_code error;
  fs::remove_all(base_, error);
}

std::string BuildProjectTest::Write(const std::string& relative, const std::string& text) {
  fs::path file = fs::path(project_) / relative;
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  return file.string();
}

CliRun BuildProjectTest::CairnIn(const std::string& directory,
                                 const std::vector<std::string>& args) {
  return Wait(Start(directory, args));
}

Running BuildProjectTest::Start(const std::string& directory,
                                const std::vector<std::string>& args) {
  std::vector<std::string> words = {CAIRN_BINARY, "-C", directory, "--cache-dir", cache_};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                          "XDG_CONFIG_HOME=" + base_ + "/config",
                                          "XDG_CACHE_HOME=" + base_ + "/xdg-cache"};
  std::vector<char*> envp;
  for (std::string& variable : environment) envp.push_back(variable.data());
  envp.push_back(nullptr);

  static int count = 0;
  Running running;
  std::string stem = base_ + "/cairn-" + std::to_string(++count);
  running.out_path = stem + ".out";
  running.err_path = stem + ".err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, running.out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, running.err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int spawned = posix_spawn(&running.pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(spawned, 0) << "cannot start " << CAIRN_BINARY;
  if (spawned != 0) running.pid = -1;
  return running;
}

CliRun BuildProjectTest::Wait(const Running& running) {
  CliRun run;
  if (running.pid <= 0) return run;
  int status = 0;
  waitpid(running.pid, &status, 0);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.out = ReadFile(running.out_path);
  run.err = ReadFile(running.err_path);
  return run;
}

bool BuildProjectTest::WaitForOutput(const Running& running, const std::string& text) {
  for (int i = 0; i < 300; ++i) {
    if (ReadFile(running.err_path).find(text) != std::string::npos) return true;
    usleep(50 * 1000);
  }
  return false;
}

namespace {

// "NAME VALUE" lines into a map.
std::map<std::string, std::string> Pairs(const std::string& text) {
  std::map<std::string, std::string> pairs;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t space = line.find(' ');
    if (space == std::string::npos) continue;
    pairs[line.substr(0, space)] = line.substr(space + 1);
  }
  return pairs;
}

}  // namespace

std::map<std::string, std::string> BuildProjectTest::Keys(const std::vector<std::string>& args) {
  std::vector<std::string> words = {"show", "--format", "%{name} %{full-key}"};
  words.insert(words.end(), args.begin(), args.end());
  CliRun shown = Cairn(words);
  EXPECT_EQ(shown.code, 0) << shown.err;
  return Pairs(shown.out);
}

std::map<std::string, std::string> BuildProjectTest::States(const std::vector<std::string>& args) {
  std::vector<std::string> words = {"show", "--format", "%{name} %{state}"};
  words.insert(words.end(), args.begin(), args.end());
  CliRun shown = Cairn(words);
  EXPECT_EQ(shown.code, 0) << shown.err;
  return Pairs(shown.out);
}

Names BuildProjectTest::Events(const CliRun& run, const std::string& kind) {
  // "[00:00:01] SUCCESS base.bst (1a2b3c4d)"
  std::regex line("^\\[[0-9:]+\\] " + kind + " +(\\S+) \\([0-9a-f]+\\)$");
  Names names;
  std::istringstream lines(run.err);
  std::string text;
  std::smatch match;
  while (std::getline(lines, text)) {
    if (std::regex_match(text, match, line)) names.insert(match[1].str());
  }
  return names;
}

Names BuildProjectTest::Changed(const std::map<std::string, std::string>& before,
                                const std::map<std::string, std::string>& after) {
  Names changed;
  for (const auto& [name, key] : after) {
    auto found = before.find(name);
    if (found == before.end() || found->second != key) changed.insert(name);
  }
  return changed;
}

std::string BuildProjectTest::ScratchDir(const std::string& name) {
  std::string directory = base_ + "/" + name;
  fs::create_directories(directory);
  return directory;
}

std::string BuildProjectTest::BuildAndCheckOut(const std::string& target) {
  CliRun built = Cairn({"build", target});
  EXPECT_EQ(built.code, 0) << built.err;
  if (built.code != 0) return "";
  return Checkout(target, {"--deps", "none"});
}

std::string BuildProjectTest::Checkout(const std::string& target,
                                       const std::vector<std::string>& extra) {
  static int count = 0;
  std::string directory = base_ + "/checkout-" + std::to_string(++count);
  std::vector<std::string> words = {"artifact", "checkout", target, "--directory", directory};
  words.insert(words.end(), extra.begin(), extra.end());
  CliRun run = Cairn(words);
  EXPECT_EQ(run.code, 0) << "checkout of " << target << ": " << run.err;
  return run.code == 0 ? directory : "";
}

int BuildProjectTest::Shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string BuildProjectTest::Sha256Of(const std::string& path) {
  return DigestOfBytes(ReadFile(path)).hash();
}

}  // namespace cairn::build_test
