#include "cairn/remote_client/action_cache_client.h"

#include "cairn/remote_client/grpc_status.h"

namespace cairn::remote_client {

namespace reapi = build::bazel::remote::execution::v2;

ActionCacheClient::ActionCacheClient(const std::shared_ptr<RemoteConnection>& connection)
    : ActionCacheClient(connection, reapi::ActionCache::NewStub(connection->channel())) {}

ActionCacheClient::ActionCacheClient(std::shared_ptr<RemoteConnection> connection,
                                     std::unique_ptr<Stub> stub)
    : connection_(std::move(connection)), stub_(std::move(stub)) {}

StatusOr<std::optional<ActionCacheClient::ActionResult>> ActionCacheClient::Get(
    const Digest& action, const std::string& action_id, const Retrier::Cancelled& cancelled) {
  reapi::GetActionResultRequest request;
  request.set_instance_name(connection_->options().instance_name);
  *request.mutable_action_digest() = action;
  request.set_digest_function(reapi::DigestFunction::SHA256);
  ActionResult result;
  bool found = true;
  CAIRN_RETURN_IF_ERROR(connection_->retrier().Run(
      "GetActionResult", Idempotency::kIdempotent,
      [&](std::chrono::system_clock::time_point deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline, action_id));
        result.Clear();
        Status status = FromGrpcStatus(stub_->GetActionResult(context.get(), request, &result));
        // A miss is an answer, not a failure to retry or report.
        found = status.code() != Code::kNotFound;
        return found ? status : Status::Ok();
      },
      cancelled));
  if (!found) return std::optional<ActionResult>();
  return std::optional<ActionResult>(std::move(result));
}

Status ActionCacheClient::Update(const Digest& action, const ActionResult& result,
                                 const std::string& action_id) {
  reapi::UpdateActionResultRequest request;
  request.set_instance_name(connection_->options().instance_name);
  *request.mutable_action_digest() = action;
  *request.mutable_action_result() = result;
  request.set_digest_function(reapi::DigestFunction::SHA256);
  return connection_->retrier().Run(
      "UpdateActionResult", Idempotency::kIdempotent,
      [&](std::chrono::system_clock::time_point deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline, action_id));
        ActionResult stored;
        return FromGrpcStatus(stub_->UpdateActionResult(context.get(), request, &stored));
      });
}

}  // namespace cairn::remote_client
