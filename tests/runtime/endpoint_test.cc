// Remote endpoints are validated when the configuration is read: the URL,
// every credential file, PEM contents and the key matching its
// certificate, each error at the FILE:LINE:COLUMN of the key at fault.
// Certificates are made by the test with the openssl command.
#include "cairn/runtime/endpoint.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "cairn/status_details.h"
#include "test_files.h"

namespace cairn {
namespace {

class EndpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a", "b"}) {
      std::string command =
          "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + std::string(name) +
          " -keyout " + dir_.path() + "/" + name + "-key.pem -out " + dir_.path() + "/" + name +
          "-cert.pem >/dev/null 2>&1";
      ASSERT_EQ(std::system(command.c_str()), 0) << "openssl could not make a certificate";
    }
  }

  // Reads `yaml` (one endpoint mapping) as if from FILE endpoint.yaml.
  StatusOr<RemoteEndpoint> Read(const std::string& yaml) {
    file_ = dir_.Write("endpoint.yaml", yaml);
    StatusOr<ConfigNode> node = ConfigNode::ParseFile(file_);
    if (!node.ok()) return node.status();
    return ReadEndpoint(*node);
  }

  void ExpectError(const std::string& yaml, const std::string& where, const std::string& what) {
    StatusOr<RemoteEndpoint> endpoint = Read(yaml);
    ASSERT_FALSE(endpoint.ok()) << yaml;
    EXPECT_EQ(ErrorReason(endpoint.status()), kReasonConfiguration);
    EXPECT_NE(endpoint.status().message().find(file_ + ":" + where + ": "), std::string::npos)
        << endpoint.status().message();
    EXPECT_NE(endpoint.status().message().find(what), std::string::npos)
        << endpoint.status().message();
  }

  TempDir dir_;
  std::string file_;
};

TEST_F(EndpointTest, AMutualTlsEndpointWithAMatchingKeyIsReadWithAbsolutePaths) {
  dir_.Write("token", "secret\n");
  StatusOr<RemoteEndpoint> endpoint = Read(
      "url: grpcs://cache.example:443\ninstance-name: main\nserver-cert: a-cert.pem\n"
      "client-cert: b-cert.pem\nclient-key: b-key.pem\naccess-token: token\n"
      "connection-config: {retry-limit: 2, retry-delay: 50}\n");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  EXPECT_EQ(endpoint->server_cert, dir_.path() + "/a-cert.pem");
  EXPECT_EQ(endpoint->client_key, dir_.path() + "/b-key.pem");
  EXPECT_EQ(endpoint->access_token, dir_.path() + "/token");
  EXPECT_EQ(endpoint->connection.retry_limit, 2);
  EXPECT_EQ(endpoint->connection.retry_delay_ms, 50);
  EXPECT_EQ(endpoint->connection.request_timeout_s, 60);
}

TEST_F(EndpointTest, EveryUrlSchemeCairnSpeaksIsAccepted) {
  for (const char* url : {"grpc://h:1", "grpcs://h:1", "http://h", "https://h", "unix:/run/s"}) {
    EXPECT_TRUE(Read(std::string("url: ") + url + "\n").ok()) << url;
  }
}

TEST_F(EndpointTest, AnUnknownSchemeIsAnErrorAtTheUrl) {
  ExpectError("instance-name: x\nurl: ftp://h\n", "2:6", "must start with grpc://");
}

TEST_F(EndpointTest, AMissingUrlIsAnError) {
  ExpectError("instance-name: x\n", "1:1", "'url' is required");
}

TEST_F(EndpointTest, AnUnreadableCertificateIsNamedWithItsPath) {
  ExpectError("url: grpcs://h:1\nserver-cert: nope.pem\n", "2:14",
              dir_.path() + "/nope.pem cannot be read");
}

TEST_F(EndpointTest, AFileThatIsNotPemIsRefused) {
  dir_.Write("garbage.pem", "not a certificate\n");
  ExpectError("url: grpcs://h:1\nserver-cert: garbage.pem\n", "2:14", "is not a PEM certificate");
}

