// cairn-server's configuration file (server_config.h): every key is read,
// every mistake is a ConfigError at the FILE:LINE:COLUMN a user must fix.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

#include "cairn/server/server_config.h"
#include "server_fixture.h"
#include "test_files.h"

namespace cairn::server {
namespace {

class ServerConfigTest : public ::testing::Test {
 protected:
  // Writes `text` as DIR/conf/server.yaml and loads it.
  StatusOr<ServerConfig> Load(const std::string& text) {
    file_ = dir_.Write("conf/server.yaml", text);
    return LoadServerConfig(file_);
  }

  // That loading `text` fails at LINE:COLUMN of the file with a message
  // containing `expected`.
  void ExpectErrorAt(const std::string& text, int line, int column, const std::string& expected) {
    StatusOr<ServerConfig> config = Load(text);
    ASSERT_FALSE(config.ok()) << "accepted:\n" << text;
    EXPECT_EQ(config.status().code(), Code::kInvalidArgument);
    std::string where = file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
    EXPECT_EQ(config.status().message().rfind(where, 0), 0u)
        << "expected the error at " << where << "got: " << config.status().message();
    EXPECT_NE(config.status().message().find(expected), std::string::npos)
        << "expected '" << expected << "' in: " << config.status().message();
  }

  // FinishServerConfig's answer for the configuration in `text`.
  Status Finish(const std::string& text) {
    StatusOr<ServerConfig> config = Load(text);
    if (!config.ok()) return config.status();
    return FinishServerConfig(&*config, /*host_tools=*/false);
  }

