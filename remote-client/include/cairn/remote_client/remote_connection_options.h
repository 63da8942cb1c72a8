// cairn/remote_client/remote_connection_options.h — where a remote server
// is and how to talk to it.
//
// The same settings as runtime's RemoteEndpoint (cairn/runtime/endpoint.h),
// which converts to this struct: the remote client may not depend on
// runtime/, because plugins link it and receive their endpoint as options.
#ifndef CAIRN_REMOTE_CLIENT_REMOTE_CONNECTION_OPTIONS_H
#define CAIRN_REMOTE_CLIENT_REMOTE_CONNECTION_OPTIONS_H

#include <cstdint>
#include <string>

#include "cairn/plugin_options.h"
#include "cairn/status.h"

namespace cairn::remote_client {

struct RemoteConnectionOptions {
  // grpc://HOST:PORT, grpcs://HOST:PORT, http://HOST:PORT, https://HOST:PORT
  // or unix:PATH.
  std::string url;
  std::string instance_name;
  std::string server_cert;   // PEM CA file for grpcs/https; "" = system roots
  std::string client_cert;   // PEM, mutual TLS; needs client_key
  std::string client_key;    // PEM
  std::string access_token;  // file holding a bearer token; "" = none
  int64_t retry_limit = 4;   // retries after the first attempt
  int64_t retry_delay_ms = 1000;
  int64_t request_timeout_s = 60;
  int64_t keepalive_time_s = 0;  // 0 = no keepalive pings
};

// Who is calling, sent as RequestMetadata.tool_details on every call.
struct ToolIdentity {
  std::string name = "cairn";
  std::string version;
};

// Reads an endpoint from a plugin's options, in the keys of the user
// configuration (RemoteEndpoint::ToYaml): url (required), instance-name,
// server-cert, client-cert, client-key, access-token and a
// connection-config section (retry-limit, retry-delay in ms,
// request-timeout and keepalive-time in seconds). INVALID_ARGUMENT naming
// the option otherwise. Leaves other keys to the caller, which calls
// Finish() on `options`.
StatusOr<RemoteConnectionOptions> ReadConnectionOptions(PluginOptions& options);

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_REMOTE_CONNECTION_OPTIONS_H
