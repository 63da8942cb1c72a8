// The Execution service: Execute and WaitExecution over the instances'
// sandboxes.
//
// Execute checks everything it can before an operation exists — the
// instance, the digest, the action cache, the Action and its inputs
// (ActionValidator), the platform — and reports what fails as the call's
// own status (REAPI: errors found while creating the operation; missing
// blobs as FAILED_PRECONDITION with a PreconditionFailure). What happens
// afterwards (a timeout, a sandbox failure) goes into ExecuteResponse.status
// of the done Operation. Identical actions in flight run once
// (OperationRegistry); the runs themselves belong to the ExecutionQueue,
// not to the calls, so a client that goes away cancels nothing.
#include <grpcpp/server_context.h>
#include <grpcpp/support/sync_stream.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "action_results.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/action_validator.h"
#include "cairn/status_details.h"
#include "execution_platform.h"
#include "execution_queue.h"
#include "google/longrunning/operations.grpc.pb.h"
#include "operation.h"
#include "operation_registry.h"
#include "request_checks.h"
#include "request_scope.h"
#include "services.h"

namespace cairn::server {
namespace {

namespace reapi = build::bazel::remote::execution::v2;
namespace longrunning = google::longrunning;
using google::longrunning::Operation;  // the message; server::Operation is the state
using OperationWriter = grpc::ServerWriter<google::longrunning::Operation>;

// How long a finished operation stays findable by WaitExecution, and how
// many of them at most.
constexpr std::chrono::minutes kKeepFinished(10);
constexpr size_t kMaxFinished = 5000;
// How often a waiting handler checks whether its call was cancelled (a
// client gone, the server shutting down).
constexpr std::chrono::milliseconds kPollInterval(200);
// An idle stream gets the current state again this often, so proxies that
// drop quiet streams keep it open.
constexpr std::chrono::seconds kKeepAlive(30);

reapi::ExecutionStage::Value ReapiStage(ExecuteStage stage) {
  switch (stage) {
    case ExecuteStage::kCacheCheck:
      return reapi::ExecutionStage::CACHE_CHECK;
    case ExecuteStage::kQueued:
      return reapi::ExecutionStage::QUEUED;
    case ExecuteStage::kUploading:
    case ExecuteStage::kExecuting:
    case ExecuteStage::kFetching:
      return reapi::ExecutionStage::EXECUTING;
    case ExecuteStage::kCompleted:
      break;
  }
  // COMPLETED is reached only with the response (Operation::Complete).
  return reapi::ExecutionStage::UNKNOWN;
}

class ExecutionService final : public reapi::Execution::Service, public Drainable {
 public:
  explicit ExecutionService(ServerState& state)
      : state_(state),
        registry_(kKeepFinished, kMaxFinished),
        queue_(Workers(state.config().executions), state.limits().max_queue, state.metrics()) {}

  grpc::Status Execute(grpc::ServerContext* context, const reapi::ExecuteRequest* request,
                       OperationWriter* writer) override {
    RequestScope scope(state_, context, "Execute");
    StatusOr<Following> started = Start(scope, *request);
    if (!started.ok()) return scope.Finish(started.status());
    return scope.Finish(
        Follow(scope, context, *started->operation, started->next, request, writer));
  }

  grpc::Status WaitExecution(grpc::ServerContext* context,
                             const reapi::WaitExecutionRequest* request,
                             OperationWriter* writer) override {
    RequestScope scope(state_, context, "WaitExecution");
    std::optional<std::string> instance = InstanceOfOperationName(request->name());
    if (!instance) return scope.Finish(UnknownOperation(request->name()));
    Status allowed = scope.Enter(*instance, Permission::kExecute, "name");
    // No operation of an instance not served can exist: REAPI's answer for
    // an unknown name, which sends the client back to Execute.
    if (allowed.code() == Code::kInvalidArgument) {
      return scope.Finish(UnknownOperation(request->name()));
    }
    if (!allowed.ok()) return scope.Finish(allowed);
    std::shared_ptr<server::Operation> operation = registry_.Find(request->name());
    if (operation == nullptr) return scope.Finish(UnknownOperation(request->name()));
    // The current state at once, then what follows (REAPI's WaitExecution).
    size_t current = operation->updates() - 1;
    return scope.Finish(Follow(scope, context, *operation, current, nullptr, writer));
  }

