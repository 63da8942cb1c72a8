#include "cairn/remote_client/asset_client.h"

#include "cairn/remote_client/grpc_status.h"
#include "cairn/status_details.h"

namespace cairn::remote_client {

namespace rasset = build::bazel::remote::asset::v1;
namespace reapi = build::bazel::remote::execution::v2;
using Deadline = std::chrono::system_clock::time_point;

namespace {

// The Directory messages share the Blob messages' wire layout (field for
// field), so one converts to the other through its bytes.
template <typename To, typename From>
To Convert(const From& from) {
  To to;
  to.ParseFromString(from.SerializeAsString());
  return to;
}

}  // namespace

AssetClient::AssetClient(const std::shared_ptr<RemoteConnection>& connection)
    : AssetClient(connection, rasset::Fetch::NewStub(connection->channel()),
                  rasset::Push::NewStub(connection->channel())) {}

AssetClient::AssetClient(std::shared_ptr<RemoteConnection> connection,
                         std::unique_ptr<FetchStub> fetch, std::unique_ptr<PushStub> push)
    : connection_(std::move(connection)), fetch_(std::move(fetch)), push_(std::move(push)) {}

StatusOr<std::optional<AssetFetchResponse>> AssetClient::Fetch(AssetKind kind,
                                                               AssetFetchRequest request) {
  if (request.instance_name().empty()) {
    request.set_instance_name(connection_->options().instance_name);
  }
  request.set_digest_function(reapi::DigestFunction::SHA256);
  AssetFetchResponse response;
  bool found = true;
  const char* method = kind == AssetKind::kBlob ? "FetchBlob" : "FetchDirectory";
  CAIRN_RETURN_IF_ERROR(connection_->retrier().Run(
      method, Idempotency::kIdempotent, [&](Deadline deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
        Status status;
        if (kind == AssetKind::kBlob) {
          response.Clear();
          status = FromGrpcStatus(fetch_->FetchBlob(context.get(), request, &response));
        } else {
          rasset::FetchDirectoryResponse directory;
          status = FromGrpcStatus(fetch_->FetchDirectory(
              context.get(), Convert<rasset::FetchDirectoryRequest>(request), &directory));
          response = Convert<AssetFetchResponse>(directory);
        }
        if (status.ok()) status = FromRpcStatus(response.status());
        // Nothing under that name is an answer, not a failure.
        found = status.code() != Code::kNotFound;
        return found ? status : Status::Ok();
      }));
  if (!found) return std::optional<AssetFetchResponse>();
  return std::optional<AssetFetchResponse>(std::move(response));
}

Status AssetClient::Push(AssetKind kind, AssetPushRequest request) {
  if (request.instance_name().empty()) {
    request.set_instance_name(connection_->options().instance_name);
  }
  request.set_digest_function(reapi::DigestFunction::SHA256);
  const char* method = kind == AssetKind::kBlob ? "PushBlob" : "PushDirectory";
  return connection_->retrier().Run(
      method, Idempotency::kIdempotent, [&](Deadline deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
        if (kind == AssetKind::kBlob) {
          rasset::PushBlobResponse response;
          return FromGrpcStatus(push_->PushBlob(context.get(), request, &response));
        }
        rasset::PushDirectoryResponse response;
        return FromGrpcStatus(push_->PushDirectory(
            context.get(), Convert<rasset::PushDirectoryRequest>(request), &response));
      });
}

}  // namespace cairn::remote_client
