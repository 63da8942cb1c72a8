// The remote sandbox's credentials against a real cairn-server: mutual TLS
// with certificates the test makes with the openssl command line (a CA, a
// server certificate for 127.0.0.1 and localhost, a client certificate
// from that CA, and another CA that signed neither), and bearer tokens
// read from a file that may change between executions.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include <gmock/gmock.h>

#include "remote_sandbox_fixture.h"
#include "test_certificates.h"

namespace cairn::testing {
namespace {

using server::ParseListenAddress;
using server::ServerConfig;

// A failure on the first attempt, not after retries.
MATCHER(NotRetried, "says it was not retried") { return arg.find("attempts") == std::string::npos; }

class RemoteCredentialsTest : public RemoteSandboxTest {
 protected:
  static void SetUpTestSuite() { certificates = new TestCertificates; }

  static void TearDownTestSuite() {
    delete certificates;
    certificates = nullptr;
  }

  static std::string Path(const std::string& name) { return certificates->Path(name); }

  void SetUp() override {
    RemoteSandboxTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_TRUE(certificates->ok()) << "openssl could not make the certificates";
  }

  // The server on a grpcs:// address only, asking clients for a
  // certificate signed by the test's CA.
  void StartMutualTls() {
    StartServer([&](ServerConfig& config) {
      config.listen = {*ParseListenAddress("grpcs://127.0.0.1:0", {})};
      config.tls.certificate = Path("server.pem");
      config.tls.key = Path("server.key");
      config.tls.client_ca = Path("ca.pem");
    });
  }

  std::string TlsUrl() const { return "grpcs://127.0.0.1:" + std::to_string(server_->port()); }

  // Executes a small Action with a remote sandbox created with `options`.
  ExecuteOutcome ExecuteWith(const std::string& options, const std::string& echo = "hello") {
    StatusOr<std::unique_ptr<Sandbox>> remote = CreateRemote(options);
    if (!remote.ok()) {
      ExecuteOutcome failed;
      failed.status = remote.status().WithContext("creating the remote sandbox");
      return failed;
    }
    return ExecuteOn(**remote, echo);
  }

  ExecuteOutcome ExecuteOn(Sandbox& remote, const std::string& echo) {
    StatusOr<Action> action = MakeShellAction(ShellAction{"echo " + echo});
    if (!action.ok()) {
      ExecuteOutcome failed;
      failed.status = action.status();
      return failed;
    }
    return remote.Execute(*action, ExecuteOptions{});
  }

  // Replaces `path` by a file holding `text` (a new inode, as tools that
  // rotate tokens do).
  void Rotate(const std::string& path, const std::string& text) {
    std::string next = path + ".next";
    {
      std::ofstream out(next, std::ios::binary);
      out << text;
    }
    ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0) << path;
  }

