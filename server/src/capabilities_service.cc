// The Capabilities service: what this server does, per instance name.
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "request_scope.h"
#include "services.h"

namespace cairn::server {
namespace {

namespace reapi = build::bazel::remote::execution::v2;

class CapabilitiesService final : public reapi::Capabilities::Service {
 public:
  explicit CapabilitiesService(ServerState& state) : state_(state) {}

  grpc::Status GetCapabilities(grpc::ServerContext* context,
                               const reapi::GetCapabilitiesRequest* request,
                               reapi::ServerCapabilities* response) override {
    RequestScope scope(state_, context, "GetCapabilities");
    Status allowed = scope.EnterWithAnyPermission(request->instance_name());
    if (!allowed.ok()) return scope.Finish(allowed);
    const Instance& instance = scope.instance();

    reapi::CacheCapabilities* cache = response->mutable_cache_capabilities();
    cache->add_digest_functions(reapi::DigestFunction::SHA256);
    cache->mutable_action_cache_update_capabilities()->set_update_enabled(
        scope.Allows(Permission::kWrite));
    cache->set_max_batch_total_size_bytes(static_cast<int64_t>(state_.limits().max_batch_size));
    cache->set_max_cas_blob_size_bytes(static_cast<int64_t>(state_.max_blob_size()));
    // A Cairn or BuildStream action's input root is the whole system: its
    // absolute symlinks point inside it. A host-tools action's would point
    // into the worker's own files, which no client should depend on.
    cache->set_symlink_absolute_path_strategy(instance.host_tools
                                                  ? reapi::SymlinkAbsolutePathStrategy::DISALLOWED
                                                  : reapi::SymlinkAbsolutePathStrategy::ALLOWED);
    cache->add_supported_compressors(reapi::Compressor::ZSTD);
    cache->add_supported_batch_update_compressors(reapi::Compressor::ZSTD);

    reapi::ExecutionCapabilities* execution = response->mutable_execution_capabilities();
    execution->set_digest_function(reapi::DigestFunction::SHA256);
    execution->add_digest_functions(reapi::DigestFunction::SHA256);
    execution->set_exec_enabled(instance.sandbox != nullptr && scope.Allows(Permission::kExecute));
    for (const auto& property : instance.sandbox_capabilities.platform.properties()) {
      execution->add_supported_node_properties(property.name());
    }

    response->mutable_deprecated_api_version()->set_major(2);
    response->mutable_low_api_version()->set_major(2);
    response->mutable_high_api_version()->set_major(2);
    response->mutable_high_api_version()->set_minor(3);
    return scope.Finish(Status::Ok());
  }

 private:
  ServerState& state_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeCapabilitiesService(ServerState& state) {
  return std::make_unique<CapabilitiesService>(state);
}

}  // namespace cairn::server
