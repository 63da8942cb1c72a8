// cairn/server/server_config.h — what cairn-server serves, and how.
//
// Read from a YAML file (`cairn-server --config FILE`) with the same loader
// and FILE:LINE:COLUMN errors as Cairn's other configuration, and/or from
// command-line flags, which override the file. The whole format:
//
//   listen:                       # one or more; port 0 picks a free port
//     - grpc://127.0.0.1:8980     # plain gRPC over TCP
//     - grpcs://0.0.0.0:8981      # TLS (needs tls.certificate and tls.key)
//     - unix:/run/cairn.sock      # a Unix socket
//   tls:
//     certificate: server.pem     # PEM certificate chain
//     key: server.key             # its PEM private key
//     client-ca: ca.pem           # when set, grpcs clients must present a
//                                 # certificate signed by it (mutual TLS)
//   tokens: tokens.yaml           # bearer tokens and their permissions;
//                                 # re-read when it changes (see auth.h)
//   cache-dir: /var/cache/cairn   # the store (cas-local's default path) and
//                                 # the sandboxes' scratch space
//   storage: {plugin: cas-local, options: {...}}   # cas-local's path
//                                 # defaults to CACHE_DIR/cas
//   sandbox: {plugin: bwrap, options: {...}}   # plugin none: no execution
//   plugin-paths: [...]
//   instances:                    # REAPI instance names; default: just ""
//     - name: ""
//     - name: bazel
//       host-tools: true          # Bazel-style actions (bwrap's host-tools)
//       sandbox: {plugin: bwrap, options: {...}}   # replaces the server's
//     - name: cache-only
//       sandbox: {plugin: none}   # this instance does not execute
//   executions: 4                 # actions running at once (default: cores)
//   limits:
//     max-batch-size: 4M          # bytes in one Batch* request or response
//     max-blob-size: 0            # largest blob accepted; 0 = no limit
//     max-queue: 1000             # executions waiting for a slot
//     default-action-timeout: 3600   # seconds, for an Action without timeout
//     max-action-timeout: 86400      # seconds; a longer Action.timeout is refused
//   metrics-listen: 127.0.0.1:9090   # Prometheus text endpoint (HTTP)
//   log-level: info               # trace, debug, info, warn, error, off
//   request-log-level: info       # level of the one line per request
//
// Relative paths are relative to the file that names them.
#ifndef CAIRN_SERVER_SERVER_CONFIG_H
#define CAIRN_SERVER_SERVER_CONFIG_H

#include <cstdint>
#include <string>
#include <vector>

#include "cairn/runtime/config_node.h"
#include "cairn/runtime/runtime_options.h"
#include "cairn/status.h"

namespace cairn::server {

// The sandbox plugin name that turns execution off.
inline constexpr char kNoSandbox[] = "none";

struct ListenAddress {
  enum class Kind { kTcp, kTls, kUnix };
  Kind kind = Kind::kTcp;
  std::string url;   // as written, e.g. grpc://127.0.0.1:0
  std::string host;  // kTcp/kTls: host or address; kUnix: the socket path
  int port = 0;      // kTcp/kTls; 0 = pick a free one
  SourceLocation location;

  // The address gRPC's ServerBuilder takes ("127.0.0.1:0", "unix:/x").
  std::string GrpcAddress() const;
};

// Parses grpc://HOST:PORT, grpcs://HOST:PORT, unix:PATH. IPv6 hosts are
// written in brackets (grpc://[::1]:8980). Errors are ConfigErrors at `where`.
StatusOr<ListenAddress> ParseListenAddress(const std::string& url, const SourceLocation& where);

struct TlsConfig {
  std::string certificate;  // absolute paths; "" = not set
  std::string key;
  std::string client_ca;  // "" = clients are not asked for a certificate
};

struct InstanceConfig {
  std::string name;  // "" is the default instance
  bool host_tools = false;
  // The instance's own sandbox; plugin "" = the server's sandbox (with
  // host-tools added to its options when host_tools is set), kNoSandbox =
  // this instance does not execute.
  PluginChoice sandbox;
  SourceLocation location;
};

struct ServerLimits {
  uint64_t max_batch_size = 4u << 20;  // bytes of one Batch* request or response
  uint64_t max_blob_size = 0;          // 0 = no limit
  uint64_t max_queue = 1000;           // executions waiting for a slot
  // Seconds an Action may run: the default for one without a timeout, and
  // the most one may ask for (REAPI: a longer one must be refused).
  int64_t default_action_timeout_s = 3600;
  int64_t max_action_timeout_s = 24 * 3600;
};

struct ServerConfig {
  std::vector<ListenAddress> listen;
  TlsConfig tls;
  std::string tokens_file;  // "" = no authentication
  std::string cache_dir;
  PluginChoice storage;  // default cas-local at CACHE_DIR/cas
  PluginChoice sandbox;  // default bwrap; kNoSandbox = no execution
  std::vector<std::string> plugin_paths;
  std::vector<InstanceConfig> instances;  // never empty once loaded
  int executions = 0;                     // 0 = the number of cores
  ServerLimits limits;
  std::string metrics_listen;  // HOST:PORT; "" = no metrics endpoint
  std::string log_level = "info";
  std::string request_log_level = "info";
  std::string file;  // the configuration file read, "" = none
};

// Reads FILE. Every error is a ConfigError naming FILE:LINE:COLUMN.
StatusOr<ServerConfig> LoadServerConfig(const std::string& file);

// Fills what neither the file nor the flags set: cache-dir
// ($XDG_CACHE_HOME/cairn-server), the store (cas-local in CACHE_DIR/cas),
// the sandbox (bwrap), one instance "" (with host-tools when `host_tools`),
// and checks what must go together (a grpcs:// address needs tls.*,
// tls.client-ca needs a grpcs:// address) and what flags may have set
// unchecked (metrics-listen, the log levels). Errors are INVALID_ARGUMENT.
Status FinishServerConfig(ServerConfig* config, bool host_tools);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SERVER_CONFIG_H
