#include "asset_client.h"

#include "cairn/remote_client/grpc_status.h"

namespace cairn::cas_remote {
namespace {

namespace rasset = build::bazel::remote::asset::v1;
using remote_client::Idempotency;
using Deadline = std::chrono::system_clock::time_point;

// The Blob and Directory messages of each call share one wire layout.
template <typename To, typename From>
To Retyped(const From& message) {
  To converted;
  converted.ParseFromString(message.SerializeAsString());
  return converted;
}

std::string FirstUri(const google::protobuf::RepeatedPtrField<std::string>& uris) {
  return uris.empty() ? std::string("(no URI)") : uris[0];
}

}  // namespace

AssetClient::AssetClient(const std::shared_ptr<remote_client::RemoteConnection>& connection)
    : connection_(connection),
      fetch_(rasset::Fetch::NewStub(connection->channel())),
      push_(rasset::Push::NewStub(connection->channel())) {}

StatusOr<AssetFetchResponse> AssetClient::Fetch(AssetKind kind, AssetFetchRequest request) {
  if (request.instance_name().empty()) {
    request.set_instance_name(connection_->options().instance_name);
  }
  const bool blob = kind == AssetKind::kBlob;
  AssetFetchResponse response;
  CAIRN_RETURN_IF_ERROR(connection_->retrier().Run(
      blob ? "FetchBlob" : "FetchDirectory", Idempotency::kIdempotent,
      [&](Deadline deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
        if (blob) {
          response.Clear();
          return remote_client::FromGrpcStatus(
              fetch_->FetchBlob(context.get(), request, &response));
        }
        rasset::FetchDirectoryResponse directory;
        Status status = remote_client::FromGrpcStatus(fetch_->FetchDirectory(
            context.get(), Retyped<rasset::FetchDirectoryRequest>(request), &directory));
        if (status.ok()) response = Retyped<AssetFetchResponse>(directory);
        return status;
      }));
  if (response.status().code() != 0) {
    return Status(static_cast<Code>(response.status().code()), connection_->options().url + ": " +
                                                                   FirstUri(request.uris()) + ": " +
                                                                   response.status().message());
  }
  return response;
}

Status AssetClient::Push(AssetKind kind, AssetPushRequest request) {
  if (request.instance_name().empty()) {
    request.set_instance_name(connection_->options().instance_name);
  }
  const bool blob = kind == AssetKind::kBlob;
  return connection_->retrier().Run(
      blob ? "PushBlob" : "PushDirectory", Idempotency::kIdempotent,
      [&](Deadline deadline) -> Status {
        CAIRN_ASSIGN_OR_RETURN(auto context, connection_->NewContext(deadline));
        if (blob) {
          rasset::PushBlobResponse response;
          return remote_client::FromGrpcStatus(push_->PushBlob(context.get(), request, &response));
        }
        rasset::PushDirectoryResponse response;
        return remote_client::FromGrpcStatus(push_->PushDirectory(
            context.get(), Retyped<rasset::PushDirectoryRequest>(request), &response));
      });
}

}  // namespace cairn::cas_remote
