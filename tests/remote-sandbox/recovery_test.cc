// The remote execution client recovering from what goes wrong between it
// and the server, each fault injected by the fault proxy in front of a real
// cairn-server (its bwrap sandbox and cas-local store): a stream dropped
// mid-execution, a server that forgot the operation or restarted, inputs
// evicted between upload and Execute, failed calls with each kind of code,
// cancellation and the overall deadline. What the client does for each is
// the recovery list of cairn/remote_client/execution_client.h.
//
// A remote cached result whose blobs the server lost is a miss at the
// remote sandbox's level (RemoteSandbox::Lookup), not the client's:
// execution_test.cc's ACachedResultWhoseBlobTheServerLostIsExecutedAgain
// covers it.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/remote_client/cas_client.h"
#include "cairn/remote_client/execution_client.h"
#include "cairn/remote_client/remote_connection.h"
#include "fault_proxy.h"
#include "remote_sandbox_fixture.h"

namespace cairn::testing {
namespace {

using remote_client::CasClient;
using remote_client::ExecutionCallbacks;
using remote_client::ExecutionClient;
using remote_client::ExecutionOutcome;
using remote_client::RemoteConnection;
using remote_client::RemoteConnectionOptions;
using testing_support::FaultProxy;
using Clock = std::chrono::system_clock;

constexpr char kExecute[] = "/build.bazel.remote.execution.v2.Execution/Execute";
constexpr char kWaitExecution[] = "/build.bazel.remote.execution.v2.Execution/WaitExecution";
constexpr char kCancelOperation[] = "/google.longrunning.Operations/CancelOperation";

// Retries after the first attempt; small, so the tests that use them up
// are quick.
constexpr int64_t kRetryLimit = 3;
// Long enough for any of these Actions on a loaded machine: a test that
// hits it fails on its code, not by hanging.
constexpr std::chrono::seconds kTestDeadline{60};

// Whether `text` contains `part`, for EXPECT_TRUE with a readable failure.
::testing::AssertionResult Mentions(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not mention '" << part << "'";
}

// The client under test talks to the fault proxy, which forwards to the
// fixture's server (or, after SetBackend, to a second one).
class ExecutionRecoveryTest : public RemoteSandboxTest {
 protected:
  void SetUp() override {
    RemoteSandboxTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    StartServer();
    if (HasFatalFailure()) return;
    proxy_ = std::make_unique<FaultProxy>(Target(*server_));
    connection_ = Connect(ProxyUrl());
    ASSERT_NE(connection_, nullptr);
    cas_client_ = std::make_unique<CasClient>(connection_);
    client_ = std::make_unique<ExecutionClient>(connection_);
  }

  void TearDown() override {
    client_.reset();
    cas_client_.reset();
    connection_.reset();
    // The proxy goes before the servers, as its calls may be in flight to
    // them.
    proxy_.reset();
    if (second_server_ != nullptr) second_server_->Shutdown(std::chrono::seconds(5));
    second_server_.reset();
    RemoteSandboxTest::TearDown();
  }

  static std::string Target(const server::Server& server) {
    return "127.0.0.1:" + std::to_string(server.port());
  }
  std::string ProxyUrl() const { return "grpc://" + proxy_->target(); }

  // A connection with quick retries: a 10 ms base delay, kRetryLimit retries.
  static std::shared_ptr<RemoteConnection> Connect(const std::string& url) {
    RemoteConnectionOptions options;
    options.url = url;
    options.retry_limit = kRetryLimit;
    options.retry_delay_ms = 10;
    options.request_timeout_s = 30;
    StatusOr<std::shared_ptr<RemoteConnection>> connection =
        RemoteConnection::Create(options, remote_client::ToolIdentity{"cairn", "test"});
    EXPECT_TRUE(connection.ok()) << connection.status().ToString();
    return connection.ok() ? *connection : nullptr;
  }

  // A second, fresh server with its own store, as the fixture's server
  // would be after a restart that lost its state.
  void StartSecondServer() {
    server::ServerConfig config = DefaultConfig();
    config.cache_dir = dir_.path() + "/second-cache";
    Status finished = server::FinishServerConfig(&config, /*host_tools=*/false);
    ASSERT_TRUE(finished.ok()) << finished.ToString();
    StatusOr<std::unique_ptr<server::Server>> started = server::Server::Start(config);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    second_server_ = std::move(started).value();
  }

