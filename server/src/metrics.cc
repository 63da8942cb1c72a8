#include "metrics.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace cairn::server {
namespace {

// Prometheus label values escape '\', '"' and newline.
std::string LabelValue(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void WriteAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Whether the request line asks for /metrics (a query string is allowed:
// some scrapers add one).
bool NamesMetrics(const std::string& line) {
  constexpr char kTarget[] = "GET /metrics";
  if (line.rfind(kTarget, 0) != 0) return false;
  size_t after = sizeof(kTarget) - 1;
  return after == line.size() || line[after] == ' ' || line[after] == '?';
}

}  // namespace

void Metrics::CountRequest(const std::string& method, Code code) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{method, code}];
}

std::string Metrics::Render() const {
  std::ostringstream out;
  out << "# HELP cairn_server_requests_total gRPC requests handled, by method and code.\n"
      << "# TYPE cairn_server_requests_total counter\n";
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, count] : requests_) {
      out << "cairn_server_requests_total{method=\"" << LabelValue(key.first) << "\",code=\""
          << CodeName(key.second) << "\"} " << count << "\n";
    }
  }
  out << "# HELP cairn_server_received_bytes_total Payload bytes received (blobs, results).\n"
      << "# TYPE cairn_server_received_bytes_total counter\n"
      << "cairn_server_received_bytes_total " << bytes_in_ << "\n"
      << "# HELP cairn_server_sent_bytes_total Payload bytes sent.\n"
      << "# TYPE cairn_server_sent_bytes_total counter\n"
      << "cairn_server_sent_bytes_total " << bytes_out_ << "\n"
      << "# HELP cairn_server_action_cache_lookups_total Action cache lookups, by result.\n"
      << "# TYPE cairn_server_action_cache_lookups_total counter\n"
      << "cairn_server_action_cache_lookups_total{result=\"hit\"} " << cache_hits_ << "\n"
      << "cairn_server_action_cache_lookups_total{result=\"miss\"} " << cache_misses_ << "\n"
      << "# HELP cairn_server_executions_queued Executions waiting for a slot.\n"
      << "# TYPE cairn_server_executions_queued gauge\n"
      << "cairn_server_executions_queued " << queued_ << "\n"
      << "# HELP cairn_server_executions_running Executions running now.\n"
      << "# TYPE cairn_server_executions_running gauge\n"
      << "cairn_server_executions_running " << running_ << "\n";
  return out.str();
}

StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& address,
                                                                  const Metrics& metrics) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return InvalidArgument("metrics address '" + address + "' must be HOST:PORT");
  }
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  int error = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
  if (error != 0) {
    return Unavailable("metrics address '" + address + "': " + ::gai_strerror(error));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> results(found, ::freeaddrinfo);
  for (addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    UniqueFd fd(::socket(candidate->ai_family, candidate->ai_socktype | SOCK_CLOEXEC, 0));
    if (!fd.valid()) continue;
    int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (::bind(fd.get(), candidate->ai_addr, candidate->ai_addrlen) != 0) continue;
    if (::listen(fd.get(), 16) != 0) continue;
    sockaddr_storage bound{};
    socklen_t length = sizeof(bound);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    char name[NI_MAXHOST] = {0};
    char service[NI_MAXSERV] = {0};
    ::getnameinfo(reinterpret_cast<sockaddr*>(&bound), length, name, sizeof(name), service,
                  sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV);
    std::string shown = std::string(name).find(':') != std::string::npos
                            ? "[" + std::string(name) + "]:" + service
                            : std::string(name) + ":" + service;
    return std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint(std::move(fd), shown, metrics));
  }
  return Unavailable("cannot listen on metrics address '" + address + "': " + std::strerror(errno));
}

MetricsEndpoint::MetricsEndpoint(UniqueFd listener, std::string address, const Metrics& metrics)
    : listener_(std::move(listener)), address_(std::move(address)), metrics_(metrics) {
  thread_ = std::thread([this] { Serve(); });
}

MetricsEndpoint::~MetricsEndpoint() {
  stopping_ = true;
  ::shutdown(listener_.get(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

void MetricsEndpoint::Serve() {
  while (!stopping_) {
    pollfd wait{listener_.get(), POLLIN, 0};
    if (::poll(&wait, 1, 200) <= 0) continue;
    UniqueFd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client.valid()) continue;
    // Bounded both ways: a client that neither sends nor reads must not
    // hold the endpoint (or the server's shutdown, which joins it).
    timeval timeout{2, 0};
    ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(client.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    std::string request;
    char buffer[1024];
    while (request.find("\r\n\r\n") == std::string::npos &&
           request.find("\n\n") == std::string::npos && request.size() < 8192) {
      ssize_t n = ::recv(client.get(), buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      request.append(buffer, static_cast<size_t>(n));
    }
    std::string line = request.substr(0, request.find_first_of("\r\n"));
    std::string status = "200 OK";
    std::string body;
    if (line.rfind("GET ", 0) != 0) {
      status = "405 Method Not Allowed";
      body = "only GET /metrics\n";
    } else if (!NamesMetrics(line)) {
      status = "404 Not Found";
      body = "the metrics are at /metrics\n";
    } else {
      body = metrics_.Render();
    }
    WriteAll(client.get(), "HTTP/1.0 " + status +
                               "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                               std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                               body);
  }
}

}  // namespace cairn::server
