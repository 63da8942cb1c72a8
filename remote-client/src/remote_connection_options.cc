#include "cairn/remote_client/remote_connection_options.h"

#include <optional>

namespace cairn::remote_client {

StatusOr<RemoteConnectionOptions> ReadConnectionOptions(PluginOptions& options) {
  RemoteConnectionOptions read;
  CAIRN_ASSIGN_OR_RETURN(read.url, options.GetString("url", ""));
  if (read.url.empty()) {
    return InvalidArgument(
        "a remote endpoint needs a 'url' (grpc://HOST:PORT, grpcs://, "
        "http://, https:// or unix:PATH)");
  }
  CAIRN_ASSIGN_OR_RETURN(read.instance_name, options.GetString("instance-name", ""));
  CAIRN_ASSIGN_OR_RETURN(read.server_cert, options.GetString("server-cert", ""));
  CAIRN_ASSIGN_OR_RETURN(read.client_cert, options.GetString("client-cert", ""));
  CAIRN_ASSIGN_OR_RETURN(read.client_key, options.GetString("client-key", ""));
  CAIRN_ASSIGN_OR_RETURN(read.access_token, options.GetString("access-token", ""));
  CAIRN_ASSIGN_OR_RETURN(std::optional<PluginOptions> connection,
                         options.GetSection("connection-config"));
  if (connection.has_value()) {
    CAIRN_ASSIGN_OR_RETURN(read.retry_limit,
                           connection->GetInt("retry-limit", read.retry_limit, 0, 100));
    CAIRN_ASSIGN_OR_RETURN(read.retry_delay_ms,
                           connection->GetInt("retry-delay", read.retry_delay_ms, 0, 3600000));
    CAIRN_ASSIGN_OR_RETURN(read.request_timeout_s,
                           connection->GetInt("request-timeout", read.request_timeout_s, 1, 86400));
    CAIRN_ASSIGN_OR_RETURN(read.keepalive_time_s,
                           connection->GetInt("keepalive-time", read.keepalive_time_s, 0, 86400));
    CAIRN_RETURN_IF_ERROR(connection->Finish());
  }
  return read;
}

}  // namespace cairn::remote_client