  void Drain(std::chrono::milliseconds /*grace*/) override {
    draining_ = true;
    queue_.Close();
  }

 private:
  // An operation and the first of its updates a call still has to send.
  struct Following {
    std::shared_ptr<server::Operation> operation;
    size_t next = 0;
  };

  static int Workers(int configured) {
    if (configured > 0) return configured;
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  static Status UnknownOperation(const std::string& name) {
    return NotFound("operation \"" + name +
                    "\" is unknown or finished too long ago; call Execute again");
  }

  StatusOr<Following> Start(RequestScope& scope, const reapi::ExecuteRequest& request) {
    CAIRN_RETURN_IF_ERROR(scope.Enter(request.instance_name(), Permission::kExecute));
    if (draining_) {
      return Unavailable("the server is shutting down and takes no new executions");
    }
    CAIRN_RETURN_IF_ERROR(CheckDigestFunction(request.digest_function(), "digest_function"));
    CAIRN_RETURN_IF_ERROR(CheckDigest(request.action_digest(), "action_digest"));
    const Instance& instance = scope.instance();
    const Digest& digest = request.action_digest();
    if (instance.sandbox == nullptr) {
      // No worker can run it: REAPI's FAILED_PRECONDITION for an operation
      // that cannot be created (Capabilities says exec_enabled=false).
      return FailedPrecondition("instance \"" + instance.name +
                                "\" does not execute actions (it has no sandbox); only its "
                                "caches are served");
    }

    std::vector<server::Operation::Stage> stages;
    if (!request.skip_cache_lookup()) {
      stages.push_back(reapi::ExecutionStage::CACHE_CHECK);
      StatusOr<ActionResult> cached = LookupCompleteResult(state_.storage(), instance.name, digest);
      state_.metrics().CountCacheLookup(cached.ok());
      if (cached.ok()) {
        reapi::ExecuteResponse response;
        *response.mutable_result() = std::move(cached).value();
        response.set_cached_result(true);
        response.mutable_status();  // OK
        response.set_message("served from the action cache");
        return Following{registry_.AddCompleted(instance.name, digest, stages.front(), response),
                         0};
      }
    }

    StatusOr<Action> action = state_.storage().ReadMessage<Action>(digest);
    if (action.status().code() == Code::kNotFound) {
      return MissingBlobsError("the Action " + DigestToString(digest) + " is not in the CAS",
                               {digest});
    }
    if (action.status().code() == Code::kDataLoss) {
      return BadRequestError("action_digest", "blob " + DigestToString(digest) +
                                                  " in the CAS is not an Action message");
    }
    if (!action.ok()) return action.status().WithContext("reading the Action");
    ActionValidatorOptions options;
    // A host-tools instance binds the host's directories into the root, so
    // absolute symlinks of the input would point at the host's files.
    options.allow_absolute_symlinks = !instance.host_tools;
    CAIRN_ASSIGN_OR_RETURN(ValidatedAction valid,
                           ActionValidator(state_.storage(), options).Validate(*action));
    CAIRN_RETURN_IF_ERROR(
        CheckPlatformOffered(valid.platform, instance.sandbox_capabilities, instance.name));
    CAIRN_RETURN_IF_ERROR(ApplyTimeoutLimits(&*action));

    stages.push_back(reapi::ExecutionStage::QUEUED);
    std::shared_ptr<Sandbox> sandbox = instance.sandbox;
    CAIRN_ASSIGN_OR_RETURN(
        OperationRegistry::Started started,
        registry_.StartOrJoin(instance.name, digest, !action->do_not_cache(), stages,
                              [&](const std::shared_ptr<server::Operation>& operation) {
                                ExecutionQueue::Job job;
                                job.run = [this, sandbox, operation, action = *action] {
                                  Run(*sandbox, action, operation);
                                };
                                job.abandon = [this, operation] { Abandon(operation); };
                                return queue_.Submit(request.execution_policy().priority(),
                                                     std::move(job));
                              }));
    // The caller that started the operation sees every stage; one that
    // joins starts from the current one.
    return Following{started.operation, started.created ? 0 : started.operation->updates() - 1};
  }

  // REAPI: an Action without a timeout gets the server's default, and one
  // asking for more than the server's maximum is refused. The Action run
  // carries the default; its digest (the cache key) stays the client's.
  Status ApplyTimeoutLimits(Action* action) const {
    const ServerLimits& limits = state_.limits();
    const google::protobuf::Duration& timeout = action->timeout();
    if (timeout.seconds() == 0 && timeout.nanos() == 0) {
      action->mutable_timeout()->set_seconds(limits.default_action_timeout_s);
      return Status::Ok();
    }
    if (timeout.seconds() > limits.max_action_timeout_s ||
        (timeout.seconds() == limits.max_action_timeout_s && timeout.nanos() > 0)) {
      return BadRequestError(kFieldTimeout, std::to_string(timeout.seconds()) +
                                                " s is longer than this server allows (" +
                                                std::to_string(limits.max_action_timeout_s) +
                                                " s)");
    }
    return Status::Ok();
  }

  // On a queue worker.
  void Run(Sandbox& sandbox, const Action& action,
           const std::shared_ptr<server::Operation>& operation) {
    if (operation->cancel_requested()) {
      Complete(operation, Cancelled("cancelled (CancelOperation) before it started"));
      return;
    }
    operation->Advance(reapi::ExecutionStage::EXECUTING);
    ExecuteOptions options;
    options.progress = [&operation](const ExecuteProgress& progress) {
      reapi::ExecutionStage::Value stage = ReapiStage(progress.stage);
      if (stage != reapi::ExecutionStage::UNKNOWN) operation->Advance(stage);
    };
    // Only the server going away stops an action: the clients waiting for
    // it may come and go (WaitExecution), and others may have joined.
    // (and CancelOperation, which names this operation).
    options.is_cancelled = [this, &operation] {
      return queue_.cancelled() || operation->cancel_requested();
    };
    ExecuteOutcome outcome = sandbox.Execute(action, options);

    reapi::ExecuteResponse response;
    if (outcome.status.ok() && !outcome.result) {
      outcome.status = Internal("the sandbox reported success without an ActionResult");
    }
    if (outcome.result) *response.mutable_result() = std::move(*outcome.result);
    *response.mutable_status() = ToRpcStatus(outcome.status);
    response.set_cached_result(outcome.cached_result);
    std::string message = outcome.status.ok()
                              ? "exit code " + std::to_string(response.result().exit_code())
                              : outcome.status.ToString();
    // Only a complete, successful run is worth serving again (REAPI: never
    // a non-OK status; Bazel's practice: only exit code 0).
    if (outcome.status.ok() && response.result().exit_code() == 0 && !action.do_not_cache()) {
      Status stored = state_.storage().UpdateActionResult(
          operation->instance(), operation->action_digest(), response.result());
      if (!stored.ok()) {
        spdlog::warn("execution {}: the result could not be cached: {}", operation->name(),
                     stored.ToString());
        message += "; not cached: " + stored.ToString();
      }
    }
    if (!outcome.message.empty()) message += "; " + outcome.message;
    response.set_message(message);
    operation->Complete(std::move(response));
    registry_.Finished(operation);
  }

  void Abandon(const std::shared_ptr<server::Operation>& operation) {
    Complete(operation,
             Unavailable("the server shut down before the action ran; execute it again"));
  }

  // Completes an operation that ran nothing, with `status`.
  void Complete(const std::shared_ptr<server::Operation>& operation, const Status& status) {
    reapi::ExecuteResponse response;
    *response.mutable_status() = ToRpcStatus(status);
    response.set_message(status.ToString());
    operation->Complete(std::move(response));
    registry_.Finished(operation);
  }

 public:
  // google.longrunning.Operations, for this service's operations.
  StatusOr<std::shared_ptr<server::Operation>> FindForOperations(RequestScope& scope,
                                                                 const std::string& name) {
    std::optional<std::string> instance = InstanceOfOperationName(name);
    if (!instance) return UnknownOperation(name);
    Status allowed = scope.Enter(*instance, Permission::kExecute, "name");
    if (allowed.code() == Code::kInvalidArgument) return UnknownOperation(name);
    CAIRN_RETURN_IF_ERROR(allowed);
    std::shared_ptr<server::Operation> operation = registry_.Find(name);
    if (operation == nullptr) return UnknownOperation(name);
    return operation;
  }

  void Cancel(const std::shared_ptr<server::Operation>& operation) {
    if (operation->done()) return;
    operation->RequestCancel();
    // A request for the same action from now on runs on its own.
    registry_.StopMerging(operation);
  }

 private:
  // Fills the inline fields `request` asks for into the done `message`'s
  // result, within the batch limit (what does not fit, or cannot be read,
  // stays a digest only: the fields are hints, as REAPI says).
  void Inline(const reapi::ExecuteRequest& request, Operation* message) {
    if (!request.inline_stdout() && !request.inline_stderr() &&
        request.inline_output_files().empty()) {
      return;
    }
    reapi::ExecuteResponse response;
    if (!message->response().UnpackTo(&response)) return;
    InlineRequest wanted{
        request.inline_stdout(),
        request.inline_stderr(),
        {request.inline_output_files().begin(), request.inline_output_files().end()}};
    InlineContents(state_.storage(), wanted, state_.limits().max_batch_size,
                   response.mutable_result());
    message->mutable_response()->PackFrom(response);
  }

  // Streams `operation` from update `next` on until it is done, the client
  // goes away or the server shuts down. `request` (null for WaitExecution)
  // asks for inline outputs in the last message.
  Status Follow(RequestScope& scope, grpc::ServerContext* context,
                const server::Operation& operation, size_t next,
                const reapi::ExecuteRequest* request, OperationWriter* writer) {
    auto last_write = std::chrono::steady_clock::now();
    for (;;) {
      size_t updates = operation.WaitForUpdate(next, kPollInterval);
      if (context->IsCancelled() && draining_) {
        return Cancelled("the server is shutting down; operation " + operation.name() +
                         " is stopped unless it finishes first");
      }
      if (context->IsCancelled()) {
        return Cancelled("the call was cancelled; the execution goes on as operation " +
                         operation.name());
      }
      bool keep_alive = std::chrono::steady_clock::now() - last_write >= kKeepAlive;
      if (updates <= next && !keep_alive) continue;
      if (updates <= next) next = updates - 1;  // the current state again
      for (; next < updates; ++next) {
        Operation message = operation.Render(next);
        if (message.done() && request != nullptr) Inline(*request, &message);
        scope.AddBytesOut(message.ByteSizeLong());
        if (!writer->Write(message)) {
          return Cancelled("the client went away; the execution goes on as operation " +
                           operation.name());
        }
        if (message.done()) return Status::Ok();
      }
      last_write = std::chrono::steady_clock::now();
    }
  }

  ServerState& state_;
  std::atomic<bool> draining_{false};
  OperationRegistry registry_;
  // Last: destroyed first, so no worker runs while the registry goes away.
  ExecutionQueue queue_;
};

}  // namespace

// google.longrunning.Operations over the Execution service's operations:
// GetOperation and CancelOperation. CancelOperation stops the execution
// for every client following it (REAPI's operations are the server's, not
// a client's); a client that merely goes away cancels nothing.
class OperationsService final : public longrunning::Operations::Service {
 public:
  OperationsService(ServerState& state, ExecutionService& execution)
      : state_(state), execution_(execution) {}