  // Stores the Action `shell` describes in the local store and uploads it
  // with everything it needs through `cas`; its digest.
  Digest Prepare(const ShellAction& shell, CasClient& cas) {
    StatusOr<Action> action = MakeShellAction(shell);
    EXPECT_TRUE(action.ok()) << action.status().ToString();
    if (!action.ok()) return Digest();
    StatusOr<Digest> digest = local().WriteMessage(*action);
    EXPECT_TRUE(digest.ok()) << digest.status().ToString();
    if (!digest.ok()) return Digest();
    Status uploaded = cas.UploadTree(action->input_root_digest(), local());
    EXPECT_TRUE(uploaded.ok()) << uploaded.ToString();
    uploaded = cas.Upload({action->command_digest(), *digest}, local());
    EXPECT_TRUE(uploaded.ok()) << uploaded.ToString();
    return *digest;
  }
  Digest Prepare(const ShellAction& shell) { return Prepare(shell, *cas_client_); }

  // An Action nobody caches, so each test's execution really runs.
  static ShellAction Uncached(const std::string& script) {
    ShellAction shell(script);
    shell.do_not_cache = true;
    return shell;
  }

  // Callbacks as the remote sandbox sets them: missing blobs uploaded from
  // the local store (and remembered in missing_).
  ExecutionCallbacks UploadingCallbacks() {
    ExecutionCallbacks callbacks;
    callbacks.upload_missing = [this](const std::vector<Digest>& missing) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        missing_.insert(missing_.end(), missing.begin(), missing.end());
      }
      return cas_client_->Upload(missing, local());
    };
    return callbacks;
  }

  StatusOr<ExecutionOutcome> Execute(const Digest& action, const ExecutionCallbacks& callbacks,
                                     Clock::time_point deadline = Clock::now() + kTestDeadline) {
    reapi::ExecuteRequest request;
    *request.mutable_action_digest() = action;
    request.set_digest_function(reapi::DigestFunction::SHA256);
    return client_->Execute(request, action.hash(), callbacks, deadline);
  }
  StatusOr<ExecutionOutcome> Execute(const Digest& action) {
    return Execute(action, UploadingCallbacks());
  }

  // The stdout of a finished execution, downloaded through the proxy from
  // whichever server it forwards to now.
  std::string Stdout(const reapi::ExecuteResponse& response) {
    const Digest& digest = response.result().stdout_digest();
    Status downloaded = cas_client_->Download({digest}, local());
    if (!downloaded.ok()) return "<" + downloaded.ToString() + ">";
    return ReadLocal(digest);
  }

  std::vector<Digest> Missing() {
    std::lock_guard<std::mutex> lock(mutex_);
    return missing_;
  }

  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<server::Server> second_server_;
  std::shared_ptr<RemoteConnection> connection_;
  std::unique_ptr<CasClient> cas_client_;
  std::unique_ptr<ExecutionClient> client_;

 private:
  std::mutex mutex_;
  std::vector<Digest> missing_;
};

TEST_F(ExecutionRecoveryTest, AnExecuteStreamDroppedAfterItsFirstOperationIsFollowedByWaiting) {
  Digest action = Prepare(Uncached("echo followed"));
  proxy_->DropStreamAfter(kExecute, 1);

  StatusOr<ExecutionOutcome> outcome = Execute(action);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->response.status().code(), 0) << outcome->response.status().message();
  EXPECT_EQ(outcome->response.result().exit_code(), 0);
  EXPECT_EQ(Stdout(outcome->response), "followed\n");
  EXPECT_EQ(outcome->executions, 1);
  EXPECT_FALSE(outcome->operation_name.empty());
  EXPECT_EQ(proxy_->Calls(kExecute), 1);
  EXPECT_GE(proxy_->Calls(kWaitExecution), 1);
}