TEST_F(EndpointTest, AClientCertificateWithoutItsKeyIsRefused) {
  ExpectError("url: grpcs://h:1\nclient-cert: a-cert.pem\n", "2:14", "must be given together");
}

TEST_F(EndpointTest, AKeyThatDoesNotMatchItsCertificateIsRefused) {
  ExpectError("url: grpcs://h:1\nclient-cert: a-cert.pem\nclient-key: b-key.pem\n", "3:13",
              "does not match 'client-cert'");
}

TEST_F(EndpointTest, AnUnreadableTokenFileIsRefused) {
  ExpectError("url: grpc://h:1\naccess-token: missing-token\n", "2:15", "cannot be read");
}

TEST_F(EndpointTest, ConnectionNumbersOutOfRangeAreRefused) {
  ExpectError("url: grpc://h:1\nconnection-config:\n  retry-limit: 1000\n", "3:16",
              "'connection-config.retry-limit' must be a whole number from 0 to 100");
}

TEST_F(EndpointTest, PluginOptionsCarryEveryField) {
  StatusOr<RemoteEndpoint> endpoint =
      Read("url: grpcs://cairn.example:443\ninstance-name: \"a: b\"\nserver-cert: a-cert.pem\n");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  StatusOr<ConfigNode> options = ConfigNode::Parse(endpoint->ToYaml(), "<options>");
  ASSERT_TRUE(options.ok()) << options.status().ToString() << "\n" << endpoint->ToYaml();
  EXPECT_EQ(options->Get("url")->scalar(), "grpcs://cairn.example:443");
  EXPECT_EQ(options->Get("instance-name")->scalar(), "a: b");
  EXPECT_EQ(options->Get("server-cert")->scalar(), dir_.path() + "/a-cert.pem");
  EXPECT_EQ(options->Get("connection-config")->Get("request-timeout")->scalar(), "60");
}

TEST_F(EndpointTest, ServiceSectionsAreReadAsEndpointsAndReachThePlugin) {
  StatusOr<RemoteEndpoint> endpoint = Read(
      "url: grpc://exec:1\nstorage-service:\n  url: grpcs://cas:2\n  server-cert: a-cert.pem\n"
      "action-cache-service:\n  url: unix:/run/ac.sock\n  instance-name: ac\n");
  ASSERT_TRUE(endpoint.ok()) << endpoint.status().ToString();
  ASSERT_NE(endpoint->storage_service, nullptr);
  EXPECT_EQ(endpoint->storage_service->server_cert, dir_.path() + "/a-cert.pem");
  ASSERT_NE(endpoint->action_cache_service, nullptr);
  EXPECT_EQ(endpoint->action_cache_service->instance_name, "ac");
  StatusOr<ConfigNode> options = ConfigNode::Parse(endpoint->ToYaml(), "<options>");
  ASSERT_TRUE(options.ok()) << options.status().ToString() << "\n" << endpoint->ToYaml();
  EXPECT_EQ(options->Get("storage-service")->Get("url")->scalar(), "grpcs://cas:2");
  EXPECT_EQ(options->Get("action-cache-service")->Get("instance-name")->scalar(), "ac");
  EXPECT_EQ(options->Get("url")->scalar(), "grpc://exec:1");
}

TEST_F(EndpointTest, AServiceSectionIsValidatedAtItsOwnKeys) {
  ExpectError("url: grpc://exec:1\nstorage-service:\n  url: ftp://cas\n", "3:8",
              "must start with grpc://");
}

TEST_F(EndpointTest, CertificatesOnAPlainUrlAreRefused) {
  ExpectError("url: grpc://h:1\nserver-cert: a-cert.pem\n", "2:14", "is not TLS");
}

TEST_F(EndpointTest, ARequestTimeoutOfZeroIsRefused) {
  ExpectError("url: grpc://h:1\nconnection-config:\n  request-timeout: 0\n", "3:20",
              "from 1 to 86400");
}

