// PLACEHOLDER until the Remote Asset services are written: every call is UNIMPLEMENTED.
#include "build/bazel/remote/asset/v1/remote_asset.grpc.pb.h"
#include "services.h"

namespace cairn::server {

std::unique_ptr<grpc::Service> MakeFetchService(ServerState& /*state*/) {
  return std::make_unique<build::bazel::remote::asset::v1::Fetch::Service>();
}

std::unique_ptr<grpc::Service> MakePushService(ServerState& /*state*/) {
  return std::make_unique<build::bazel::remote::asset::v1::Push::Service>();
}

}  // namespace cairn::server