TEST_F(ExecutionRecoveryTest, AServerRestartedMidExecutionIsAskedToExecuteAgain) {
  StartSecondServer();
  ASSERT_NE(second_server_, nullptr);
  // The restarted server has the inputs (a shared store would), but not
  // the operation.
  std::shared_ptr<RemoteConnection> second = Connect("grpc://" + Target(*second_server_));
  ASSERT_NE(second, nullptr);
  CasClient second_cas(second);
  Digest action = Prepare(Uncached("echo after the restart"), second_cas);
  Digest same = Prepare(Uncached("echo after the restart"));
  ASSERT_EQ(action, same);

  // The first Execute reaches the first server; from then on the proxy
  // forwards to the second, as a restarted server behind the same address.
  proxy_->BeforeForward(kExecute, [&] { proxy_->SetBackend(Target(*second_server_)); });
  proxy_->DropStreamAfter(kExecute, 1);
  std::vector<std::string> progress_messages;
  ExecutionCallbacks callbacks = UploadingCallbacks();
  callbacks.progress = [&](const ExecuteProgress& progress) {
    if (!progress.message.empty()) progress_messages.push_back(progress.message);
  };

  StatusOr<ExecutionOutcome> outcome = Execute(action, callbacks);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->response.result().exit_code(), 0);
  EXPECT_EQ(Stdout(outcome->response), "after the restart\n");
  EXPECT_EQ(outcome->executions, 2);
  EXPECT_EQ(proxy_->Calls(kExecute), 2);
  EXPECT_EQ(proxy_->Calls(kWaitExecution), 1);
  EXPECT_TRUE(Missing().empty());
  ASSERT_EQ(progress_messages.size(), 1u);
  EXPECT_TRUE(Mentions(progress_messages[0], "no longer knows operation"));
}

TEST_F(ExecutionRecoveryTest, AnOperationTheServerNoLongerKnowsIsExecutedAgain) {
  Digest action = Prepare(Uncached("echo executed again"));
  proxy_->DropStreamAfter(kExecute, 1);
  proxy_->FailNext(kWaitExecution, 1, grpc::StatusCode::NOT_FOUND,
                   "operation unknown to the fault proxy");

  StatusOr<ExecutionOutcome> outcome = Execute(action);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->response.result().exit_code(), 0);
  EXPECT_EQ(Stdout(outcome->response), "executed again\n");
  EXPECT_EQ(outcome->executions, 2);
  EXPECT_EQ(proxy_->Calls(kExecute), 2);
  EXPECT_EQ(proxy_->Calls(kWaitExecution), 1);
}

TEST_F(ExecutionRecoveryTest, InputsEvictedBeforeExecuteAreUploadedAgainAndExecuted) {
  const std::string content = "an input the server evicts\n";
  ShellAction shell = Uncached("cat input.txt");
  shell.inputs["build/input.txt"] = content;
  Digest action = Prepare(shell);
  Digest input = DigestOfBytes(content);
  std::string object = ObjectPath(ServerStore(), input);
  ASSERT_TRUE(std::filesystem::exists(object)) << object;

  // Evicted after the client uploaded it and before the server reads the
  // Action, as a cache under pressure would.
  std::atomic<bool> evicted{false};
  proxy_->BeforeForward(kExecute, [&] {
    std::error_code error;
    evicted = std::filesystem::remove(object, error);
    std::filesystem::remove(object + ".x", error);
  });

  StatusOr<ExecutionOutcome> outcome = Execute(action);
  ASSERT_TRUE(evicted.load());
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->response.result().exit_code(), 0);
  EXPECT_EQ(Stdout(outcome->response), content);
  EXPECT_EQ(Missing(), std::vector<Digest>{input});
  EXPECT_TRUE(std::filesystem::exists(object)) << object;
  EXPECT_EQ(outcome->executions, 2);
  EXPECT_EQ(proxy_->Calls(kExecute), 2);
}

TEST_F(ExecutionRecoveryTest, UnavailableUpToTheRetryLimitIsRetried) {
  Digest action = Prepare(Uncached("echo retried"));
  proxy_->FailNext(kExecute, kRetryLimit, grpc::StatusCode::UNAVAILABLE, "the backend is away");

  StatusOr<ExecutionOutcome> outcome = Execute(action);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->response.result().exit_code(), 0);
  EXPECT_EQ(Stdout(outcome->response), "retried\n");
  EXPECT_EQ(proxy_->Calls(kExecute), kRetryLimit + 1);
}

