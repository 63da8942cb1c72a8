#include "grpc_status.h"

#include "cairn/status_details.h"

namespace cairn::server {

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  auto code = static_cast<grpc::StatusCode>(status.code());
  if (status.details() == nullptr) return grpc::Status(code, status.message());
  return grpc::Status(code, status.message(), ToRpcStatus(status).SerializeAsString());
}

Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return Status::Ok();
  google::rpc::Status rpc;
  if (!status.error_details().empty() && rpc.ParseFromString(status.error_details())) {
    rpc.set_code(status.error_code());
    rpc.set_message(status.error_message());
    return FromRpcStatus(rpc);
  }
  return Status(static_cast<Code>(status.error_code()), status.error_message());
}

}  // namespace cairn::server
