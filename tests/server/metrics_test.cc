// The Prometheus endpoint (metrics.h): GET /metrics over plain HTTP shows
// the requests made by method and code, the bytes moved and the action
// cache's hits and misses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cairn/unique_fd.h"
#include "server_fixture.h"

namespace cairn::server {
namespace {

class MetricsTest : public ServerTest {
 protected:
  void StartWithMetrics() {
    StartServer([](ServerConfig& config) {
      config.metrics_listen = "127.0.0.1:0";
      config.sandbox.plugin = kNoSandbox;
    });
  }

  // The port of the metrics endpoint (its address is 127.0.0.1:PORT).
  int MetricsPort() const {
    std::string address = server_->metrics_address();
    EXPECT_EQ(address.rfind("127.0.0.1:", 0), 0u) << address;
    return std::stoi(address.substr(address.rfind(':') + 1));
  }

  // Sends `request` to the metrics port and returns the whole answer
  // ("" when the connection failed); every wait is bounded.
  std::string Http(const std::string& request) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval timeout{10, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(MetricsPort()));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      ADD_FAILURE() << "cannot connect to the metrics endpoint: " << std::strerror(errno);
      return "";
    }
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      ADD_FAILURE() << "cannot send the request";
      return "";
    }
    std::string answer;
    char buffer[4096];
    for (;;) {
      ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      answer.append(buffer, static_cast<size_t>(n));
    }
    return answer;
  }

  std::string Get(const std::string& path) {
    return Http("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/plain\r\n\r\n");
  }

  // The value of the sample line that starts with `series` + " ", or -1.
  static long long Sample(const std::string& page, const std::string& series) {
    size_t at = page.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(page.substr(at + 1 + series.size() + 1));
  }
};

TEST_F(MetricsTest, TheEndpointCountsRequestsByMethodAndCodeBytesAndCacheLookups) {
  StartWithMetrics();
  const std::string blob = "some bytes for the metrics to count";
  Digest digest = Upload(blob);
  for (int i = 0; i < 2; ++i) {
    reapi::FindMissingBlobsRequest request;
    *request.add_blob_digests() = digest;
    reapi::FindMissingBlobsResponse response;
    ASSERT_TRUE(cas_->FindMissingBlobs(Context().get(), request, &response).ok());
  }
  reapi::BatchReadBlobsRequest read;
  *read.add_digests() = digest;
  reapi::BatchReadBlobsResponse read_response;
  ASSERT_TRUE(cas_->BatchReadBlobs(Context().get(), read, &read_response).ok());

  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = DigestOfBytes("an action");
  reapi::ActionResult result;
  ASSERT_EQ(action_cache_->GetActionResult(Context().get(), lookup, &result).error_code(),
            grpc::StatusCode::NOT_FOUND);
  reapi::UpdateActionResultRequest update;
  *update.mutable_action_digest() = lookup.action_digest();
  update.mutable_action_result()->set_exit_code(0);
  ASSERT_TRUE(action_cache_->UpdateActionResult(Context().get(), update, &result).ok());
  ASSERT_TRUE(action_cache_->GetActionResult(Context().get(), lookup, &result).ok());

  std::string page = Get("/metrics");
  ASSERT_EQ(page.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << page;
  EXPECT_NE(page.find("Content-Type: text/plain; version=0.0.4\r\n"), std::string::npos) << page;
  EXPECT_EQ(Sample(page, "cairn_server_requests_total{method=\"FindMissingBlobs\",code=\"OK\"}"), 2)
      << page;
  EXPECT_EQ(Sample(page, "cairn_server_requests_total{method=\"BatchUpdateBlobs\",code=\"OK\"}"), 1)
      << page;
  EXPECT_EQ(
      Sample(page, "cairn_server_requests_total{method=\"GetActionResult\",code=\"NOT_FOUND\"}"), 1)
      << page;
  EXPECT_EQ(Sample(page, "cairn_server_requests_total{method=\"GetActionResult\",code=\"OK\"}"), 1)
      << page;
  EXPECT_GE(Sample(page, "cairn_server_received_bytes_total"), static_cast<long long>(blob.size()))
      << page;
  EXPECT_GE(Sample(page, "cairn_server_sent_bytes_total"), static_cast<long long>(blob.size()))
      << page;
  EXPECT_EQ(Sample(page, "cairn_server_action_cache_lookups_total{result=\"hit\"}"), 1) << page;
  EXPECT_EQ(Sample(page, "cairn_server_action_cache_lookups_total{result=\"miss\"}"), 1) << page;
  EXPECT_EQ(Sample(page, "cairn_server_executions_running"), 0) << page;
  EXPECT_NE(page.find("# TYPE cairn_server_requests_total counter\n"), std::string::npos);

  // The counts move with further calls.
  Upload("another blob");
  page = Get("/metrics");
  EXPECT_EQ(Sample(page, "cairn_server_requests_total{method=\"BatchUpdateBlobs\",code=\"OK\"}"), 2)
      << page;
}

TEST_F(MetricsTest, TheEndpointCountsRefusedRequestsUnderTheirCode) {
  StartWithMetrics();
  reapi::FindMissingBlobsRequest request;
  request.set_instance_name("no-such-instance");
  reapi::FindMissingBlobsResponse response;
  ASSERT_EQ(cas_->FindMissingBlobs(Context().get(), request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  std::string page = Get("/metrics");
  EXPECT_EQ(Sample(page,
                   "cairn_server_requests_total{method=\"FindMissingBlobs\","
                   "code=\"INVALID_ARGUMENT\"}"),
            1)
      << page;
}

TEST_F(MetricsTest, AnotherPathIsNotFoundAndAnotherMethodNotAllowed) {
  StartWithMetrics();
  std::string page = Get("/");
  EXPECT_EQ(page.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u) << page;
  page = Get("/metricsx");
  EXPECT_EQ(page.rfind("HTTP/1.0 404 Not Found\r\n", 0), 0u) << page;
  page = Http("POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(page.rfind("HTTP/1.0 405 Method Not Allowed\r\n", 0), 0u) << page;
  // A query string still names /metrics (some scrapers add one).
  page = Get("/metrics?format=text");
  EXPECT_EQ(page.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << page;
  // The endpoint keeps serving after all that.
  page = Get("/metrics");
  EXPECT_EQ(page.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << page;
}

TEST_F(MetricsTest, AClientThatSendsNothingDoesNotStopTheServerStopping) {
  StartWithMetrics();
  UniqueFd idle(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(MetricsPort()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(idle.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  StopServer();  // would hang here if the endpoint waited for the idle client forever
  SUCCEED();
}

TEST_F(MetricsTest, AMetricsAddressInUseStopsTheServerFromStartingNamingIt) {
  StartWithMetrics();
  std::string taken = server_->metrics_address();
  ServerConfig config = DefaultConfig();
  config.metrics_listen = taken;
  config.sandbox.plugin = kNoSandbox;
  config.cache_dir = dir_.path() + "/other-cache";
  ASSERT_TRUE(FinishServerConfig(&config, false).ok());
  StatusOr<std::unique_ptr<Server>> second = Server::Start(config);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kUnavailable);
  EXPECT_NE(second.status().message().find(taken), std::string::npos) << second.status().message();
}

TEST_F(MetricsTest, WithoutMetricsListenThereIsNoEndpoint) {
  StartServer([](ServerConfig& config) { config.sandbox.plugin = kNoSandbox; });
  EXPECT_EQ(server_->metrics_address(), "");
}

}  // namespace
}  // namespace cairn::server
