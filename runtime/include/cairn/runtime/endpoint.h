// cairn/runtime/endpoint.h — a remote server Cairn talks to, as configured.
//
// `remote-execution:` and each entry of `artifact-caches:` in the user
// configuration describe one endpoint: where it is, which REAPI instance,
// which credentials, how patiently to talk to it. ReadEndpoint() validates
// all of it when the configuration is loaded, so a wrong path or a
// certificate that is not PEM is reported at FILE:LINE:COLUMN before
// anything connects:
//   url            grpc://HOST:PORT, grpcs://HOST:PORT, http://, https://,
//                  or unix:PATH (required)
//   instance-name  the REAPI instance name (default "")
//   server-cert    PEM file of the CA(s) that sign the server's certificate
//   client-cert    PEM certificate for mutual TLS (needs client-key)
//   client-key     PEM private key matching client-cert
//   access-token   a file holding a bearer token (re-read by whoever uses it)
//   push           artifact caches only: whether to push to it
//   type           artifact caches only: index (a Remote Asset server
//                  naming artifacts), storage (a CAS holding their
//                  bytes) or all (both; the default)
//   auth           artifact caches only: server-cert, client-cert,
//                  client-key and access-token in a section of their own
//                  (BuildStream's form), instead of beside `url`
//   storage-service, action-cache-service
//                  `remote-execution` only: an endpoint of the same keys
//                  for the CAS / the action cache, when they are not at
//                  `url` (BuildStream 2's shape)
//   connection-config:
//     retry-limit      retries of a failed call (default 4)
//     retry-delay      milliseconds before the first retry (default 1000)
//     request-timeout  seconds one call may take (default 60)
//     keepalive-time   seconds between keepalive pings; 0 = none (default 0)
// Relative file paths are relative to the configuration file that names them.
//
// Plugins receive an endpoint as YAML options (ToYaml()), with every path
// made absolute.
#ifndef CAIRN_RUNTIME_ENDPOINT_H
#define CAIRN_RUNTIME_ENDPOINT_H

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cairn/runtime/config_node.h"
#include "cairn/status.h"

namespace cairn {

struct ConnectionConfig {
  int64_t retry_limit = 4;
  int64_t retry_delay_ms = 1000;
  int64_t request_timeout_s = 60;
  int64_t keepalive_time_s = 0;
};

// What an artifact cache serves.
enum class CacheType { kAll, kIndex, kStorage };
std::string CacheTypeName(CacheType type);  // "all", "index", "storage"

struct RemoteEndpoint {
  std::string url;
  std::string instance_name;
  std::string server_cert;  // absolute paths, "" when not set
  std::string client_cert;
  std::string client_key;
  std::string access_token;
  bool push = false;
  CacheType type = CacheType::kAll;
  ConnectionConfig connection;
  SourceLocation location;  // where the endpoint's mapping starts
  // `remote-execution` only; null = at `url`.
  std::shared_ptr<const RemoteEndpoint> storage_service;
  std::shared_ptr<const RemoteEndpoint> action_cache_service;

  // The endpoint as the YAML mapping a plugin takes as its options (the
  // same keys as the configuration).
  std::string ToYaml() const;
};

// Reads and validates one endpoint mapping: the URL's scheme and form,
// every named file readable, certificates and the key PEM, the key matching
// the client certificate, client-cert and client-key given together, the
// connection numbers in range, and the service sub-sections the same way.
// Errors are ConfigErrors at the offending key.
StatusOr<RemoteEndpoint> ReadEndpoint(const ConfigNode& node);

// A project's suggested artifact caches (project.conf `artifacts:`, one
// mapping or a list of them), each checked against the artifact cache keys
// and read as ReadEndpoint does.
StatusOr<std::vector<RemoteEndpoint>> ReadArtifactCaches(const ConfigNode& node);

// The caches a build uses: the user's first, then the project's, each URL
// once (the first entry of a URL and type wins, as in BuildStream).
std::vector<RemoteEndpoint> MergeArtifactCaches(const std::vector<RemoteEndpoint>& user,
                                                const std::vector<RemoteEndpoint>& project);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_ENDPOINT_H
