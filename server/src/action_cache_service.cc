// The ActionCache service: results by action digest, per instance name.
#include "action_results.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/status_details.h"
#include "request_checks.h"
#include "request_scope.h"
#include "services.h"

namespace cairn::server {
namespace {

namespace reapi = build::bazel::remote::execution::v2;

class ActionCacheService final : public reapi::ActionCache::Service {
 public:
  explicit ActionCacheService(ServerState& state) : state_(state) {}

  grpc::Status GetActionResult(grpc::ServerContext* context,
                               const reapi::GetActionResultRequest* request,
                               reapi::ActionResult* response) override {
    RequestScope scope(state_, context, "GetActionResult");
    return scope.Finish(Get(scope, *request, response));
  }

  grpc::Status UpdateActionResult(grpc::ServerContext* context,
                                  const reapi::UpdateActionResultRequest* request,
                                  reapi::ActionResult* response) override {
    RequestScope scope(state_, context, "UpdateActionResult");
    return scope.Finish(Update(scope, *request, response));
  }

 private:
  Status Get(RequestScope& scope, const reapi::GetActionResultRequest& request,
             reapi::ActionResult* response) {
    CAIRN_RETURN_IF_ERROR(scope.Enter(request.instance_name(), Permission::kRead));
    CAIRN_RETURN_IF_ERROR(CheckDigestFunction(request.digest_function(), "digest_function"));
    CAIRN_RETURN_IF_ERROR(CheckDigest(request.action_digest(), "action_digest"));
    StatusOr<ActionResult> result =
        LookupCompleteResult(state_.storage(), request.instance_name(), request.action_digest());
    state_.metrics().CountCacheLookup(result.ok());
    if (!result.ok()) return result.status();
    *response = std::move(result).value();
    InlineRequest wanted{
        request.inline_stdout(),
        request.inline_stderr(),
        {request.inline_output_files().begin(), request.inline_output_files().end()}};
    InlineContents(state_.storage(), wanted, state_.limits().max_batch_size, response);
    scope.AddBytesOut(response->ByteSizeLong());
    return Status::Ok();
  }

  Status Update(RequestScope& scope, const reapi::UpdateActionResultRequest& request,
                reapi::ActionResult* response) {
    CAIRN_RETURN_IF_ERROR(scope.Enter(request.instance_name(), Permission::kWrite));
    CAIRN_RETURN_IF_ERROR(CheckDigestFunction(request.digest_function(), "digest_function"));
    CAIRN_RETURN_IF_ERROR(CheckDigest(request.action_digest(), "action_digest"));
    const ActionResult& result = request.action_result();
    scope.AddBytesIn(result.ByteSizeLong());
    for (int i = 0; i < result.output_files_size(); ++i) {
      CAIRN_RETURN_IF_ERROR(CheckDigest(result.output_files(i).digest(),
                                        Indexed("action_result.output_files", i) + ".digest"));
    }
    for (int i = 0; i < result.output_directories_size(); ++i) {
      CAIRN_RETURN_IF_ERROR(
          CheckDigest(result.output_directories(i).tree_digest(),
                      Indexed("action_result.output_directories", i) + ".tree_digest"));
    }
    if (result.has_stdout_digest()) {
      CAIRN_RETURN_IF_ERROR(CheckDigest(result.stdout_digest(), "action_result.stdout_digest"));
    }
    if (result.has_stderr_digest()) {
      CAIRN_RETURN_IF_ERROR(CheckDigest(result.stderr_digest(), "action_result.stderr_digest"));
    }
    CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> blobs, ReferencedBlobs(state_.storage(), result));
    CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> missing, state_.storage().FindMissing(blobs));
    if (!missing.empty()) {
      return MissingBlobsError("the action result references blobs that are not in the CAS",
                               missing);
    }
    CAIRN_RETURN_IF_ERROR(state_.storage().UpdateActionResult(request.instance_name(),
                                                              request.action_digest(), result));
    *response = result;
    return Status::Ok();
  }

  ServerState& state_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeActionCacheService(ServerState& state) {
  return std::make_unique<ActionCacheService>(state);
}

}  // namespace cairn::server
