// The transports: a Unix socket beside TCP, and TLS and mutual TLS on
// grpcs:// addresses, with certificates the test makes with the openssl
// command line: a CA, a server certificate for 127.0.0.1 and localhost, a
// client certificate from that CA, and one from another CA.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "server_fixture.h"
#include "test_certificates.h"

namespace cairn::server {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class TlsTest : public ServerTest {
 protected:
  static void SetUpTestSuite() { certificates = new TestCertificates; }

  static void TearDownTestSuite() {
    delete certificates;
    certificates = nullptr;
  }

  static std::string Path(const std::string& name) { return certificates->Path(name); }

  void SetUp() override {
    ASSERT_TRUE(certificates->ok()) << "openssl could not make the certificates";
  }

  // Starts the server on a grpcs:// address (and `also` before it, when
  // given); `client_ca` "" = no client certificates asked for.
  void StartTls(const std::string& client_ca = "", const std::string& also = "") {
    StartServer([&](ServerConfig& config) {
      config.listen.clear();
      if (!also.empty()) config.listen.push_back(*ParseListenAddress(also, {}));
      config.listen.push_back(*ParseListenAddress("grpcs://127.0.0.1:0", {}));
      config.tls.certificate = Path("server.pem");
      config.tls.key = Path("server.key");
      config.tls.client_ca = client_ca;
      config.sandbox.plugin = kNoSandbox;
    });
  }

  // The port of the listen URL starting with `scheme`.
  int PortOf(const std::string& scheme) const {
    for (const std::string& url : server_->urls()) {
      if (url.rfind(scheme, 0) == 0) return std::stoi(url.substr(url.rfind(':') + 1));
    }
    ADD_FAILURE() << "no " << scheme << " address among the server's URLs";
    return 0;
  }

  // GetCapabilities over a channel to 127.0.0.1:`port` (or `host`) with
  // `credentials`.
  grpc::Status Call(int port, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                    const std::string& host = "127.0.0.1",
                    const std::string& target_name_override = "") {
    grpc::ChannelArguments arguments;
    if (!target_name_override.empty()) {
      arguments.SetSslTargetNameOverride(target_name_override);
    }
    auto channel =
        grpc::CreateCustomChannel(host + ":" + std::to_string(port), credentials, arguments);
    auto stub = reapi::Capabilities::NewStub(channel);
    reapi::GetCapabilitiesRequest request;
    reapi::ServerCapabilities response;
    return stub->GetCapabilities(Context(10).get(), request, &response);
  }

  static std::shared_ptr<grpc::ChannelCredentials> Trusting(const std::string& ca,
                                                            const std::string& client = "") {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(Path(ca + ".pem"));
    if (!client.empty()) {
      options.pem_cert_chain = ReadFile(Path(client + ".pem"));
      options.pem_private_key = ReadFile(Path(client + ".key"));
    }
    return grpc::SslCredentials(options);
  }

