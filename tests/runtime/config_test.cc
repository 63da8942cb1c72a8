#include "cairn/runtime/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "test_files.h"

namespace cairn {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Keep the developer's own configuration out of the tests.
    setenv("XDG_CONFIG_HOME", (home_.path() + "/config").c_str(), 1);
    setenv("XDG_CACHE_HOME", (home_.path() + "/cache").c_str(), 1);
  }
  StatusOr<Config> Load(const ConfigOverrides& overrides = {}, const std::string& user = "") {
    ConfigSources sources;
    sources.project_dir = project_.path();
    sources.user_config_file = user;
    return LoadConfig(sources, overrides);
  }
  TempDir home_;
  TempDir project_;
};

TEST_F(ConfigTest, DefaultsChooseBwrapAndCasLocalUnderTheXdgCache) {
  StatusOr<Config> config = Load();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->sandbox.plugin, "bwrap");
  EXPECT_EQ(config->storage.plugin, "cas-local");
  EXPECT_EQ(config->cache_dir, home_.path() + "/cache/cairn");
  EXPECT_EQ(config->storage.options_yaml, "path: " + home_.path() + "/cache/cairn/cas");
  EXPECT_GE(config->jobs, 1);
}

TEST_F(ConfigTest, AnotherStoragePluginWithOptionsGetsOnlyItsOwn) {
  // The defaults give cas-local a path; cas-remote never sees it.
  project_.Write("cairn.yaml",
                 "storage:\n  plugin: cas-remote\n  options:\n    url: grpc://127.0.0.1:1\n");
  StatusOr<Config> config = Load();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage.plugin, "cas-remote");
  EXPECT_EQ(config->storage.options_yaml, "url: grpc://127.0.0.1:1");
}

TEST_F(ConfigTest, YamlSyntaxErrorNamesFileLineAndColumn) {
  std::string file = project_.Write("cairn.yaml", "sandbox:\n  plugin: [bwrap\n");
  StatusOr<Config> config = Load();
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(config.status().message().rfind(file + ":", 0), 0u) << config.status().message();
  EXPECT_NE(config.status().message().find(file + ":3:1:"), std::string::npos)
      << config.status().message();
}

TEST_F(ConfigTest, UnknownKeyIsAnErrorAtItsPositionListingTheKnownKeys) {
  std::string file =
      project_.Write("cairn.yaml", "sandbox:\n  plugin: bwrap\nsandbx:\n  plugin: chroot\n");
  StatusOr<Config> config = Load();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(file + ":3:1: unknown key 'sandbx'"), std::string::npos)
      << config.status().message();
  EXPECT_NE(config.status().message().find(
                "expected one of: sandbox, local-sandbox, sandboxes, storage, plugin-paths"),
            std::string::npos);
}

TEST_F(ConfigTest, NestedUnknownKeyIsNamedWithItsPath) {
  std::string file = project_.Write("cairn.yaml", "storage:\n  plugin: cas-local\n  opitons: {}\n");
  StatusOr<Config> config = Load();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(file + ":3:3: unknown key 'storage.opitons'"),
            std::string::npos)
      << config.status().message();
}

TEST_F(ConfigTest, WrongTypeNamesWhatWasExpected) {
  std::string user = home_.Write("user.yaml", "jobs: many\n");
  StatusOr<Config> config = Load({}, user);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(user + ":1:7: 'jobs' must be an integer, got 'many'"),
            std::string::npos)
      << config.status().message();
}

TEST_F(ConfigTest, JobsBeyondAnyMachineAreAnErrorNotAnOverflow) {
  std::string user = home_.Write("user.yaml", "jobs: 99999999999\n");
  StatusOr<Config> config = Load({}, user);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(user + ":1:7: 'jobs' must be from 0"), std::string::npos)
      << config.status().message();
}

TEST_F(ConfigTest, DuplicateKeysAreErrors) {
  std::string file =
      project_.Write("cairn.yaml", "sandbox: {plugin: bwrap}\nsandbox: {plugin: chroot}\n");
  StatusOr<Config> config = Load();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(file + ":2:1: duplicate key 'sandbox'"),
            std::string::npos)
      << config.status().message();
}

TEST_F(ConfigTest, ProjectsOnlyBelongInTheUserConfiguration) {
  std::string file = project_.Write("cairn.yaml", "projects:\n  x: {}\n");
  StatusOr<Config> config = Load();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(file + ":1:1: unknown key 'projects'"),
            std::string::npos);
}

