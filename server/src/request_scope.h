// request_scope.h — the frame around every RPC a service handles.
//
// A RequestScope is made first thing in each handler. It resolves and
// authorizes the instance name, counts the bytes the call moves, and when
// the handler finishes logs one line (method, instance, peer, outcome
// code, bytes in and out, duration) at the configured request-log level
// and counts the request in the metrics.
//
//   grpc::Status FindMissingBlobs(grpc::ServerContext* context, ...) {
//     RequestScope scope(state_, context, "FindMissingBlobs");
//     Status allowed = scope.Enter(request->instance_name(), Permission::kRead);
//     if (!allowed.ok()) return scope.Finish(allowed);
//     ...
//     return scope.Finish(Status::Ok());
//   }
#ifndef CAIRN_SERVER_REQUEST_SCOPE_H
#define CAIRN_SERVER_REQUEST_SCOPE_H

#include <grpcpp/server_context.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "auth.h"
#include "server_state.h"

namespace cairn::server {

class RequestScope {
 public:
  RequestScope(ServerState& state, grpc::ServerContextBase* context, const char* method);
  ~RequestScope();
  RequestScope(const RequestScope&) = delete;
  RequestScope& operator=(const RequestScope&) = delete;

  // Checks the caller's token for `permission` on `instance_name` and that
  // the instance exists (INVALID_ARGUMENT naming `field` otherwise).
  Status Enter(const std::string& instance_name, Permission permission,
               const std::string& field = "instance_name");
  // Any valid token, whatever it may do, and the instance must exist:
  // GetCapabilities, which every client may ask before anything else.
  Status EnterWithAnyPermission(const std::string& instance_name,
                                const std::string& field = "instance_name");

  // Whether the caller's token would also allow `permission` on the
  // instance Enter() resolved (for answers that depend on it).
  bool Allows(Permission permission);

  // The instance Enter() resolved; precondition: Enter() returned OK.
  const Instance& instance() const { return *instance_; }
  ServerState& state() { return state_; }

  void AddBytesIn(uint64_t bytes) { bytes_in_ += bytes; }
  void AddBytesOut(uint64_t bytes) { bytes_out_ += bytes; }

  // Logs and counts the outcome once; returns it as a grpc::Status.
  grpc::Status Finish(const Status& status);

 private:
  std::string Authorization() const;

  ServerState& state_;
  grpc::ServerContextBase* context_;
  const char* method_;
  std::string instance_name_;
  const Instance* instance_ = nullptr;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  std::chrono::steady_clock::time_point start_;
  bool finished_ = false;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_REQUEST_SCOPE_H