  static TestCertificates* certificates;
};

TestCertificates* TlsTest::certificates = nullptr;

TEST_F(TlsTest, AClientTrustingTheCaConnectsOverGrpcs) {
  StartTls();
  ASSERT_EQ(server_->urls().size(), 1u);
  EXPECT_EQ(server_->urls()[0].rfind("grpcs://127.0.0.1:", 0), 0u) << server_->urls()[0];
  EXPECT_EQ(server_->port(), PortOf("grpcs://"));
  grpc::Status status = Call(PortOf("grpcs://"), Trusting("ca"));
  EXPECT_TRUE(status.ok()) << status.error_message();
  // By name, too: the certificate names localhost.
  status = Call(PortOf("grpcs://"), Trusting("ca"), "localhost");
  EXPECT_TRUE(status.ok()) << status.error_message();
  // And through the fixture's stubs, with the name overridden.
  grpc::ChannelArguments arguments;
  arguments.SetString(GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, "localhost");
  Connect(Trusting("ca"), arguments);
  Upload("over TLS");
}

TEST_F(TlsTest, AClientNotTrustingTheCaOrWithoutTlsIsRefused) {
  StartTls();
  grpc::Status status = Call(PortOf("grpcs://"), Trusting("other-ca"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  status = Call(PortOf("grpcs://"), grpc::InsecureChannelCredentials());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  // A name the certificate does not hold fails its check.
  status = Call(PortOf("grpcs://"), Trusting("ca"), "127.0.0.1", "cairn.example");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(TlsTest, WithoutAClientCaAClientCertificateIsNotNeeded) {
  StartTls();
  EXPECT_TRUE(Call(PortOf("grpcs://"), Trusting("ca", "stranger")).ok());
  EXPECT_TRUE(Call(PortOf("grpcs://"), Trusting("ca", "client")).ok());
}

TEST_F(TlsTest, WithAClientCaOnlyClientsWithItsCertificatesAreServed) {
  StartTls(Path("ca.pem"));
  grpc::Status status = Call(PortOf("grpcs://"), Trusting("ca"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  status = Call(PortOf("grpcs://"), Trusting("ca", "stranger"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  status = Call(PortOf("grpcs://"), Trusting("ca", "client"));
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(TlsTest, PlainAndTlsAddressesServeSideBySide) {
  StartTls(Path("ca.pem"), "grpc://127.0.0.1:0");
  ASSERT_EQ(server_->urls().size(), 2u);
  EXPECT_EQ(server_->urls()[0].rfind("grpc://127.0.0.1:", 0), 0u) << server_->urls()[0];
  EXPECT_EQ(server_->urls()[1].rfind("grpcs://127.0.0.1:", 0), 0u) << server_->urls()[1];
  EXPECT_NE(PortOf("grpc://"), PortOf("grpcs://"));
  EXPECT_EQ(server_->port(), PortOf("grpc://"));
  EXPECT_TRUE(Call(PortOf("grpc://"), grpc::InsecureChannelCredentials()).ok());
  EXPECT_TRUE(Call(PortOf("grpcs://"), Trusting("ca", "client")).ok());
  EXPECT_EQ(Call(PortOf("grpcs://"), grpc::InsecureChannelCredentials()).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(TlsTest, AnUnreadableCertificateOrKeyStopsTheServerFromStartingNamingIt) {
  for (const char* which : {"certificate", "key", "client-ca"}) {
    SCOPED_TRACE(which);
    ServerConfig config = DefaultConfig();
    config.listen = {*ParseListenAddress("grpcs://127.0.0.1:0", {})};
    config.tls.certificate = Path("server.pem");
    config.tls.key = Path("server.key");
    config.tls.client_ca = Path("ca.pem");
    config.sandbox.plugin = kNoSandbox;
    std::string missing = Path(std::string("missing-") + which + ".pem");
    if (std::string(which) == "certificate") config.tls.certificate = missing;
    if (std::string(which) == "key") config.tls.key = missing;
    if (std::string(which) == "client-ca") config.tls.client_ca = missing;
    ASSERT_TRUE(FinishServerConfig(&config, false).ok());
    StatusOr<std::unique_ptr<Server>> server = Server::Start(config);
    ASSERT_FALSE(server.ok());
    EXPECT_NE(server.status().message().find(missing), std::string::npos)
        << server.status().message();
    EXPECT_NE(server.status().message().find(std::string("tls.") + which), std::string::npos)
        << server.status().message();
  }
}

TEST_F(TlsTest, AKeyThatIsNotPemOrNotTheCertificatesStopsTheServerFromStarting) {
  ServerConfig config = DefaultConfig();
  config.listen = {*ParseListenAddress("grpcs://127.0.0.1:0", {})};
  config.tls.certificate = Path("server.pem");
  config.tls.key = certificates->Write("garbage.key", "not a key\n");
  config.sandbox.plugin = kNoSandbox;
  ASSERT_TRUE(FinishServerConfig(&config, false).ok());
  StatusOr<std::unique_ptr<Server>> server = Server::Start(config);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("garbage.key"), std::string::npos)
      << server.status().message();
  config.tls.key = Path("client.key");
  server = Server::Start(config);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("is not the key of tls.certificate"), std::string::npos)
      << server.status().message();
}

TEST_F(ServerTest, AUnixSocketServesBesideATcpAddress) {
  const std::string socket = dir_.path() + "/cairn.sock";
  StartServer([&](ServerConfig& config) {
    config.listen.insert(config.listen.begin(), *ParseListenAddress("unix:" + socket, {}));
    config.sandbox.plugin = kNoSandbox;
  });
  ASSERT_EQ(server_->urls().size(), 2u);
  EXPECT_EQ(server_->urls()[0], "unix:" + socket);
  EXPECT_EQ(server_->urls()[1].rfind("grpc://127.0.0.1:", 0), 0u) << server_->urls()[1];
  EXPECT_EQ(server_->urls()[1], "grpc://127.0.0.1:" + std::to_string(server_->port()));
  auto channel = grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials());
  auto stub = reapi::Capabilities::NewStub(channel);
  reapi::GetCapabilitiesRequest request;
  reapi::ServerCapabilities response;
  grpc::Status status = stub->GetCapabilities(Context(10).get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  Upload("over TCP");
}

}  // namespace
}  // namespace cairn::server