TEST_F(ConfigTest, LaterLayersWinDefaultsThenProjectThenUserThenCommandLine) {
  project_.Write(
      "cairn.yaml",
      "sandbox:\n  plugin: chroot\nstorage:\n  plugin: cas-local\n  options: {path: /p}\n");
  StatusOr<Config> project_only = Load();
  ASSERT_TRUE(project_only.ok()) << project_only.status().ToString();
  EXPECT_EQ(project_only->sandbox.plugin, "chroot");
  EXPECT_EQ(project_only->storage.options_yaml, "path: /p");

  std::string user = home_.Write("user.yaml", "jobs: 3\nstorage:\n  options: {path: /u}\n");
  StatusOr<Config> with_user = Load({}, user);
  ASSERT_TRUE(with_user.ok()) << with_user.status().ToString();
  EXPECT_EQ(with_user->jobs, 3);
  EXPECT_EQ(with_user->storage.options_yaml, "path: /u");
  EXPECT_EQ(with_user->sandbox.plugin, "chroot");

  ConfigOverrides flags;
  flags.sandbox = "bwrap";
  flags.jobs = 5;
  StatusOr<Config> with_flags = Load(flags, user);
  ASSERT_TRUE(with_flags.ok());
  EXPECT_EQ(with_flags->sandbox.plugin, "bwrap");
  EXPECT_EQ(with_flags->jobs, 5);
  EXPECT_EQ(with_flags->sandbox.location.file, "<command line>");
}

TEST_F(ConfigTest, PerProjectSectionOfTheUserConfigurationAppliesToThatProjectOnly) {
  project_.Write("project.conf", "name: hello\nformat-version: 18\n");
  std::string user = home_.Write(
      "user.yaml", "jobs: 2\nprojects:\n  hello:\n    jobs: 7\n  other:\n    jobs: 9\n");
  StatusOr<Config> config = Load({}, user);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->project_name, "hello");
  EXPECT_EQ(config->jobs, 7);
}

TEST_F(ConfigTest, SandboxOptionsFollowThePluginWhicheverWayItIsChosen) {
  project_.Write("cairn.yaml",
                 "sandbox:\n  plugin: bwrap\n  options: {bwrap-path: /opt/bwrap}\n"
                 "sandboxes:\n  chroot: {root-cache-size: 2}\n");
  ConfigOverrides flags;
  flags.sandbox = "chroot";
  StatusOr<Config> config = Load(flags);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->sandbox.plugin, "chroot");
  EXPECT_EQ(config->sandbox.options_yaml, "");
  RuntimeOptions options = RuntimeOptionsFor(*config, nullptr);
  EXPECT_EQ(options.build_sandbox.plugin, "chroot");
  EXPECT_EQ(options.sandbox_options["chroot"].options_yaml, "root-cache-size: 2");
  EXPECT_EQ(options.sandbox_options["bwrap"].options_yaml, "bwrap-path: /opt/bwrap");
}

TEST_F(ConfigTest, OptionsOfOnePluginMergeAcrossLayersKeyByKey) {
  project_.Write("cairn.yaml", "sandbox:\n  plugin: bwrap\n  options: {a: 1, b: 1}\n");
  std::string user = home_.Write("user.yaml", "sandboxes:\n  bwrap: {b: 2}\n");
  StatusOr<Config> config = Load({}, user);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->sandbox_options["bwrap"].options_yaml, "a: 1\nb: 2");
}

TEST_F(ConfigTest, TheLocalSandboxIsChosenInTheProjectOrOnTheCommandLine) {
  project_.Write("cairn.yaml", "local-sandbox:\n  plugin: chroot\n  options: {x: 1}\n");
  StatusOr<Config> config = Load();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->local_sandbox.plugin, "chroot");
  EXPECT_EQ(config->sandbox_options["chroot"].options_yaml, "x: 1");
  ConfigOverrides flags;
  flags.local_sandbox = "bwrap";
  StatusOr<Config> overridden = Load(flags);
  ASSERT_TRUE(overridden.ok()) << overridden.status().ToString();
  EXPECT_EQ(overridden->local_sandbox.plugin, "bwrap");
}

TEST_F(ConfigTest, WithoutALocalSandboxTheRuntimeDerivesOne) {
  StatusOr<Config> config = Load();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->local_sandbox.plugin, "");
  EXPECT_EQ(RuntimeOptionsFor(*config, nullptr).scratch_dir, config->cache_dir + "/scratch");
}

TEST_F(ConfigTest, SandboxOptionsMustBeMappings) {
  std::string file = project_.Write("cairn.yaml", "sandboxes:\n  bwrap: [1, 2]\n");
  StatusOr<Config> config = Load();
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(file + ":2:10: 'sandboxes.bwrap' must be a mapping"),
            std::string::npos)
      << config.status().message();
}

TEST_F(ConfigTest, VariablesExpandAndUnknownOnesAreErrors) {
  project_.Write("cairn.yaml",
                 "storage:\n  plugin: cas-local\n  options:\n    path: ${project-dir}/.cas\n");
  StatusOr<Config> config = Load();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage.options_yaml, "path: " + project_.path() + "/.cas");

  std::string file =
      project_.Write("cairn.yaml", "storage:\n  plugin: x\n  options:\n    path: ${nope}\n");
  StatusOr<Config> bad = Load();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(file + ":4:11: unknown variable '${nope}'"),
            std::string::npos)
      << bad.status().message();
}

