// The remote client's test fixture: the real cairn-server in-process on
// 127.0.0.1 (tests/server's ServerTest) and a client connection to it with
// short retry delays, so failing tests fail quickly.
#ifndef CAIRN_TESTS_REMOTE_CLIENT_REMOTE_CLIENT_FIXTURE_H
#define CAIRN_TESTS_REMOTE_CLIENT_REMOTE_CLIENT_FIXTURE_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "cairn/remote_client/cas_client.h"
#include "cairn/remote_client/remote_connection.h"
#include "server_fixture.h"

namespace cairn::remote_client {

class RemoteClientTest : public server::ServerTest {
 protected:
  // Options for the running server: plain gRPC, quick retries.
  RemoteConnectionOptions Options() const {
    RemoteConnectionOptions options;
    options.url = "grpc://127.0.0.1:" + std::to_string(server_->port());
    options.retry_limit = 3;
    options.retry_delay_ms = 20;
    options.request_timeout_s = 30;
    return options;
  }

  static std::shared_ptr<RemoteConnection> Connect(const RemoteConnectionOptions& options) {
    StatusOr<std::shared_ptr<RemoteConnection>> connection =
        RemoteConnection::Create(options, ToolIdentity{"cairn", "test"});
    EXPECT_TRUE(connection.ok()) << connection.status().ToString();
    return connection.ok() ? *connection : nullptr;
  }

  // A TCP port nothing listens on (bound once by the kernel, then released).
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
      port = ntohs(address.sin_port);
    }
    close(fd);
    return port;
  }
};

}  // namespace cairn::remote_client

#endif  // CAIRN_TESTS_REMOTE_CLIENT_REMOTE_CLIENT_FIXTURE_H
