// PLACEHOLDER until the Execution service is written: every call is UNIMPLEMENTED.
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "services.h"

namespace cairn::server {

std::unique_ptr<grpc::Service> MakeExecutionService(ServerState& /*state*/) {
  return std::make_unique<build::bazel::remote::execution::v2::Execution::Service>();
}

}  // namespace cairn::server
