// Hostile configuration documents: an alias bomb, a huge document, deep
// nesting and out-of-range numbers are refused with FILE:LINE:COLUMN
// naming the bound, and never exhaust the process.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <string>

#include "cairn/runtime/config.h"
#include "cairn/runtime/config_node.h"
#include "test_files.h"

namespace cairn {
namespace {

// Nine levels of nine-fold aliases: 9^9 (387 million) leaves once expanded,
// from under 300 bytes of YAML.
std::string AliasBomb() {
  std::string text = "sandbox:\n  plugin: bwrap\n  options:\n";
  std::string previous = "x";
  for (char level = 'a'; level < 'a' + 9; ++level) {
    std::string item = previous == "x" ? "x" : "*" + previous;
    text += "    " + std::string(1, level) + ": &" + std::string(1, level) + " [";
    for (int i = 0; i < 9; ++i) text += (i == 0 ? "" : ",") + item;
    text += "]\n";
    previous = std::string(1, level);
  }
  return text;
}

// Runs `load` in a child limited to 512 MiB of address space, so a loader
// that expands the bomb dies there instead of taking the machine; returns
// the error message the child saw, or a note of how it died.
template <typename Load>
std::string MessageFromBoundedChild(Load load) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return "pipe failed";
  pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    struct rlimit limit = {512u << 20, 512u << 20};
    setrlimit(RLIMIT_AS, &limit);
    // Never back into the test runner from here: a throwing loader (an
    // allocation past the limit) reports and ends the child like any other.
    std::string message;
    try {
      message = load();
    } catch (const std::exception& error) {
      message = std::string("the loader threw: ") + error.what();
    }
    ssize_t written = write(pipe_fds[1], message.data(), message.size());
    _exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
  }
  close(pipe_fds[1]);
  std::string message;
  char buffer[4096];
  ssize_t got;
  while ((got = read(pipe_fds[0], buffer, sizeof buffer)) > 0) message.append(buffer, got);
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return "the loader died with signal " + std::to_string(WTERMSIG(status));
  return message;
}

TEST(ConfigBoundsTest, AnAliasBombAsSandboxOptionsIsRefusedAtTheNodeBound) {
  TempDir project;
  std::string file = project.Write("cairn.yaml", AliasBomb());
  setenv("XDG_CONFIG_HOME", (project.path() + "/config").c_str(), 1);
  setenv("XDG_CACHE_HOME", (project.path() + "/cache").c_str(), 1);
  std::string message = MessageFromBoundedChild([&] {
    ConfigSources sources;
    sources.project_dir = project.path();
    StatusOr<Config> config = LoadConfig(sources, {});
    return config.ok() ? std::string("loaded") : config.status().message();
  });
  EXPECT_NE(message.find(file + ":"), std::string::npos) << message;
  EXPECT_NE(message.find("more than 100000 nodes"), std::string::npos) << message;
}

TEST(ConfigBoundsTest, AliasesWithinTheBoundStillExpand) {
  StatusOr<ConfigNode> node = ConfigNode::Parse("a: &a [x, y]\nb: *a\nc: *a\n", "<test>");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ASSERT_NE(node->Get("c"), nullptr);
  EXPECT_EQ(node->Get("c")->items().size(), 2u);
}

TEST(ConfigBoundsTest, ADocumentLargerThanTheBoundIsRefusedWhereItCrossesIt) {
  TempDir dir;
  std::string text = "a:\n";
  while (text.size() <= kMaxConfigDocumentBytes) text += "  # " + std::string(76, 'x') + "\n";
  std::string file = dir.Write("big.yaml", text);
  StatusOr<ConfigNode> node = ConfigNode::ParseFile(file);
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.status().message().find(file + ":"), std::string::npos) << node.status().message();
  EXPECT_NE(node.status().message().find("larger than 4194304 bytes"), std::string::npos)
      << node.status().message();
}

TEST(ConfigBoundsTest, NestingDeeperThanTheBoundIsRefusedAtTheDeepNode) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "[";
  for (int i = 0; i < 100; ++i) text += "]";
  StatusOr<ConfigNode> node = ConfigNode::Parse(text, "deep.yaml");
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.status().message().find("deep.yaml:1:65: nesting deeper than 64 levels"),
            std::string::npos)
      << node.status().message();
}

TEST(ConfigBoundsTest, AnIntegerPastSixtyFourBitsIsAnErrorNamingItsRange) {
  TempDir home;
  std::string user = home.Write("user.yaml",
                                "remote-execution:\n  url: http://localhost:1\n"
                                "  connection-config:\n    retry-limit: 99999999999999999999999\n");
  setenv("XDG_CONFIG_HOME", (home.path() + "/config").c_str(), 1);
  setenv("XDG_CACHE_HOME", (home.path() + "/cache").c_str(), 1);
  ConfigSources sources;
  sources.project_dir = home.path();
  sources.user_config_file = user;
  StatusOr<Config> config = LoadConfig(sources, {});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(user + ":4:18: 'remote-execution.connection-config."
                                                  "retry-limit' is out of range"),
            std::string::npos)
      << config.status().message();
  EXPECT_NE(config.status().message().find("99999999999999999999999"), std::string::npos);
  EXPECT_NE(config.status().message().find("-9223372036854775808 to 9223372036854775807"),
            std::string::npos)
      << config.status().message();
}

}  // namespace
}  // namespace cairn
