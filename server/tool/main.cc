// cairn-server: serves REAPI v2 and Remote Asset v1 over Cairn's plugins.
// Everything but the command line is in the server library (server/src).
#include <malloc.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "cairn/server/server.h"

namespace {

constexpr char kUsage[] = R"(Usage: cairn-server [OPTIONS]

Serves the Remote Execution API v2 (Capabilities, CAS, ByteStream,
ActionCache, Execution) and Remote Asset API v1 (Fetch, Push) over gRPC,
with a Cairn storage plugin as its store and a sandbox plugin to execute.

The common case needs no file:
  cairn-server --listen grpc://127.0.0.1:8980 --cache-dir /var/cache/cairn

Options (flags override the configuration file):
  --config FILE          read the server's configuration (YAML) from FILE
  --listen URL           grpc://HOST:PORT, grpcs://HOST:PORT or unix:PATH;
                         repeatable; port 0 picks a free port
  --cache-dir DIR        where the store and the scratch space live
                         (default $XDG_CACHE_HOME/cairn-server)
  --host-tools           execute Bazel-style actions: the input root is the
                         working directory on a read-only view of this
                         machine's tools (default: the input root is /)
  --executions N         actions running at once (default: the cores)
  --metrics-listen HOST:PORT  serve Prometheus metrics at GET /metrics
  --log-level LEVEL      trace, debug, info, warn, error (default info)
  --plugin-path DIR      also look for plugins in DIR; repeatable
  --help                 print this help
  --version              print the version

On start the server prints one line per address it listens on
("cairn-server: listening on grpc://127.0.0.1:8980"). SIGTERM or SIGINT
lets calls in flight finish (up to 30 s), then exits with status 0; a
second signal stops at once, cancelling them, with status 1.
Exit status: 0 stopped by a signal, 2 bad configuration or flags,
1 could not start or stopped by a second signal.
)";

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "cairn-server: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // Blobs arrive and leave in buffers of up to a few MiB on many threads;
  // glibc would keep each freed one in its thread's arena, so the server's
  // memory would grow with the number of threads that ever moved a large
  // message. Buffers from 256 KiB up are mapped and returned instead.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  using namespace cairn;
  using namespace cairn::server;
  std::string config_file;
  std::vector<std::string> listen;
  std::vector<std::string> plugin_paths;
  std::string cache_dir;
  std::string metrics_listen;
  std::string log_level;
  int executions = 0;
  bool host_tools = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* flag) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)flag;
      return argv[++i];
    };
    auto needs_value = [&]() { return Fail(2, "option " + arg + " needs a value (see --help)"); };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--version") {
      std::printf("cairn-server %s\n", CAIRN_VERSION);
      return 0;
    }
    if (arg == "--host-tools") {
      host_tools = true;
      continue;
    }
    const char* v = nullptr;
    if (arg == "--config" || arg == "--listen" || arg == "--cache-dir" ||
        arg == "--metrics-listen" || arg == "--log-level" || arg == "--plugin-path" ||
        arg == "--executions") {
      v = value(arg.c_str());
      if (v == nullptr) return needs_value();
    } else {
      return Fail(2, "unknown option '" + arg + "' (see --help)");
    }
    if (arg == "--config") config_file = v;
    if (arg == "--listen") listen.emplace_back(v);
    if (arg == "--cache-dir") cache_dir = v;
    if (arg == "--metrics-listen") metrics_listen = v;
    if (arg == "--log-level") log_level = v;
    if (arg == "--plugin-path") plugin_paths.emplace_back(v);
    if (arg == "--executions") {
      char* end = nullptr;
      long n = std::strtol(v, &end, 10);
      if (*v == '\0' || *end != '\0' || n < 1 || n > 4096) {
        return Fail(2,
                    std::string("--executions must be a number from 1 to 4096, got '") + v + "'");
      }
      executions = static_cast<int>(n);
    }
  }

  ServerConfig config;
  if (!config_file.empty()) {
    StatusOr<ServerConfig> loaded = LoadServerConfig(config_file);
    if (!loaded.ok()) return Fail(2, loaded.status().message());
    config = std::move(loaded).value();
  }
  SourceLocation command_line{"<command line>", 0, 0};
  if (!listen.empty()) config.listen.clear();
  for (const std::string& url : listen) {
    StatusOr<ListenAddress> address = ParseListenAddress(url, command_line);
    if (!address.ok()) return Fail(2, address.status().message());
    config.listen.push_back(std::move(address).value());
  }
  if (!cache_dir.empty()) config.cache_dir = cache_dir;
  if (!metrics_listen.empty()) config.metrics_listen = metrics_listen;
  if (!log_level.empty()) config.log_level = log_level;
  if (executions > 0) config.executions = executions;
  for (const std::string& path : plugin_paths) config.plugin_paths.push_back(path);
  Status finished = FinishServerConfig(&config, host_tools);
  if (!finished.ok()) return Fail(2, finished.message());

  auto logger = spdlog::stderr_color_mt("cairn-server");
  spdlog::set_default_logger(logger);
  spdlog::level::level_enum level = spdlog::level::from_str(config.log_level);
  if (spdlog::level::to_string_view(level) != config.log_level && config.log_level != "warn") {
    return Fail(
        2, "--log-level must be trace, debug, info, warn or error, got '" + config.log_level + "'");
  }
  spdlog::set_level(level);

  // Signals are taken synchronously on this thread; every thread the server
  // starts inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  StatusOr<std::unique_ptr<Server>> server = Server::Start(config);
  if (!server.ok()) return Fail(1, server.status().ToString());
  for (const std::string& url : (*server)->urls()) {
    std::printf("cairn-server: listening on %s\n", url.c_str());
  }
  if (!(*server)->metrics_address().empty()) {
    std::printf("cairn-server: metrics on http://%s/metrics\n",
                (*server)->metrics_address().c_str());
  }
  std::fflush(stdout);

  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("{}: finishing the calls in flight (up to 30 s), then stopping",
               received == SIGTERM ? "SIGTERM" : "SIGINT");
  std::atomic<bool> stopped{false};
  std::thread stopping([&] {
    (*server)->Shutdown(std::chrono::seconds(30));
    stopped = true;
  });
  // A second signal means "now": an operator who pressed Ctrl-C twice does
  // not want to wait for a slow client. The store survives an abrupt end
  // (it survives kill -9), so no cleanup is skipped that matters.
  while (!stopped) {
    timespec poll_interval{0, 100 * 1000 * 1000};
    if (sigtimedwait(&signals, nullptr, &poll_interval) > 0) {
      spdlog::warn("second signal: stopping without waiting for the calls in flight");
      spdlog::default_logger()->flush();
      std::_Exit(1);
    }
  }
  stopping.join();
  spdlog::info("stopped");
  return 0;
}
