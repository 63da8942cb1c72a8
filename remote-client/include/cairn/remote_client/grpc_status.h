// cairn/remote_client/grpc_status.h — a gRPC call's status as cairn::Status.
//
// The code and message pass unchanged; the server's google.rpc.Status
// details (PreconditionFailure, BadRequest, RetryInfo, ...), carried in
// gRPC's error details, become the Status's typed details.
#ifndef CAIRN_REMOTE_CLIENT_GRPC_STATUS_H
#define CAIRN_REMOTE_CLIENT_GRPC_STATUS_H

#include <grpcpp/support/status.h>

#include "cairn/status.h"

namespace cairn::remote_client {

Status FromGrpcStatus(const grpc::Status& status);

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_GRPC_STATUS_H
