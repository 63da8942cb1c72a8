#include "cairn/remote_client/execution_client.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "cairn/remote_client/grpc_status.h"
#include "cairn/status_details.h"

namespace cairn::remote_client {

namespace reapi = build::bazel::remote::execution::v2;
namespace longrunning = google::longrunning;
using Clock = std::chrono::system_clock;

namespace {

constexpr std::chrono::milliseconds kCancelPoll{50};
// CancelOperation is a courtesy to the server; it must not hold up Ctrl-C.
constexpr std::chrono::seconds kCancelTimeout{5};

std::optional<ExecuteStage> StageOf(reapi::ExecutionStage::Value stage) {
  switch (stage) {
    case reapi::ExecutionStage::CACHE_CHECK:
      return ExecuteStage::kCacheCheck;
    case reapi::ExecutionStage::QUEUED:
      return ExecuteStage::kQueued;
    case reapi::ExecutionStage::EXECUTING:
      return ExecuteStage::kExecuting;
    case reapi::ExecutionStage::COMPLETED:
      return ExecuteStage::kCompleted;
    default:
      return std::nullopt;
  }
}

// Cancels a call's context once `is_cancelled` turns true, so a Read()
// blocked on a quiet stream returns; stops with the call.
class CancelWatcher {
 public:
  CancelWatcher(grpc::ClientContext* context, const std::function<bool()>& is_cancelled) {
    if (!is_cancelled) return;
    thread_ = std::thread([this, context, is_cancelled] {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!stopped_) {
        if (is_cancelled()) {
          context->TryCancel();
          return;
        }
        wake_.wait_for(lock, kCancelPoll);
      }
    });
  }
  ~CancelWatcher() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  CancelWatcher(const CancelWatcher&) = delete;
  CancelWatcher& operator=(const CancelWatcher&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopped_ = false;
  std::thread thread_;
};

void Report(const ExecutionCallbacks& callbacks, ExecuteStage stage, const std::string& name,
            const std::string& message) {
  if (callbacks.progress) callbacks.progress(ExecuteProgress{stage, name, message});
}

}  // namespace

struct ExecutionClient::StreamResult {
  Status status;            // how the call ended, when the operation is not done
  bool done = false;        // `response` holds the operation's ExecuteResponse
  bool progressed = false;  // at least one update arrived
  std::string name;
  reapi::ExecuteResponse response;
};

ExecutionClient::ExecutionClient(const std::shared_ptr<RemoteConnection>& connection)
    : ExecutionClient(connection, reapi::Execution::NewStub(connection->channel()),
                      longrunning::Operations::NewStub(connection->channel())) {}

ExecutionClient::ExecutionClient(std::shared_ptr<RemoteConnection> connection,
                                 std::unique_ptr<ExecutionStub> execution,
                                 std::unique_ptr<OperationsStub> operations)
    : connection_(std::move(connection)),
      execution_(std::move(execution)),
      operations_(std::move(operations)) {}

ExecutionClient::StreamResult ExecutionClient::FollowStream(
    bool wait, const std::string& name, const reapi::ExecuteRequest& request,
    const std::string& action_id, const ExecutionCallbacks& callbacks,
    std::optional<Clock::time_point> deadline) {
  StreamResult result;
  // An execution may queue and run for as long as it needs: only the
  // caller's deadline bounds the stream (keepalive finds dead peers).
  StatusOr<std::unique_ptr<grpc::ClientContext>> context =
      connection_->NewContext(deadline.value_or(Clock::time_point::max()), action_id);
  if (!context.ok()) {
    result.status = context.status();
    return result;
  }
  CancelWatcher watcher(context->get(), callbacks.is_cancelled);
  std::unique_ptr<grpc::ClientReaderInterface<longrunning::Operation>> reader;
  if (wait) {
    reapi::WaitExecutionRequest wait_request;
    wait_request.set_name(name);
    reader = execution_->WaitExecution(context->get(), wait_request);
  } else {
    reader = execution_->Execute(context->get(), request);
  }
  std::optional<ExecuteStage> last_stage;
  longrunning::Operation operation;
  while (reader->Read(&operation)) {
    result.progressed = true;
    result.name = operation.name();
    reapi::ExecuteOperationMetadata metadata;
    if (operation.metadata().UnpackTo(&metadata)) {
      std::optional<ExecuteStage> stage = StageOf(metadata.stage());
      if (stage.has_value() && stage != last_stage && stage != ExecuteStage::kCompleted) {
        Report(callbacks, *stage, result.name, "");
      }
      last_stage = stage;
    }
    if (!operation.done()) continue;
    if (operation.has_error()) {
      result.status = FromRpcStatus(operation.error());
      if (result.status.ok()) result.status = Internal("operation failed with an OK error status");
    } else if (operation.response().UnpackTo(&result.response)) {
      result.done = true;
    } else {
      result.status =
          Internal("operation " + result.name + " finished without an ExecuteResponse (got " +
                   operation.response().type_url() + ")");
    }
    // The operation is over; what the server does with the stream now is
    // of no interest.
    (*context)->TryCancel();
    (void)reader->Finish();
    return result;
  }
  result.status = FromGrpcStatus(reader->Finish());
  if (result.status.ok()) {
    result.status = Unavailable("the operation stream ended before the operation was done");
  }
  return result;
}

void ExecutionClient::CancelOperation(const std::string& name, const std::string& action_id) {
  if (name.empty()) return;
  longrunning::CancelOperationRequest request;
  request.set_name(name);
  google::protobuf::Empty empty;
  StatusOr<std::unique_ptr<grpc::ClientContext>> context =
      connection_->NewContext(Clock::now() + kCancelTimeout, action_id);
  if (!context.ok()) return;
  Status status = FromGrpcStatus(operations_->CancelOperation(context->get(), request, &empty));
  if (!status.ok() && status.code() != Code::kUnimplemented) {
    spdlog::debug("{}: CancelOperation {}: {}", connection_->options().url, name,
                  status.ToString());
  }
}

StatusOr<ExecutionOutcome> ExecutionClient::Execute(reapi::ExecuteRequest request,
                                                    const std::string& action_id,
                                                    const ExecutionCallbacks& callbacks,
                                                    std::optional<Clock::time_point> deadline) {
  const Retrier& retrier = connection_->retrier();
  const std::string& url = connection_->options().url;
  request.set_instance_name(connection_->options().instance_name);
  ExecutionOutcome outcome;
  std::string name;  // the operation to wait on; "" = send the Action
  int64_t retries = 0;
  auto cancelled = [&] { return callbacks.is_cancelled && callbacks.is_cancelled(); };
  auto stop = [&]() -> Status {
    CancelOperation(name, action_id);
    return Cancelled("remote execution on " + url + " cancelled" +
                     (name.empty() ? "" : " (operation " + name + ")"));
  };
  // Sends the Action again from scratch, when that is still allowed.
  auto reexecute = [&](const Status& why) -> Status {
    if (outcome.executions > kMaxReexecutions) {
      return retrier.Final("Execute", why, outcome.executions);
    }
    name.clear();
    return Status::Ok();
  };

  while (true) {
    if (cancelled()) return stop();
    if (deadline.has_value() && Clock::now() >= *deadline) {
      return DeadlineExceeded(url + ": the remote execution did not finish by its deadline" +
                              (name.empty() ? "" : " (operation " + name + ")"));
    }
    const bool wait = !name.empty();
    if (!wait) ++outcome.executions;
    StreamResult stream = FollowStream(wait, name, request, action_id, callbacks, deadline);
    if (!stream.name.empty()) {
      name = stream.name;
      outcome.operation_name = stream.name;
    }
    if (cancelled()) return stop();

    Status failure = stream.status;
    if (stream.done) {
      Status inner = FromRpcStatus(stream.response.status());
      if (inner.code() != Code::kFailedPrecondition || MissingBlobs(inner).empty() ||
          !callbacks.upload_missing) {
        outcome.response = std::move(stream.response);
        return outcome;
      }
      failure = inner;
    }
    const char* method = wait ? "WaitExecution" : "Execute";

    std::vector<Digest> missing = MissingBlobs(failure);
    if (failure.code() == Code::kFailedPrecondition && !missing.empty() &&
        callbacks.upload_missing) {
      Report(callbacks, ExecuteStage::kUploading, name,
             url + " lacks " + std::to_string(missing.size()) +
                 " input blob(s); uploading them and executing again");
      CAIRN_RETURN_IF_ERROR(reexecute(failure));
      CAIRN_RETURN_IF_ERROR(callbacks.upload_missing(missing));
      continue;
    }
    if (wait && failure.code() == Code::kNotFound) {
      Report(callbacks, ExecuteStage::kQueued, name,
             url + " no longer knows operation " + name + "; executing again");
      CAIRN_RETURN_IF_ERROR(reexecute(failure));
      continue;
    }
    if (!IsRetryable(failure, Idempotency::kIdempotent)) {
      return retrier.Final(method, failure, retries + 1);
    }
    // A stream that was alive before it broke starts the count afresh.
    if (stream.progressed) retries = 0;
    if (retries >= retrier.policy().retry_limit) {
      return retrier.Final(method, failure, retries + 1);
    }
    Status waited = Retrier::Wait(retrier.Delay(method, failure, retries++), cancelled);
    if (!waited.ok()) return stop();
  }
}

}  // namespace cairn::remote_client
