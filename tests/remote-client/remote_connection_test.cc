// RemoteConnection and the Retrier against the real cairn-server: bearer
// tokens from a file that changes, a server that comes up late and one
// that never comes, and TLS with certificates made by openssl.
#include "cairn/remote_client/remote_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cairn/remote_client/cas_client.h"
#include "cairn/remote_client/retrier.h"
#include "cairn/status_details.h"
#include "fake_capabilities_server.h"
#include "remote_client_fixture.h"

namespace cairn::remote_client {
namespace {

using ::testing::HasSubstr;

constexpr char kTokens[] = R"(tokens:
  - token: good-token
    permissions: [read, write]
)";

// Replaces `path` by a new file (a new inode), as a token rotation does.
void ReplaceFile(const TempDir& dir, const std::string& name, const std::string& text) {
  std::string temporary = dir.Write(name + ".new", text);
  ASSERT_EQ(std::rename(temporary.c_str(), (dir.path() + "/" + name).c_str()), 0);
}

TEST(RetrierTest, RetriesOnlyWhatMayBeRetried) {
  EXPECT_TRUE(IsRetryable(Code::kUnavailable, Idempotency::kNotIdempotent));
  EXPECT_TRUE(IsRetryable(Code::kResourceExhausted, Idempotency::kNotIdempotent));
  EXPECT_TRUE(IsRetryable(Code::kAborted, Idempotency::kNotIdempotent));
  EXPECT_TRUE(IsRetryable(Code::kDeadlineExceeded, Idempotency::kIdempotent));
  EXPECT_FALSE(IsRetryable(Code::kDeadlineExceeded, Idempotency::kNotIdempotent));
  EXPECT_FALSE(IsRetryable(Code::kInvalidArgument, Idempotency::kIdempotent));
  EXPECT_FALSE(IsRetryable(Code::kPermissionDenied, Idempotency::kIdempotent));
}

TEST(RetrierTest, StopsAfterTheLimitKeepingCodeAndDetails) {
  Retrier retrier(RetryPolicy{2, std::chrono::milliseconds(1), std::chrono::milliseconds(1000)},
                  "grpc://example:1");
  int attempts = 0;
  Status status =
      retrier.Run("Thing", Idempotency::kIdempotent, [&](std::chrono::system_clock::time_point) {
        ++attempts;
        return MissingBlobsError("gone", {DigestOfBytes("x")}).WithContext("ignored");
      });
  // FAILED_PRECONDITION is not retried; its details survive.
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_EQ(MissingBlobs(status).size(), 1u);
  EXPECT_THAT(status.message(), HasSubstr("grpc://example:1: FAILED_PRECONDITION"));

  attempts = 0;
  status =
      retrier.Run("Thing", Idempotency::kIdempotent, [&](std::chrono::system_clock::time_point) {
        ++attempts;
        return Unavailable("down");
      });
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(status.code(), Code::kUnavailable);
}

class RemoteConnectionTest : public RemoteClientTest {};

TEST_F(RemoteConnectionTest, RefusesAUrlOfAnotherForm) {
  RemoteConnectionOptions options;
  options.url = "ftp://example:21";
  StatusOr<std::shared_ptr<RemoteConnection>> connection =
      RemoteConnection::Create(options, ToolIdentity{});
  EXPECT_EQ(connection.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(connection.status().message(), HasSubstr("ftp://example:21"));
}

TEST_F(RemoteConnectionTest, SendsTheTokenFromTheFileAndPicksUpANewOne) {
  StartServer([&](server::ServerConfig& config) {
    config.tokens_file = dir_.Write("tokens.yaml", kTokens);
  });
  RemoteConnectionOptions options = Options();
  options.access_token = dir_.Write("token", "wrong-token\n");
  CasClient cas(Connect(options));
  StatusOr<std::vector<Digest>> refused = cas.FindMissing({DigestOfBytes("a")});
  EXPECT_EQ(refused.status().code(), Code::kUnauthenticated) << refused.status().ToString();

  ReplaceFile(dir_, "token", "good-token\n");
  StatusOr<std::vector<Digest>> accepted = cas.FindMissing({DigestOfBytes("a")});
  ASSERT_TRUE(accepted.ok()) << accepted.status().ToString();
  EXPECT_EQ(accepted->size(), 1u);

  ReplaceFile(dir_, "token", "wrong-again\n");
  EXPECT_EQ(cas.FindMissing({DigestOfBytes("a")}).status().code(), Code::kUnauthenticated);
}

TEST_F(RemoteConnectionTest, AMissingTokenFileIsUnauthenticatedNamingIt) {
  StartServer();
  RemoteConnectionOptions options = Options();
  options.access_token = dir_.path() + "/no-such-token";
  CasClient cas(Connect(options));
  Status status = cas.FindMissing({DigestOfBytes("a")}).status();
  EXPECT_EQ(status.code(), Code::kUnauthenticated);
  EXPECT_THAT(status.message(), HasSubstr("no-such-token"));
}

TEST_F(RemoteConnectionTest, WaitsForAServerThatComesUpLate) {
  const int port = FreePort();
  ASSERT_NE(port, 0);
  RemoteConnectionOptions options;
  options.url = "grpc://127.0.0.1:" + std::to_string(port);
  options.retry_limit = 12;
  options.retry_delay_ms = 100;
  options.request_timeout_s = 10;
  CasClient cas(Connect(options));
  // The delay is what is being tested: the first attempts find nobody.
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    StartServer([&](server::ServerConfig& config) {
      config.listen.clear();
      config.listen.push_back(*server::ParseListenAddress(options.url, {}));
    });
  });
  StatusOr<RemoteCapabilities> capabilities = cas.Capabilities();
  late.join();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
}

