#include "grpc_status.h"

#include "cairn/status_details.h"

namespace cairn::server {

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  auto code = static_cast<grpc::StatusCode>(status.code());
  if (status.details() == nullptr) return grpc::Status(code, status.message());
  return grpc::Status(code, status.message(), ToRpcStatus(status).SerializeAsString());
}

}  // namespace cairn::server
