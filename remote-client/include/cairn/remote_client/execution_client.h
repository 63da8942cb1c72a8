// cairn/remote_client/execution_client.h — running one Action on a remote
// Execution service, and getting its ExecuteResponse back whatever happens
// to the connection on the way.
//
// Execute() sends ExecuteRequest and follows the operation stream,
// reporting each stage (queued, executing) through `progress`. What goes
// wrong on the way is recovered where the API allows:
//   - the stream ends or breaks before the operation is done, with its name
//     known: WaitExecution on that name;
//   - WaitExecution says NOT_FOUND (the server forgot the operation, e.g.
//     it restarted): Execute again;
//   - FAILED_PRECONDITION listing MISSING blobs (as the call's status, the
//     operation's error or ExecuteResponse.status): `upload_missing` for
//     those blobs, then Execute again;
//   - UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED (transport errors arrive as
//     UNAVAILABLE), or DEADLINE_EXCEEDED of WaitExecution: the
//     connection's backoff with jitter, up to its retry limit, then
//     WaitExecution when the name is known, else Execute.
// A stream that delivered an update before it broke does not use up a
// retry: a server that ends streams now and then (as some do, to balance
// load) costs nothing. Re-executions (NOT_FOUND, MISSING) are bounded by
// kMaxReexecutions. Anything else — INVALID_ARGUMENT, PERMISSION_DENIED,
// UNAUTHENTICATED, ... — is returned at once, naming the endpoint, the code
// and the server's message. The whole sequence ends at `deadline` when one
// is given (DEADLINE_EXCEEDED).
//
// Cancellation: `is_cancelled` is polled every 50 ms, also while blocked on
// the stream; once true the call is cancelled, CancelOperation is sent for
// the operation (servers without the Operations service answer
// UNIMPLEMENTED, which is fine) and Execute() returns CANCELLED.
//
// A completed operation's ExecuteResponse is returned as it is, with a
// non-OK `status` inside it left to the caller (e.g. DEADLINE_EXCEEDED
// with a partial result).
#ifndef CAIRN_REMOTE_CLIENT_EXECUTION_CLIENT_H
#define CAIRN_REMOTE_CLIENT_EXECUTION_CLIENT_H

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/digest.h"
#include "cairn/remote_client/remote_connection.h"
#include "cairn/sandbox.h"
#include "cairn/status.h"
#include "google/longrunning/operations.grpc.pb.h"

namespace cairn::remote_client {

// How often one Execute() sends the Action again after the server lost it
// or lacked inputs, before giving up.
inline constexpr int kMaxReexecutions = 3;

struct ExecutionCallbacks {
  // Polled; true once the execution should stop. May be empty.
  std::function<bool()> is_cancelled;
  // Stage changes (queued, executing, completed) and recoveries. May be empty.
  std::function<void(const ExecuteProgress&)> progress;
  // Uploads blobs the server said it lacks. Empty = such an answer fails.
  std::function<Status(const std::vector<Digest>&)> upload_missing;
};

struct ExecutionOutcome {
  build::bazel::remote::execution::v2::ExecuteResponse response;
  std::string operation_name;
  int executions = 0;  // ExecuteRequests sent (1 unless recovered)
};

class ExecutionClient {
 public:
  using ExecutionStub = build::bazel::remote::execution::v2::Execution::StubInterface;
  using OperationsStub = google::longrunning::Operations::StubInterface;

  explicit ExecutionClient(const std::shared_ptr<RemoteConnection>& connection);
  ExecutionClient(std::shared_ptr<RemoteConnection> connection,
                  std::unique_ptr<ExecutionStub> execution,
                  std::unique_ptr<OperationsStub> operations);

  // `request.instance_name` is set from the connection. `action_id` goes
  // into RequestMetadata of every call.
  StatusOr<ExecutionOutcome> Execute(
      build::bazel::remote::execution::v2::ExecuteRequest request, const std::string& action_id,
      const ExecutionCallbacks& callbacks,
      std::optional<std::chrono::system_clock::time_point> deadline = std::nullopt);

 private:
  struct StreamResult;
  StreamResult FollowStream(bool wait, const std::string& name,
                            const build::bazel::remote::execution::v2::ExecuteRequest& request,
                            const std::string& action_id, const ExecutionCallbacks& callbacks,
                            std::optional<std::chrono::system_clock::time_point> deadline);
  void CancelOperation(const std::string& name, const std::string& action_id);

  std::shared_ptr<RemoteConnection> connection_;
  std::unique_ptr<ExecutionStub> execution_;
  std::unique_ptr<OperationsStub> operations_;
};

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_EXECUTION_CLIENT_H
