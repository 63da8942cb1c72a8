#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "cairn/host/command.h"
#include "test_files.h"

namespace cairn {
namespace {

struct CliResult {
  int code;
  std::string out;
  std::string err;
};

CliResult Cli(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = RunCli(args, out, err);
  return {code, out.str(), err.str()};
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("XDG_CONFIG_HOME", (home_.path() + "/config").c_str(), 1);
    setenv("XDG_CACHE_HOME", (home_.path() + "/cache").c_str(), 1);
  }
  TempDir home_;
};

TEST_F(CliTest, HelpListsEveryCommandAndDocumentsExitCodes) {
  CliResult result = Cli({"--help"});
  EXPECT_EQ(result.code, 0);
  for (const CommandSpec& command : AllCommands()) {
    EXPECT_NE(result.out.find(std::string("  ") + command.name), std::string::npos) << command.name;
  }
  EXPECT_NE(result.out.find("Exit status:"), std::string::npos);
  EXPECT_NE(result.out.find("130  interrupted"), std::string::npos);
}

TEST_F(CliTest, EveryCommandHasItsOwnHelpStartingWithUsage) {
  for (const CommandSpec& command : AllCommands()) {
    CliResult result = Cli({command.name, "--help"});
    EXPECT_EQ(result.code, 0) << command.name << ": " << result.err;
    EXPECT_EQ(result.out.rfind("Usage: cairn " + std::string(command.name), 0), 0u)
        << command.name << " help was: " << result.out;
  }
}

TEST_F(CliTest, NoCommandIsAUsageError) {
  CliResult result = Cli({});
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.err.find("Usage: cairn"), std::string::npos);
}

TEST_F(CliTest, UnknownCommandIsAUsageErrorNamingIt) {
  CliResult result = Cli({"biuld"});
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.err.find("unknown command 'biuld'"), std::string::npos);
}

TEST_F(CliTest, VersionNamesThePluginAbi) {
  CliResult result = Cli({"--version"});
  EXPECT_EQ(result.code, 0);
  EXPECT_NE(result.out.find("plugin ABI 1.1"), std::string::npos);
}

TEST_F(CliTest, PluginsListsLoadedAndDisabledPluginsWithReasons) {
  CliResult result = Cli({"plugins", "--plugin-path", CAIRN_VARIANT_DIR});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("NAME"), std::string::npos);
  EXPECT_NE(result.out.find("variant-good"), std::string::npos);
  EXPECT_NE(result.out.find(std::string(CAIRN_VARIANT_DIR) + "/no-entry.so"), std::string::npos);
  EXPECT_NE(result.out.find("reason: has no entry symbol"), std::string::npos);
  EXPECT_NE(result.out.find("reason: it was built for plugin ABI 2."), std::string::npos);
  EXPECT_NE(result.out.find("reason: required callback 'execute' is NULL"), std::string::npos);
}

TEST_F(CliTest, ConfigurationErrorExitsThreeWithFileLineColumn) {
  TempDir project;
  std::string file = project.Write("cairn.yaml", "sandbox:\n  plugin: bwrap\n  option: {}\n");
  CliResult result = Cli({"--project", project.path(), "config"});
  EXPECT_EQ(result.code, 3);
  EXPECT_NE(result.err.find(file + ":3:3: unknown key 'sandbox.option'"), std::string::npos)
      << result.err;
}

TEST_F(CliTest, APluginRejectingItsOptionsNamesTheFileLineAndColumnThatGaveThem) {
  TempDir project;
  std::string file = project.Write(
      "cairn.yaml", "storage:\n  plugin: cas-local\n  options:\n    path: " + project.path() +
                        "/cas\n    quota: lots\n");
  CliResult result = Cli({"--project", project.path(), "cas", "stats"});
  EXPECT_EQ(result.code, 4) << result.err;
  EXPECT_NE(result.err.find(file + ":4:5: storage plugin cas-local: open:"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("'quota'"), std::string::npos) << result.err;
}

TEST_F(CliTest, UnknownSandboxPluginExitsFourListingWhatExists) {
  CliResult result = Cli({"--plugin-path", CAIRN_VARIANT_DIR, "--sandbox", "nonesuch", "run",
                          "--root", home_.path(), "--", "true"});
  EXPECT_EQ(result.code, 4) << result.err;
  EXPECT_NE(result.err.find("no sandbox plugin named 'nonesuch'"), std::string::npos) << result.err;
}

// The three crashing variants sit first on the search path in each of
// these: a command must survive them unless it uses one.
TEST_F(CliTest, PluginsListsLibrariesThatCrashWhileLoadingAsDisabledWithTheirSignal) {
  CliResult result =
      Cli({"plugins", "--plugin-path", CAIRN_CRASHING_DIR, "--plugin-path", CAIRN_VARIANT_DIR});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find(std::string(CAIRN_CRASHING_DIR) +
                            "/crash-in-entry.so\n"
                            "    reason: crashed with SIGSEGV while loading"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find(std::string(CAIRN_CRASHING_DIR) +
                            "/crash-in-constructor.so\n"
                            "    reason: crashed with SIGABRT while loading"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("variant-crash-in-create"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("variant-good"), std::string::npos) << result.out;
}

TEST_F(CliTest, CasStatsWorksWithCrashingPluginsOnTheSearchPath) {
  TempDir project;
  project.Write("cairn.yaml", "storage:\n  plugin: cas-local\n  options:\n    path: " +
                                  project.path() + "/cas\n");
  CliResult result =
      Cli({"--project", project.path(), "--plugin-path", CAIRN_CRASHING_DIR, "cas", "stats"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_FALSE(result.out.empty());
}

TEST_F(CliTest, CasStatsSkipsACrashingLibraryNamedForAnotherPlugin) {
  TempDir plugins;
  std::filesystem::copy_file(std::string(CAIRN_CRASHING_DIR) + "/crash-in-entry.so",
                             plugins.path() + "/cairn-crasher.so");
  CliResult result = Cli({"--cache-dir", home_.path() + "/cache-dir", "--plugin-path",
                          plugins.path(), "cas", "stats"});
  EXPECT_EQ(result.code, 0) << result.err;
}

TEST_F(CliTest, RunReachesItsSandboxPastCrashingPluginsOnTheSearchPath) {
  CliResult result =
      Cli({"--plugin-path", CAIRN_CRASHING_DIR, "--plugin-path", CAIRN_VARIANT_DIR, "--sandbox",
           "variant-good", "run", "--root", home_.path(), "--", "true"});
  // The variant sandbox runs nothing: its own error proves it was reached.
  EXPECT_NE(result.err.find("the variant plugin executes nothing"), std::string::npos)
      << result.err;
}

TEST_F(CliTest, UnknownPluginErrorSearchedEachDirectoryOnce) {
  CliResult result = Cli({"--plugin-path", CAIRN_VARIANT_DIR, "--plugin-path",
                          std::string(CAIRN_VARIANT_DIR) + "/", "--sandbox", "nonesuch", "run",
                          "--root", home_.path(), "--", "true"});
  EXPECT_EQ(result.code, 4) << result.err;
  size_t first = result.err.find(CAIRN_VARIANT_DIR);
  ASSERT_NE(first, std::string::npos) << result.err;
  EXPECT_EQ(result.err.find(CAIRN_VARIANT_DIR, first + 1), std::string::npos) << result.err;
}

}  // namespace
}  // namespace cairn
