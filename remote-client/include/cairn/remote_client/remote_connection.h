// cairn/remote_client/remote_connection.h — one channel to a remote server,
// and the client contexts every call on it starts from.
//
// Create() builds the gRPC channel the options describe: plain for
// grpc://, http:// and unix:, TLS for grpcs:// and https:// (roots from
// server_cert or the system's, a client certificate for mutual TLS),
// keepalive pings when keepalive_time_s is set, message limits large
// enough for any batch. NewContext() gives a ClientContext that carries
// `authorization: Bearer TOKEN` (the access-token file, re-read when it
// changes) and RequestMetadata (tool name and version, one invocation id
// per process, the caller's action id when given).
//
// The token travels as plain metadata on the context, not as gRPC call
// credentials, because gRPC drops call credentials on insecure channels and
// a token over grpc:// to a loopback or unix: server is a real use.
//
// Thread-safe; share one connection (and its channel) between clients.
//
//   CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<RemoteConnection> connection,
//                          RemoteConnection::Create(options, {"cairn", "0.1.0"}));
//   CasClient cas(connection);
#ifndef CAIRN_REMOTE_CLIENT_REMOTE_CONNECTION_H
#define CAIRN_REMOTE_CLIENT_REMOTE_CONNECTION_H

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "cairn/remote_client/access_token.h"
#include "cairn/remote_client/remote_connection_options.h"
#include "cairn/remote_client/retrier.h"
#include "cairn/status.h"

namespace cairn::remote_client {

// The metadata key of RequestMetadata (REAPI).
inline constexpr char kRequestMetadataKey[] = "build.bazel.remote.execution.v2.requestmetadata-bin";

// The largest message the channel sends or receives: room for a batch
// of the largest size servers commonly advertise, plus framing.
inline constexpr int kMaxMessageBytes = 64 << 20;

// A random (version 4) UUID, e.g. for ByteStream upload names.
std::string RandomUuid();

// While it lives, every call this thread makes on any connection carries
// `action_id` in its RequestMetadata (unless the call names its own): so
// the CAS transfers made for an Action are tied to it in the server's logs
// as its Execute is. Nests; the previous id comes back when it ends.
class ActionScope {
 public:
  explicit ActionScope(std::string action_id);
  ~ActionScope();
  ActionScope(const ActionScope&) = delete;
  ActionScope& operator=(const ActionScope&) = delete;

 private:
  std::string previous_;
};

class RemoteConnection {
 public:
  // INVALID_ARGUMENT for a URL of another form; NOT_FOUND / INVALID_ARGUMENT
  // naming the file for certificates that cannot be read.
  static StatusOr<std::shared_ptr<RemoteConnection>> Create(const RemoteConnectionOptions& options,
                                                            const ToolIdentity& tool);

  const RemoteConnectionOptions& options() const { return options_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // A Retrier with this endpoint's retry settings, naming its URL.
  const Retrier& retrier() const { return retrier_; }

  // A context for one attempt of one call, with the given deadline and
  // `action_id` ("" = the thread's ActionScope, if any) in its
  // RequestMetadata. UNAUTHENTICATED when
  // the access-token file cannot be read.
  StatusOr<std::unique_ptr<grpc::ClientContext>> NewContext(
      std::chrono::system_clock::time_point deadline, const std::string& action_id = "");

  // The process's tool invocation id (a random UUID, the same for every
  // connection of this process).
  static const std::string& InvocationId();

 private:
  RemoteConnection(RemoteConnectionOptions options, ToolIdentity tool,
                   std::shared_ptr<grpc::Channel> channel);

  RemoteConnectionOptions options_;
  ToolIdentity tool_;
  std::shared_ptr<grpc::Channel> channel_;
  Retrier retrier_;
  std::unique_ptr<AccessTokenFile> token_;
};

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_REMOTE_CONNECTION_H