TEST_F(ExecutionRecoveryTest, UnavailableBeyondTheRetryLimitFailsNamingTheUrlAndTheAttempts) {
  Digest action = Prepare(Uncached("echo never"));
  proxy_->FailNext(kExecute, kRetryLimit + 1, grpc::StatusCode::UNAVAILABLE, "the backend is away");

  StatusOr<ExecutionOutcome> outcome = Execute(action);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), Code::kUnavailable) << outcome.status().ToString();
  const std::string& message = outcome.status().message();
  EXPECT_TRUE(Mentions(message, ProxyUrl()));
  EXPECT_TRUE(Mentions(message, "after " + std::to_string(kRetryLimit + 1) + " attempts"));
  EXPECT_TRUE(Mentions(message, "the backend is away"));
  EXPECT_EQ(proxy_->Calls(kExecute), kRetryLimit + 1);
}

TEST_F(ExecutionRecoveryTest, ResourceExhaustedAndAbortedAreRetried) {
  for (grpc::StatusCode code : {grpc::StatusCode::RESOURCE_EXHAUSTED, grpc::StatusCode::ABORTED}) {
    SCOPED_TRACE(static_cast<int>(code));
    const std::string text = "retried after code " + std::to_string(static_cast<int>(code));
    Digest action = Prepare(Uncached("echo " + text));
    proxy_->ResetCounts();
    proxy_->FailNext(kExecute, 2, code, "come back later");

    StatusOr<ExecutionOutcome> outcome = Execute(action);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    EXPECT_EQ(outcome->response.result().exit_code(), 0);
    EXPECT_EQ(Stdout(outcome->response), text + "\n");
    EXPECT_EQ(proxy_->Calls(kExecute), 3);
  }
}

TEST_F(ExecutionRecoveryTest, CodesNotWorthRetryingAreReturnedAtOnceNamingTheUrlAndTheCode) {
  Digest action = Prepare(Uncached("echo never"));
  for (grpc::StatusCode code :
       {grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::PERMISSION_DENIED,
        grpc::StatusCode::UNAUTHENTICATED}) {
    const Code expected = static_cast<Code>(code);
    SCOPED_TRACE(CodeName(expected));
    proxy_->ResetCounts();
    proxy_->FailNext(kExecute, 1, code, "refused by the fault proxy");

    StatusOr<ExecutionOutcome> outcome = Execute(action);
    ASSERT_FALSE(outcome.ok());
    EXPECT_EQ(outcome.status().code(), expected) << outcome.status().ToString();
    const std::string& message = outcome.status().message();
    EXPECT_TRUE(Mentions(message, ProxyUrl()));
    EXPECT_TRUE(Mentions(message, CodeName(expected)));
    EXPECT_TRUE(Mentions(message, "refused by the fault proxy"));
    EXPECT_EQ(proxy_->Calls(kExecute), 1);
  }
}

TEST_F(ExecutionRecoveryTest, CancellingWhileExecutingReturnsCancelledAndCancelsTheOperation) {
  Digest action = Prepare(Uncached("sleep 30"));
  std::atomic<bool> executing{false};
  ExecutionCallbacks callbacks = UploadingCallbacks();
  callbacks.progress = [&](const ExecuteProgress& progress) {
    if (progress.stage == ExecuteStage::kExecuting) executing = true;
  };
  callbacks.is_cancelled = [&] { return executing.load(); };

  // Without cancellation the Action would outlast this deadline: a
  // DEADLINE_EXCEEDED here means the cancellation was not seen.
  StatusOr<ExecutionOutcome> outcome =
      Execute(action, callbacks, Clock::now() + std::chrono::seconds(20));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), Code::kCancelled) << outcome.status().ToString();
  EXPECT_TRUE(executing.load());
  EXPECT_TRUE(Mentions(outcome.status().message(), ProxyUrl()));
  EXPECT_EQ(proxy_->Calls(kCancelOperation), 1);
  EXPECT_EQ(proxy_->Calls(kExecute), 1);
}

TEST_F(ExecutionRecoveryTest, AnExecutionStillRunningAtTheDeadlineIsDeadlineExceeded) {
  Digest action = Prepare(Uncached("sleep 30"));

  StatusOr<ExecutionOutcome> outcome =
      Execute(action, UploadingCallbacks(), Clock::now() + std::chrono::seconds(1));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), Code::kDeadlineExceeded) << outcome.status().ToString();
  EXPECT_TRUE(Mentions(outcome.status().message(), ProxyUrl()));
}

}  // namespace
}  // namespace cairn::testing
