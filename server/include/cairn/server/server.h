// cairn/server/server.h — cairn-server's gRPC services, started in-process.
//
// One Server serves the REAPI v2 services (Capabilities, CAS, ByteStream,
// ActionCache, Execution), Remote Asset v1 (Fetch, Push), gRPC health and
// server reflection on every listen address of a ServerConfig, over the
// storage plugin and sandbox plugins it names. The cairn-server executable
// is a thin main() around it; tests and benchmarks start it on 127.0.0.1
// with port 0 and read the port back.
//
//   ServerConfig config;
//   config.listen.push_back(*ParseListenAddress("grpc://127.0.0.1:0", {}));
//   config.cache_dir = dir;
//   CAIRN_RETURN_IF_ERROR(FinishServerConfig(&config, /*host_tools=*/false));
//   CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Start(config));
//   Connect("127.0.0.1:" + std::to_string(server->port()));
//   server->Shutdown(std::chrono::seconds(5));
//
// Threads: Start, Shutdown and the accessors may be called from any thread;
// Shutdown is idempotent and the destructor calls it.
#ifndef CAIRN_SERVER_SERVER_H
#define CAIRN_SERVER_SERVER_H

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cairn/runtime/plugin_registry.h"
#include "cairn/server/server_config.h"
#include "cairn/status.h"

namespace cairn::server {

class Server {
 public:
  // Opens the store and the sandboxes, binds every address (an address in
  // use is UNAVAILABLE naming it) and starts serving. `registry` null: the
  // plugins found on config.plugin_paths and the default search path.
  static StatusOr<std::unique_ptr<Server>> Start(
      const ServerConfig& config, std::shared_ptr<const PluginRegistry> registry = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The listen URLs with the ports actually bound (port 0 resolved), in
  // the configuration's order.
  const std::vector<std::string>& urls() const;
  // The port of the first TCP address (0 when there is none).
  int port() const;
  // HOST:PORT of the metrics endpoint, "" when there is none.
  std::string metrics_address() const;

  // Stops accepting calls, lets calls in flight finish for up to `grace`,
  // then cancels the rest and stops the executions still running.
  void Shutdown(std::chrono::milliseconds grace);
  // Blocks until Shutdown() has finished.
  void Wait();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SERVER_H
