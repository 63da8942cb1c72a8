// grpc_status.h — cairn::Status as the status of a gRPC call.
//
// The code and message pass unchanged; typed details (PreconditionFailure,
// BadRequest, ...) travel as the serialized google.rpc.Status in gRPC's
// error details (the `grpc-status-details-bin` trailer), where REAPI
// clients look for them. (The client side's mapping back is
// cairn/remote_client/grpc_status.h.)
#ifndef CAIRN_SERVER_GRPC_STATUS_H
#define CAIRN_SERVER_GRPC_STATUS_H

#include <grpcpp/support/status.h>

#include "cairn/status.h"

namespace cairn::server {

grpc::Status ToGrpcStatus(const Status& status);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_GRPC_STATUS_H