  grpc::Status GetOperation(grpc::ServerContext* context,
                            const longrunning::GetOperationRequest* request,
                            longrunning::Operation* response) override {
    RequestScope scope(state_, context, "GetOperation");
    StatusOr<std::shared_ptr<server::Operation>> operation =
        execution_.FindForOperations(scope, request->name());
    if (!operation.ok()) return scope.Finish(operation.status());
    *response = (*operation)->Render((*operation)->updates() - 1);
    return scope.Finish(Status::Ok());
  }

  grpc::Status CancelOperation(grpc::ServerContext* context,
                               const longrunning::CancelOperationRequest* request,
                               google::protobuf::Empty* /*response*/) override {
    RequestScope scope(state_, context, "CancelOperation");
    StatusOr<std::shared_ptr<server::Operation>> operation =
        execution_.FindForOperations(scope, request->name());
    if (!operation.ok()) return scope.Finish(operation.status());
    execution_.Cancel(*operation);
    return scope.Finish(Status::Ok());
  }

 private:
  ServerState& state_;
  ExecutionService& execution_;
};

std::vector<std::unique_ptr<grpc::Service>> MakeExecutionServices(ServerState& state) {
  auto execution = std::make_unique<ExecutionService>(state);
  auto operations = std::make_unique<OperationsService>(state, *execution);
  std::vector<std::unique_ptr<grpc::Service>> services;
  // Destroyed in reverse: the Operations service before the Execution
  // service it refers to.
  services.push_back(std::move(execution));
  services.push_back(std::move(operations));
  return services;
}

}  // namespace cairn::server