TEST_F(EndpointTest, AnArtifactCacheTakesBuildStreamsTypeAndAuthSection) {
  dir_.Write("token", "secret\n");
  file_ = dir_.Write("caches.yaml",
                     "- url: grpcs://cache:443\n  type: index\n  push: true\n  auth:\n"
                     "    server-cert: a-cert.pem\n    access-token: token\n"
                     "- url: grpc://bytes:1\n  type: storage\n");
  StatusOr<ConfigNode> node = ConfigNode::ParseFile(file_);
  ASSERT_TRUE(node.ok());
  StatusOr<std::vector<RemoteEndpoint>> caches = ReadArtifactCaches(*node);
  ASSERT_TRUE(caches.ok()) << caches.status().ToString();
  ASSERT_EQ(caches->size(), 2u);
  EXPECT_EQ((*caches)[0].type, CacheType::kIndex);
  EXPECT_TRUE((*caches)[0].push);
  EXPECT_EQ((*caches)[0].server_cert, dir_.path() + "/a-cert.pem");
  EXPECT_EQ((*caches)[0].access_token, dir_.path() + "/token");
  EXPECT_EQ((*caches)[1].type, CacheType::kStorage);
  EXPECT_FALSE((*caches)[1].push);
}

TEST_F(EndpointTest, AProjectsArtifactsMayBeOneMappingAndUnknownKeysAreNamed) {
  file_ = dir_.Write("one.yaml", "url: grpc://cache:1\n");
  StatusOr<ConfigNode> one = ConfigNode::ParseFile(file_);
  ASSERT_TRUE(one.ok());
  StatusOr<std::vector<RemoteEndpoint>> caches = ReadArtifactCaches(*one);
  ASSERT_TRUE(caches.ok()) << caches.status().ToString();
  EXPECT_EQ(caches->size(), 1u);
  file_ = dir_.Write("bad.yaml", "- url: grpc://cache:1\n  tpye: all\n");
  StatusOr<ConfigNode> bad = ConfigNode::ParseFile(file_);
  ASSERT_TRUE(bad.ok());
  caches = ReadArtifactCaches(*bad);
  ASSERT_FALSE(caches.ok());
  EXPECT_NE(caches.status().message().find(file_ + ":2:3"), std::string::npos)
      << caches.status().message();
  EXPECT_NE(caches.status().message().find("tpye"), std::string::npos);
}

TEST_F(EndpointTest, AnUnknownCacheTypeAndCredentialsGivenTwiceAreRefused) {
  file_ = dir_.Write("type.yaml", "- url: grpc://c:1\n  type: everything\n");
  StatusOr<ConfigNode> node = ConfigNode::ParseFile(file_);
  ASSERT_TRUE(node.ok());
  StatusOr<std::vector<RemoteEndpoint>> caches = ReadArtifactCaches(*node);
  ASSERT_FALSE(caches.ok());
  EXPECT_NE(caches.status().message().find(":2:9: 'type' must be index, storage or all"),
            std::string::npos)
      << caches.status().message();
  file_ = dir_.Write("twice.yaml",
                     "- url: grpc://c:1\n  server-cert: a-cert.pem\n  auth:\n"
                     "    server-cert: a-cert.pem\n");
  node = ConfigNode::ParseFile(file_);
  ASSERT_TRUE(node.ok());
  caches = ReadArtifactCaches(*node);
  ASSERT_FALSE(caches.ok());
  EXPECT_NE(caches.status().message().find("in one place"), std::string::npos)
      << caches.status().message();
}

TEST_F(EndpointTest, UserCachesComeFirstAndEachCacheOnce) {
  RemoteEndpoint user;
  user.url = "grpc://mine:1";
  RemoteEndpoint project_first;
  project_first.url = "grpc://theirs:1";
  RemoteEndpoint project_again = user;
  std::vector<RemoteEndpoint> merged = MergeArtifactCaches({user}, {project_first, project_again});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].url, "grpc://mine:1");
  EXPECT_EQ(merged[1].url, "grpc://theirs:1");
}

}  // namespace
}  // namespace cairn