TEST_F(RemoteConnectionTest, AServerThatNeverComesIsUnavailableNamingTheUrl) {
  const int port = FreePort();
  ASSERT_NE(port, 0);
  RemoteConnectionOptions options;
  options.url = "grpc://127.0.0.1:" + std::to_string(port);
  options.retry_limit = 2;
  options.retry_delay_ms = 10;
  options.request_timeout_s = 5;
  CasClient cas(Connect(options));
  Status status = cas.Capabilities().status();
  EXPECT_EQ(status.code(), Code::kUnavailable) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr(options.url + ": UNAVAILABLE (after 3 attempts)"));
}

// Runs `command` with sh; false (and a test failure) when it fails.
bool RunShell(const std::string& command) {
  int status = std::system((command + " >/dev/null 2>&1").c_str());
  if (status != 0) ADD_FAILURE() << "failed (" << status << "): " << command;
  return status == 0;
}

TEST_F(RemoteConnectionTest, TalksTlsWithTheServerCertificatesCa) {
  const std::string dir = dir_.path();
  const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  dir_.Write("server.ext",
             "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  ASSERT_TRUE(RunShell("openssl req -x509" + key + " -keyout " + dir + "/ca.key -out " + dir +
                       "/ca.pem -days 2 -subj '/CN=Cairn test ca'"
                       " -addext basicConstraints=critical,CA:TRUE"
                       " -addext keyUsage=critical,keyCertSign,cRLSign"));
  ASSERT_TRUE(RunShell("openssl req" + key + " -keyout " + dir + "/server.key -out " + dir +
                       "/server.csr -subj '/CN=server'"));
  ASSERT_TRUE(RunShell("openssl x509 -req -in " + dir + "/server.csr -CA " + dir +
                       "/ca.pem -CAkey " + dir + "/ca.key -set_serial 1 -days 2 -out " + dir +
                       "/server.pem -extfile " + dir + "/server.ext"));
  StartServer([&](server::ServerConfig& config) {
    config.listen.clear();
    config.listen.push_back(*server::ParseListenAddress("grpcs://127.0.0.1:0", {}));
    config.tls.certificate = dir + "/server.pem";
    config.tls.key = dir + "/server.key";
  });
  ASSERT_EQ(server_->urls().size(), 1u);
  RemoteConnectionOptions options = Options();
  options.url = server_->urls()[0];
  options.server_cert = dir + "/ca.pem";
  CasClient cas(Connect(options));
  StatusOr<RemoteCapabilities> capabilities = cas.Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();

  // Without the CA the server's certificate is not trusted.
  options.server_cert = "";
  options.retry_limit = 0;
  CasClient untrusting(Connect(options));
  Status refused = untrusting.Capabilities().status();
  EXPECT_EQ(refused.code(), Code::kUnavailable) << refused.ToString();
  EXPECT_THAT(refused.message(), HasSubstr(options.url));
}