TEST_F(ConfigTest, PluginOptionsPointAtTheFileThatGaveThem) {
  std::string file =
      project_.Write("cairn.yaml", "storage:\n  plugin: cas-local\n  options:\n    quota: 5G\n");
  StatusOr<Config> config = Load();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->storage.options_location.file, file);
  EXPECT_EQ(config->storage.options_location.line, 4);
}

TEST_F(ConfigTest, RelativePluginPathsAreRelativeToTheFileThatNamesThem) {
  project_.Write("cairn.yaml", "plugin-paths: [plugins]\n");
  StatusOr<Config> config = Load();
  ASSERT_TRUE(config.ok());
  ASSERT_EQ(config->plugin_paths.size(), 1u);
  EXPECT_EQ(config->plugin_paths[0], project_.path() + "/plugins");
}

TEST_F(ConfigTest, PluginPathFlagsAreSearchedFirstAndKeepTheConfiguredPaths) {
  project_.Write("cairn.yaml", "plugin-paths: [/configured]\n");
  ConfigOverrides flags;
  flags.plugin_paths = {"/from-flag"};
  StatusOr<Config> config = Load(flags);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->plugin_paths, (std::vector<std::string>{"/from-flag", "/configured"}));
}

TEST_F(ConfigTest, MissingExplicitUserConfigurationIsAnErrorNamingIt) {
  StatusOr<Config> config = Load({}, home_.path() + "/missing.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), Code::kNotFound);
  EXPECT_NE(config.status().message().find("missing.yaml"), std::string::npos);
}

TEST_F(ConfigTest, RemoteExecutionAndArtifactCachesAreRead) {
  std::string command = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ca -keyout " +
                        home_.path() + "/ca-key.pem -out " + home_.path() +
                        "/ca.pem >/dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::string user =
      home_.Write("user.yaml",
                  "remote-execution:\n  url: grpc://127.0.0.1:8980\n  instance-name: main\n"
                  "artifact-caches:\n  - url: grpcs://cache.example:443\n    push: true\n    "
                  "server-cert: ca.pem\n");
  StatusOr<Config> config = Load({}, user);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(config->remote_execution.has_value());
  EXPECT_EQ(config->remote_execution->instance_name, "main");
  // The remote plugin's options are the endpoint, and point at it.
  const PluginChoice& remote = config->sandbox_options["remote"];
  EXPECT_NE(remote.options_yaml.find("instance-name: main"), std::string::npos);
  EXPECT_EQ(remote.options_location.file, user);
  EXPECT_EQ(remote.options_location.line, config->remote_execution->location.line);
  EXPECT_GT(remote.options_location.line, 1);
  ASSERT_EQ(config->artifact_caches.size(), 1u);
  EXPECT_TRUE(config->artifact_caches[0].push);
  EXPECT_EQ(config->artifact_caches[0].server_cert, home_.path() + "/ca.pem");
}

TEST_F(ConfigTest, BadPushValueNamesItsPosition) {
  std::string user =
      home_.Write("user.yaml", "artifact-caches:\n  - url: grpc://x:1\n    push: yes please\n");
  StatusOr<Config> config = Load({}, user);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(
                user + ":3:11: 'artifact-caches[0].push' must be true or false"),
            std::string::npos)
      << config.status().message();
}

TEST_F(ConfigTest, BytesThatAreNotUtf8AreRefusedWhereTheyStand) {
  std::string file = project_.Write("cairn.yaml", "sandbox:\n  plugin: bw\xffrap\n");
  StatusOr<Config> config = Load();
  ASSERT_FALSE(config.ok());
  // The position of the byte itself.
  EXPECT_NE(config.status().message().find(file + ":2:13: the text is not UTF-8"),
            std::string::npos)
      << config.status().message();
}

// The options given beside a choice, in a file without `sandboxes:`, are
// moved under a `sandboxes:` the loader adds (the fuzzer found that adding
// it once left a pointer into the moved entries: run under ASan there).
TEST_F(ConfigTest, OptionsBesideAChoiceInAFileWithoutSandboxesAreKept) {
  project_.Write("cairn.yaml",
                 "sandbox:\n  plugin: bwrap\n  options: {network: false}\n"
                 "local-sandbox:\n  plugin: chroot\n  options: {root-cache-size: 1}\n");
  StatusOr<Config> config = Load();
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->sandbox_options["bwrap"].options_yaml, "network: false");
  EXPECT_EQ(config->sandbox_options["chroot"].options_yaml, "root-cache-size: 1");
  EXPECT_EQ(config->sandbox.options_yaml, "");
}

TEST_F(ConfigTest, AnInvalidEndpointIsAConfigurationErrorAtItsKey) {
  std::string user = home_.Write("user.yaml", "artifact-caches:\n  - url: smtp://x\n");
  StatusOr<Config> config = Load({}, user);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(user + ":2:10: 'url' smtp://x must start with"),
            std::string::npos)
      << config.status().message();
}

}  // namespace
}  // namespace cairn
