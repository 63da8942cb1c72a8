#include "cairn/remote_client/grpc_status.h"

#include "cairn/status_details.h"
#include "google/rpc/status.pb.h"

namespace cairn::remote_client {

Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return Status::Ok();
  google::rpc::Status rpc;
  if (!status.error_details().empty() && rpc.ParseFromString(status.error_details())) {
    // The trailer's own code and message are the ones the call ended with.
    rpc.set_code(status.error_code());
    rpc.set_message(status.error_message());
    return FromRpcStatus(rpc);
  }
  return Status(static_cast<Code>(status.error_code()), status.error_message());
}

}  // namespace cairn::remote_client