  TempDir dir_;
  std::string file_;
};

TEST_F(ServerConfigTest, EveryDocumentedKeyIsRead) {
  StatusOr<ServerConfig> config = Load(R"(
listen:
  - grpc://127.0.0.1:8980
  - grpcs://0.0.0.0:8981
  - unix:/run/cairn.sock
tls:
  certificate: /etc/cairn/server.pem
  key: /etc/cairn/server.key
  client-ca: /etc/cairn/ca.pem
tokens: /etc/cairn/tokens.yaml
cache-dir: /var/cache/cairn
storage: {plugin: cas-local, options: {path: /srv/cas, quota: 10G}}
sandbox: {plugin: bwrap, options: {network: false}}
plugin-paths: [/opt/cairn/plugins]
instances:
  - name: ""
  - name: bazel
    host-tools: true
    sandbox: {plugin: chroot, options: {root: /}}
executions: 4
limits:
  max-batch-size: 8M
  max-blob-size: 1G
  max-queue: 50
metrics-listen: 127.0.0.1:9090
log-level: debug
request-log-level: warn
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->listen.size(), 3u);
  EXPECT_EQ(config->listen[0].kind, ListenAddress::Kind::kTcp);
  EXPECT_EQ(config->listen[0].host, "127.0.0.1");
  EXPECT_EQ(config->listen[0].port, 8980);
  EXPECT_EQ(config->listen[0].GrpcAddress(), "127.0.0.1:8980");
  EXPECT_EQ(config->listen[0].location.line, 3);
  EXPECT_EQ(config->listen[1].kind, ListenAddress::Kind::kTls);
  EXPECT_EQ(config->listen[1].port, 8981);
  EXPECT_EQ(config->listen[2].kind, ListenAddress::Kind::kUnix);
  EXPECT_EQ(config->listen[2].GrpcAddress(), "unix:/run/cairn.sock");
  EXPECT_EQ(config->tls.certificate, "/etc/cairn/server.pem");
  EXPECT_EQ(config->tls.key, "/etc/cairn/server.key");
  EXPECT_EQ(config->tls.client_ca, "/etc/cairn/ca.pem");
  EXPECT_EQ(config->tokens_file, "/etc/cairn/tokens.yaml");
  EXPECT_EQ(config->cache_dir, "/var/cache/cairn");
  EXPECT_EQ(config->storage.plugin, "cas-local");
  EXPECT_NE(config->storage.options_yaml.find("/srv/cas"), std::string::npos);
  EXPECT_NE(config->storage.options_yaml.find("10G"), std::string::npos);
  EXPECT_EQ(config->sandbox.plugin, "bwrap");
  EXPECT_NE(config->sandbox.options_yaml.find("network"), std::string::npos);
  ASSERT_EQ(config->plugin_paths.size(), 1u);
  EXPECT_EQ(config->plugin_paths[0], "/opt/cairn/plugins");
  ASSERT_EQ(config->instances.size(), 2u);
  EXPECT_EQ(config->instances[0].name, "");
  EXPECT_FALSE(config->instances[0].host_tools);
  EXPECT_EQ(config->instances[1].name, "bazel");
  EXPECT_TRUE(config->instances[1].host_tools);
  EXPECT_EQ(config->instances[1].sandbox.plugin, "chroot");
  EXPECT_EQ(config->executions, 4);
  EXPECT_EQ(config->limits.max_batch_size, 8u << 20);
  EXPECT_EQ(config->limits.max_blob_size, 1u << 30);
  EXPECT_EQ(config->limits.max_queue, 50u);
  EXPECT_EQ(config->metrics_listen, "127.0.0.1:9090");
  EXPECT_EQ(config->log_level, "debug");
  EXPECT_EQ(config->request_log_level, "warn");
  EXPECT_EQ(config->file, file_);
}

TEST_F(ServerConfigTest, AnEmptyFileLeavesTheDefaults) {
  StatusOr<ServerConfig> config = Load("");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->listen.empty());
  EXPECT_EQ(config->limits.max_batch_size, 4u << 20);
  EXPECT_EQ(config->limits.max_blob_size, 0u);
  EXPECT_EQ(config->limits.max_queue, 1000u);
  EXPECT_EQ(config->log_level, "info");
  EXPECT_EQ(config->executions, 0);
}

TEST_F(ServerConfigTest, RelativePathsAreRelativeToTheConfigurationFilesDirectory) {
  StatusOr<ServerConfig> config = Load(R"(
listen: [grpcs://127.0.0.1:0]
tls: {certificate: tls/server.pem, key: ./tls/server.key, client-ca: ../ca.pem}
tokens: tokens.yaml
cache-dir: cache
plugin-paths: [plugins, /abs/plugins]
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const std::string conf = dir_.path() + "/conf";
  EXPECT_EQ(config->tls.certificate, conf + "/tls/server.pem");
  EXPECT_EQ(config->tls.key, conf + "/tls/server.key");
  EXPECT_EQ(config->tls.client_ca, dir_.path() + "/ca.pem");
  EXPECT_EQ(config->tokens_file, conf + "/tokens.yaml");
  EXPECT_EQ(config->cache_dir, conf + "/cache");
  ASSERT_EQ(config->plugin_paths.size(), 2u);
  EXPECT_EQ(config->plugin_paths[0], conf + "/plugins");
  EXPECT_EQ(config->plugin_paths[1], "/abs/plugins");
}

TEST_F(ServerConfigTest, AnUnknownKeyIsAnErrorAtItsPosition) {
  ExpectErrorAt("listen: [grpc://127.0.0.1:0]\nsandbx: {plugin: bwrap}\n", 2, 1, "'sandbx'");
  ExpectErrorAt("tls:\n  certificate: a.pem\n  cert-key: a.key\n", 3, 3, "'tls.cert-key'");
  ExpectErrorAt("instances:\n  - name: a\n    host_tools: true\n", 3, 5, "host_tools");
  ExpectErrorAt("limits:\n  max-batch: 4M\n", 2, 3, "max-batch");
}

TEST_F(ServerConfigTest, ActionTimeoutsAreSecondsWithTheDefaultWithinTheMaximum) {
  StatusOr<ServerConfig> config =
      Load("limits:\n  max-action-timeout: 600\n  default-action-timeout: 60\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->limits.max_action_timeout_s, 600);
  EXPECT_EQ(config->limits.default_action_timeout_s, 60);
  ExpectErrorAt("limits:\n  max-action-timeout: 60\n  default-action-timeout: 600\n", 3, 27,
                "longer than 'limits.max-action-timeout'");
  ExpectErrorAt("limits:\n  max-action-timeout: 0\n", 2, 23, "from 1 to 604800");
}

TEST_F(ServerConfigTest, AValueOfTheWrongShapeIsAnError) {
  ExpectErrorAt("listen: grpc://127.0.0.1:0\n", 1, 9, "list");
  ExpectErrorAt("instances:\n  - name: a\n    host-tools: yes-please\n", 3, 17, "true or false");
}

TEST_F(ServerConfigTest, AListenUrlWithAnotherSchemeIsAnError) {
  ExpectErrorAt("listen:\n  - http://127.0.0.1:8980\n", 2, 5,
                "must be grpc://HOST:PORT, grpcs://HOST:PORT or unix:PATH");
  ExpectErrorAt("listen:\n  - 127.0.0.1:8980\n", 2, 5, "'127.0.0.1:8980'");
}

TEST_F(ServerConfigTest, AListenPortOutOfRangeOrMissingIsAnError) {
  ExpectErrorAt("listen:\n  - grpc://127.0.0.1:65536\n", 2, 5, "port '65536'");
  ExpectErrorAt("listen:\n  - grpc://127.0.0.1:-1\n", 2, 5, "port '-1'");
  ExpectErrorAt("listen:\n  - grpc://127.0.0.1:http\n", 2, 5, "port 'http'");
  ExpectErrorAt("listen:\n  - \"grpc://127.0.0.1: 80\"\n", 2, 5, "port ' 80'");
  ExpectErrorAt("listen:\n  - grpcs://127.0.0.1\n", 2, 5, "needs a host and a port");
  ExpectErrorAt("listen:\n  - grpc://:8980\n", 2, 5, "needs a host and a port");
  ExpectErrorAt("listen:\n  - grpc://[::1]\n", 2, 5, "port");
  ExpectErrorAt("listen:\n  - \"unix:\"\n", 2, 5, "names no socket path");
}

TEST_F(ServerConfigTest, ListenUrlsOfEveryFormParse) {
  StatusOr<ListenAddress> v6 = ParseListenAddress("grpc://[::1]:8980", {});
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->GrpcAddress(), "[::1]:8980");
  StatusOr<ListenAddress> highest = ParseListenAddress("grpcs://localhost:65535", {});
  ASSERT_TRUE(highest.ok()) << highest.status().ToString();
  EXPECT_EQ(highest->port, 65535);
  StatusOr<ListenAddress> unix_slashes = ParseListenAddress("unix:///run/x.sock", {});
  ASSERT_TRUE(unix_slashes.ok()) << unix_slashes.status().ToString();
  EXPECT_EQ(unix_slashes->GrpcAddress(), "unix:/run/x.sock");
}

TEST_F(ServerConfigTest, MaxBatchSizeMustBeASizeFrom1KTo1G) {
  ExpectErrorAt("limits:\n  max-batch-size: 512\n", 2, 19, "from 1K to 1G");
  ExpectErrorAt("limits:\n  max-batch-size: 2G\n", 2, 19, "from 1K to 1G");
  ExpectErrorAt("limits:\n  max-batch-size: lots\n", 2, 19, "limits.max-batch-size");
  ExpectErrorAt("limits:\n  max-blob-size: 3Q\n", 2, 18, "limits.max-blob-size");
  ExpectErrorAt("limits:\n  max-queue: -1\n", 2, 14, "limits.max-queue");
  StatusOr<ServerConfig> lowest = Load("limits: {max-batch-size: 1K}\n");
  ASSERT_TRUE(lowest.ok()) << lowest.status().ToString();
  EXPECT_EQ(lowest->limits.max_batch_size, 1024u);
  StatusOr<ServerConfig> highest = Load("limits: {max-batch-size: 1G}\n");
  ASSERT_TRUE(highest.ok()) << highest.status().ToString();
  EXPECT_EQ(highest->limits.max_batch_size, 1u << 30);
}

TEST_F(ServerConfigTest, ExecutionsMustBeFrom1To4096) {
  ExpectErrorAt("executions: 0\n", 1, 13, "from 1 to 4096");
  ExpectErrorAt("executions: 4097\n", 1, 13, "from 1 to 4096");
  ExpectErrorAt("executions: many\n", 1, 13, "executions");
  StatusOr<ServerConfig> most = Load("executions: 4096\n");
  ASSERT_TRUE(most.ok()) << most.status().ToString();
  EXPECT_EQ(most->executions, 4096);
}

TEST_F(ServerConfigTest, AnInstanceNameConfiguredTwiceNamesBothPlaces) {
  ExpectErrorAt("instances:\n  - name: a\n  - name: b\n  - name: a\n", 4, 5,
                "configured twice (first at " + dir_.path() + "/conf/server.yaml:2:5)");
  ExpectErrorAt("instances:\n  - {}\n  - name: \"\"\n", 3, 5, "'' is configured twice");
}

TEST_F(ServerConfigTest, AnInstanceNameWithAReservedSegmentIsAnError) {
  for (const char* name : {"blobs", "a/uploads", "compressed-blobs/x", "x/operations/y", "actions",
                           "actionResults", "capabilities"}) {
    SCOPED_TRACE(name);
    ExpectErrorAt(std::string("instances:\n  - name: ") + name + "\n", 2, 5, "reserved segment");
  }
  for (const char* name : {"/a", "a/", "a//b"}) {
    SCOPED_TRACE(name);
    ExpectErrorAt(std::string("instances:\n  - name: ") + name + "\n", 2, 5, "non-empty segments");
  }
  StatusOr<ServerConfig> fine = Load("instances:\n  - name: team/myblobs/uploads-x\n");
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
}

TEST_F(ServerConfigTest, LogLevelsAreChecked) {
  ExpectErrorAt("log-level: verbose\n", 1, 12, "'log-level' must be one of");
  ExpectErrorAt("request-log-level: loud\n", 1, 20, "'request-log-level' must be one of");
  for (const char* level : {"trace", "debug", "info", "warn", "error"}) {
    StatusOr<ServerConfig> config =
        Load(std::string("log-level: ") + level + "\nrequest-log-level: " + level + "\n");
    ASSERT_TRUE(config.ok()) << level << ": " << config.status().ToString();
    EXPECT_EQ(config->log_level, level);
    EXPECT_EQ(config->request_log_level, level);
  }
}

TEST_F(ServerConfigTest, MetricsListenMustBeHostAndPort) {
  ExpectErrorAt("metrics-listen: localhost\n", 1, 17, "HOST:PORT");
  ExpectErrorAt("metrics-listen: 127.0.0.1:99999\n", 1, 17, "HOST:PORT");
  ExpectErrorAt("metrics-listen: \"127.0.0.1:\"\n", 1, 17, "HOST:PORT");
}

TEST_F(ServerConfigTest, GrpcsNeedsACertificateAndKey) {
  Status finished = Finish("listen: [grpcs://127.0.0.1:0]\ncache-dir: /tmp/x\n");
  EXPECT_EQ(finished.code(), Code::kInvalidArgument);
  EXPECT_NE(finished.message().find("needs tls.certificate and tls.key"), std::string::npos)
      << finished.message();
  finished = Finish("listen: [grpcs://127.0.0.1:0]\ncache-dir: /tmp/x\ntls: {certificate: c}\n");
  EXPECT_EQ(finished.code(), Code::kInvalidArgument);
  EXPECT_TRUE(
      Finish("listen: [grpcs://127.0.0.1:0]\ncache-dir: /tmp/x\ntls: {certificate: c, key: k}\n")
          .ok());
}

TEST_F(ServerConfigTest, AClientCaWithoutAGrpcsAddressIsAnError) {
  Status finished = Finish(
      "listen: [grpc://127.0.0.1:0]\ncache-dir: /tmp/x\n"
      "tls: {certificate: c, key: k, client-ca: ca}\n");
  EXPECT_EQ(finished.code(), Code::kInvalidArgument);
  EXPECT_NE(finished.message().find("tls.client-ca"), std::string::npos) << finished.message();
}

TEST_F(ServerConfigTest, NoListenAddressIsAnError) {
  Status finished = Finish("cache-dir: /tmp/x\n");
  EXPECT_EQ(finished.code(), Code::kInvalidArgument);
  EXPECT_NE(finished.message().find("--listen"), std::string::npos) << finished.message();
}

TEST_F(ServerConfigTest, FinishingChecksWhatFlagsSetWithoutTheFile) {
  ServerConfig config;
  config.listen.push_back(*ParseListenAddress("grpc://127.0.0.1:0", {}));
  config.cache_dir = "/tmp/x";
  config.metrics_listen = "localhost";
  Status finished = FinishServerConfig(&config, false);
  EXPECT_EQ(finished.code(), Code::kInvalidArgument);
  EXPECT_NE(finished.message().find("'localhost'"), std::string::npos) << finished.message();
  config.metrics_listen = "127.0.0.1:0";
  config.log_level = "loud";
  finished = FinishServerConfig(&config, false);
  EXPECT_EQ(finished.code(), Code::kInvalidArgument);
  EXPECT_NE(finished.message().find("'loud'"), std::string::npos) << finished.message();
  config.log_level = "warn";
  EXPECT_TRUE(FinishServerConfig(&config, false).ok());
}

TEST_F(ServerConfigTest, FinishingFillsTheCacheDirStoreSandboxAndDefaultInstance) {
  std::string saved = getenv("XDG_CACHE_HOME") != nullptr ? getenv("XDG_CACHE_HOME") : "";
  setenv("XDG_CACHE_HOME", "/xdg", 1);
  StatusOr<ServerConfig> config = Load("listen: [grpc://127.0.0.1:0]\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  Status finished = FinishServerConfig(&*config, /*host_tools=*/true);
  if (saved.empty()) {
    unsetenv("XDG_CACHE_HOME");
  } else {
    setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  }
  ASSERT_TRUE(finished.ok()) << finished.ToString();
  EXPECT_EQ(config->cache_dir, "/xdg/cairn-server");
  EXPECT_EQ(config->storage.plugin, "cas-local");
  EXPECT_NE(config->storage.options_yaml.find("/xdg/cairn-server/cas"), std::string::npos);
  EXPECT_EQ(config->sandbox.plugin, "bwrap");
  ASSERT_EQ(config->instances.size(), 1u);
  EXPECT_EQ(config->instances[0].name, "");
  EXPECT_TRUE(config->instances[0].host_tools);
  EXPECT_GE(config->executions, 1);
}

TEST_F(ServerConfigTest, CasLocalWithoutAPathKeepsItsStoreInTheCacheDir) {
  StatusOr<ServerConfig> config = Load(
      "listen: [grpc://127.0.0.1:0]\ncache-dir: /srv/cache\n"
      "storage: {plugin: cas-local, options: {quota: 10G}}\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(FinishServerConfig(&*config, false).ok());
  EXPECT_NE(config->storage.options_yaml.find("/srv/cache/cas"), std::string::npos)
      << config->storage.options_yaml;
  EXPECT_NE(config->storage.options_yaml.find("10G"), std::string::npos)
      << config->storage.options_yaml;
}

TEST_F(ServerConfigTest, SandboxNoneTurnsExecutionOff) {
  StatusOr<ServerConfig> config =
      Load("listen: [grpc://127.0.0.1:0]\ncache-dir: /tmp/x\nsandbox: {plugin: none}\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(FinishServerConfig(&*config, false).ok());
  EXPECT_EQ(config->sandbox.plugin, "");
}

TEST_F(ServerConfigTest, TheHostToolsFlagSkipsAnInstanceThatDoesNotExecute) {
  StatusOr<ServerConfig> config = Load(
      "listen: [grpc://127.0.0.1:0]\ncache-dir: /tmp/x\n"
      "instances:\n  - name: \"\"\n  - name: cache\n    sandbox: {plugin: none}\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_TRUE(FinishServerConfig(&*config, /*host_tools=*/true).ok());
  EXPECT_TRUE(config->instances[0].host_tools);
  EXPECT_FALSE(config->instances[1].host_tools);
}

// An instance with `sandbox: {plugin: none}` caches but does not execute,
// beside one that does.
TEST_F(ServerTest, AnInstanceWithSandboxNoneOnlyCaches) {
  StartServer([](ServerConfig& config) {
    InstanceConfig executes;
    InstanceConfig cache_only;
    cache_only.name = "cache-only";
    cache_only.sandbox.plugin = kNoSandbox;
    config.instances = {executes, cache_only};
  });
  for (const std::string instance : {"", "cache-only"}) {
    SCOPED_TRACE(instance);
    reapi::GetCapabilitiesRequest request;
    request.set_instance_name(instance);
    reapi::ServerCapabilities response;
    grpc::Status status = capabilities_->GetCapabilities(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.execution_capabilities().exec_enabled(), instance.empty());
    Upload("cached on " + instance, instance);
  }
}

TEST_F(ServerTest, HostToolsOnAnInstanceWithSandboxNoneIsAnError) {
  ServerConfig config = DefaultConfig();
  InstanceConfig instance;
  instance.name = "bazel";
  instance.host_tools = true;
  instance.sandbox.plugin = kNoSandbox;
  config.instances = {instance};
  ASSERT_TRUE(FinishServerConfig(&config, false).ok());
  StatusOr<std::unique_ptr<Server>> server = Server::Start(config);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("host-tools needs a sandbox"), std::string::npos)
      << server.status().message();
  EXPECT_NE(server.status().message().find("\"bazel\""), std::string::npos)
      << server.status().message();
}

TEST_F(ServerConfigTest, AMissingFileIsAnErrorNamingIt) {
  StatusOr<ServerConfig> config = LoadServerConfig(dir_.path() + "/nope.yaml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(dir_.path() + "/nope.yaml"), std::string::npos)
      << config.status().message();
}

}  // namespace
}  // namespace cairn::server