  static TestCertificates* certificates;
};

TestCertificates* RemoteCredentialsTest::certificates = nullptr;

TEST_F(RemoteCredentialsTest, MutualTlsWithTheRightCredentialsExecutes) {
  StartMutualTls();
  ExecuteOutcome run = ExecuteWith(RemoteOptions(TlsUrl(), "server-cert: " + Path("ca.pem") +
                                                               "\n"
                                                               "client-cert: " +
                                                               Path("client.pem") +
                                                               "\n"
                                                               "client-key: " +
                                                               Path("client.key") + "\n"));
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_TRUE(run.result.has_value());
  EXPECT_EQ(ReadLocal(run.result->stdout_digest()), "hello\n");
}

TEST_F(RemoteCredentialsTest, AServerCertificateFromAnotherCaIsUnavailableNamingTheServer) {
  StartMutualTls();
  ExecuteOutcome run = ExecuteWith(RemoteOptions(TlsUrl(), "server-cert: " + Path("other-ca.pem") +
                                                               "\n"
                                                               "client-cert: " +
                                                               Path("client.pem") +
                                                               "\n"
                                                               "client-key: " +
                                                               Path("client.key") + "\n"));
  EXPECT_EQ(run.status.code(), Code::kUnavailable) << run.status.ToString();
  EXPECT_NE(run.status.message().find(TlsUrl()), std::string::npos) << run.status.ToString();
  EXPECT_FALSE(run.result.has_value());
  // The message says why, not just that the server is unavailable.
  EXPECT_NE(run.status.message().find("certificate verify failed"), std::string::npos)
      << run.status.ToString();
}

// Disabled until the remote client stops retrying a failed certificate
// check: gRPC reports it as UNAVAILABLE, which the retrier takes for a
// transient failure, so the user waits out every backoff (up to ~15 s with
// the default retry settings) before hearing of a certificate that no
// wait will make trusted.
TEST_F(RemoteCredentialsTest, AServerCertificateFromAnotherCaFailsOnTheFirstAttempt) {
  StartMutualTls();
  ExecuteOutcome run = ExecuteWith(RemoteOptions(TlsUrl(), "server-cert: " + Path("other-ca.pem") +
                                                               "\n"
                                                               "client-cert: " +
                                                               Path("client.pem") +
                                                               "\n"
                                                               "client-key: " +
                                                               Path("client.key") + "\n"));
  EXPECT_EQ(run.status.code(), Code::kUnavailable) << run.status.ToString();
  EXPECT_THAT(run.status.message(), NotRetried()) << run.status.ToString();
}

TEST_F(RemoteCredentialsTest, WithoutAClientCertificateFromTheCaTheServerRefuses) {
  StartMutualTls();
  ExecuteOutcome run =
      ExecuteWith(RemoteOptions(TlsUrl(), "server-cert: " + Path("ca.pem") + "\n"));
  EXPECT_EQ(run.status.code(), Code::kUnavailable) << run.status.ToString();
  EXPECT_NE(run.status.message().find(TlsUrl()), std::string::npos) << run.status.ToString();

  run = ExecuteWith(RemoteOptions(TlsUrl(), "server-cert: " + Path("ca.pem") +
                                                "\n"
                                                "client-cert: " +
                                                Path("stranger.pem") +
                                                "\n"
                                                "client-key: " +
                                                Path("stranger.key") + "\n"));
  EXPECT_EQ(run.status.code(), Code::kUnavailable) << run.status.ToString();
}

TEST_F(RemoteCredentialsTest, AClientCertificateWithoutItsKeyIsRefusedAtCreation) {
  StatusOr<std::unique_ptr<Sandbox>> remote =
      CreateRemote(RemoteOptions("grpcs://127.0.0.1:1", "server-cert: " + Path("ca.pem") +
                                                            "\n"
                                                            "client-cert: " +
                                                            Path("client.pem") + "\n"));
  ASSERT_FALSE(remote.ok());
  EXPECT_NE(remote.status().message().find("client-key"), std::string::npos)
      << remote.status().ToString();
}

class RemoteTokenTest : public RemoteCredentialsTest {
 protected:
  void StartWithTokens() {
    const std::string tokens = dir_.Write("tokens.yaml",
                                          "tokens:\n"
                                          "  - token: first-secret\n"
                                          "    permissions: [read, write, execute]\n"
                                          "  - token: second-secret\n"
                                          "    permissions: [read, write, execute]\n");
    StartServer([&](ServerConfig& config) { config.tokens_file = tokens; });
  }
};

TEST_F(RemoteTokenTest, TheRightTokenExecutes) {
  StartWithTokens();
  const std::string token = dir_.Write("token", "first-secret\n");
  ExecuteOutcome run = ExecuteWith(RemoteOptions(ServerUrl(), "access-token: " + token + "\n"));
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_TRUE(run.result.has_value());
  EXPECT_EQ(ReadLocal(run.result->stdout_digest()), "hello\n");
}

TEST_F(RemoteTokenTest, AWrongTokenIsUnauthenticatedOnTheFirstAttempt) {
  StartWithTokens();
  const std::string token = dir_.Write("token", "not-a-secret\n");
  ExecuteOutcome run = ExecuteWith(RemoteOptions(ServerUrl(), "access-token: " + token + "\n"));
  EXPECT_EQ(run.status.code(), Code::kUnauthenticated) << run.status.ToString();
  EXPECT_THAT(run.status.message(), NotRetried()) << run.status.ToString();
  EXPECT_NE(run.status.message().find(ServerUrl()), std::string::npos) << run.status.ToString();

  // Without any token, the same.
  run = ExecuteWith(RemoteOptions(ServerUrl()));
  EXPECT_EQ(run.status.code(), Code::kUnauthenticated) << run.status.ToString();
  EXPECT_THAT(run.status.message(), NotRetried()) << run.status.ToString();
}

TEST_F(RemoteTokenTest, ATokenRotatedOnDiskIsUsedByTheNextExecution) {
  StartWithTokens();
  const std::string token = dir_.Write("token", "first-secret\n");
  StatusOr<std::unique_ptr<Sandbox>> remote =
      CreateRemote(RemoteOptions(ServerUrl(), "access-token: " + token + "\n"));
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  ExecuteOutcome run = ExecuteOn(**remote, "one");
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();

  // A token the server does not know: the next execution sends it.
  Rotate(token, "revoked-secret\n");
  run = ExecuteOn(**remote, "two");
  EXPECT_EQ(run.status.code(), Code::kUnauthenticated) << run.status.ToString();

  // The new token: executions work again, with no new sandbox.
  Rotate(token, "second-secret\n");
  run = ExecuteOn(**remote, "three");
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_TRUE(run.result.has_value());
  EXPECT_EQ(ReadLocal(run.result->stdout_digest()), "three\n");
}

TEST_F(RemoteTokenTest, AMissingTokenFileFailsNamingTheFile) {
  StartWithTokens();
  const std::string missing = dir_.path() + "/no-such-token";
  ExecuteOutcome run = ExecuteWith(RemoteOptions(ServerUrl(), "access-token: " + missing + "\n"));
  EXPECT_EQ(run.status.code(), Code::kUnauthenticated) << run.status.ToString();
  EXPECT_NE(run.status.message().find(missing), std::string::npos) << run.status.ToString();
  EXPECT_THAT(run.status.message(), NotRetried()) << run.status.ToString();
}

}  // namespace
}  // namespace cairn::testing
