// services.h — the gRPC services of one Server, each over the shared
// ServerState. Server::Start makes one of each and registers them all.
//
// Each service's file holds its handlers and nothing else of the others';
// what two services share lives in its own file (request_scope.h,
// grpc_status.h, zstd_codec.h, ...).
#ifndef CAIRN_SERVER_SERVICES_H
#define CAIRN_SERVER_SERVICES_H

#include <grpcpp/impl/service_type.h>

#include <chrono>
#include <memory>
#include <vector>

#include "server_state.h"

namespace cairn::server {

// Implemented (besides grpc::Service) by a service with work of its own
// beyond its calls: threads, queues. The Server finds it by dynamic_cast.
class Drainable {
 public:
  virtual ~Drainable() = default;
  // Called when the server starts shutting down, before it waits up to
  // `grace` for the calls in flight: refuse new work (UNAVAILABLE) and let
  // what runs finish. After `grace` gRPC cancels the calls still open; the
  // service's destructor then stops what is left.
  virtual void Drain(std::chrono::milliseconds grace) = 0;
};

// build.bazel.remote.execution.v2.Capabilities (capabilities_service.cc).
std::unique_ptr<grpc::Service> MakeCapabilitiesService(ServerState& state);
// build.bazel.remote.execution.v2.ContentAddressableStorage (cas_service.cc).
std::unique_ptr<grpc::Service> MakeCasService(ServerState& state);
// google.bytestream.ByteStream (bytestream_service.cc).
std::unique_ptr<grpc::Service> MakeByteStreamService(ServerState& state);
// build.bazel.remote.execution.v2.ActionCache (action_cache_service.cc).
std::unique_ptr<grpc::Service> MakeActionCacheService(ServerState& state);
// build.bazel.remote.execution.v2.Execution and, over its operations,
// google.longrunning.Operations (execution_service.cc).
std::vector<std::unique_ptr<grpc::Service>> MakeExecutionServices(ServerState& state);
// build.bazel.remote.asset.v1.Fetch and Push (asset_service.cc).
std::unique_ptr<grpc::Service> MakeFetchService(ServerState& state);
std::unique_ptr<grpc::Service> MakePushService(ServerState& state);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SERVICES_H