TEST_F(RemoteConnectionTest, EveryCallCarriesTheTokenAndRequestMetadata) {
  namespace reapi = build::bazel::remote::execution::v2;
  reapi::ServerCapabilities answer;
  answer.mutable_cache_capabilities()->add_digest_functions(reapi::DigestFunction::SHA256);
  FakeCapabilitiesServer fake(answer);
  RemoteConnectionOptions options;
  options.url = fake.url();
  options.retry_limit = 0;
  options.access_token = dir_.Write("token", "  secret-token\n");
  std::shared_ptr<RemoteConnection> connection = Connect(options);
  ASSERT_NE(connection, nullptr);
  auto stub = reapi::Capabilities::NewStub(connection->channel());
  for (const std::string action : {"", "action-1"}) {
    StatusOr<std::unique_ptr<grpc::ClientContext>> context =
        connection->NewContext(std::chrono::system_clock::now() + std::chrono::seconds(30), action);
    ASSERT_TRUE(context.ok()) << context.status().ToString();
    reapi::ServerCapabilities response;
    grpc::Status status = stub->GetCapabilities(context->get(), {}, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  std::vector<FakeCapabilitiesServer::Metadata> calls = fake.calls();
  ASSERT_EQ(calls.size(), 2u);
  for (size_t i = 0; i < calls.size(); ++i) {
    auto authorization = calls[i].find("authorization");
    ASSERT_NE(authorization, calls[i].end());
    EXPECT_EQ(authorization->second, "Bearer secret-token");
    auto header = calls[i].find(kRequestMetadataKey);
    ASSERT_NE(header, calls[i].end());
    reapi::RequestMetadata metadata;
    ASSERT_TRUE(metadata.ParseFromString(header->second));
    EXPECT_EQ(metadata.tool_details().tool_name(), "cairn");
    EXPECT_EQ(metadata.tool_details().tool_version(), "test");
    EXPECT_EQ(metadata.tool_invocation_id(), RemoteConnection::InvocationId());
    EXPECT_EQ(metadata.tool_invocation_id().size(), 36u);
    EXPECT_EQ(metadata.action_id(), i == 0 ? "" : "action-1");
  }
}

TEST_F(RemoteConnectionTest, CallsInAnActionScopeNameTheActionUnlessTheyNameTheirOwn) {
  namespace reapi = build::bazel::remote::execution::v2;
  reapi::ServerCapabilities answer;
  answer.mutable_cache_capabilities()->add_digest_functions(reapi::DigestFunction::SHA256);
  FakeCapabilitiesServer fake(answer);
  RemoteConnectionOptions options;
  options.url = fake.url();
  std::shared_ptr<RemoteConnection> connection = Connect(options);
  ASSERT_NE(connection, nullptr);
  auto stub = reapi::Capabilities::NewStub(connection->channel());
  auto call = [&](const std::string& own) {
    StatusOr<std::unique_ptr<grpc::ClientContext>> context =
        connection->NewContext(std::chrono::system_clock::now() + std::chrono::seconds(30), own);
    ASSERT_TRUE(context.ok()) << context.status().ToString();
    reapi::ServerCapabilities response;
    grpc::Status status = stub->GetCapabilities(context->get(), {}, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  };
  {
    ActionScope outer("outer-action");
    call("");
    {
      ActionScope inner("inner-action");
      call("");
      call("its-own");
    }
    call("");
  }
  call("");
  std::vector<std::string> seen;
  for (const FakeCapabilitiesServer::Metadata& metadata : fake.calls()) {
    reapi::RequestMetadata parsed;
    auto header = metadata.find(kRequestMetadataKey);
    ASSERT_NE(header, metadata.end());
    ASSERT_TRUE(parsed.ParseFromString(header->second));
    seen.push_back(parsed.action_id());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"outer-action", "inner-action", "its-own",
                                            "outer-action", ""}));
}

TEST_F(RemoteConnectionTest, RefusesAServerWithoutSha256) {
  namespace reapi = build::bazel::remote::execution::v2;
  reapi::ServerCapabilities answer;
  answer.mutable_cache_capabilities()->add_digest_functions(reapi::DigestFunction::BLAKE3);
  FakeCapabilitiesServer fake(answer);
  RemoteConnectionOptions options;
  options.url = fake.url();
  options.retry_limit = 0;
  CasClient cas(Connect(options));
  Status status = cas.Capabilities().status();
  EXPECT_EQ(status.code(), Code::kFailedPrecondition) << status.ToString();
  EXPECT_THAT(status.message(), HasSubstr("SHA256"));
  EXPECT_THAT(status.message(), HasSubstr(fake.url()));
}

TEST_F(RemoteConnectionTest, ServesOverAUnixSocket) {
  const std::string socket = dir_.path() + "/cairn.sock";
  StartServer([&](server::ServerConfig& config) {
    config.listen.clear();
    config.listen.push_back(*server::ParseListenAddress("unix:" + socket, {}));
  });
  RemoteConnectionOptions options;
  options.url = "unix:" + socket;
  options.retry_limit = 0;
  CasClient cas(Connect(options));
  StatusOr<RemoteCapabilities> capabilities = cas.Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
}

}  // namespace
}  // namespace cairn::remote_client
