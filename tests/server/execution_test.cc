// Execute and WaitExecution against the real server running actions in the
// real bwrap sandbox: stages, the action cache, validation errors, timeouts,
// merging of identical actions, reconnecting and disconnecting clients.
//
// The actions run in an input root holding a static busybox (bin/busybox
// and applet links). Actions that must stay running while the test acts
// wait on a Gate: they connect to a TCP listener of the test (with
// network=on) and go on only once the test closes the connection, so no
// test depends on how long anything takes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "execution_support.h"
#include "google/longrunning/operations.grpc.pb.h"
#include "server_fixture.h"

namespace cairn::server {
namespace {

// What an action waits on: a TCP listener on loopback it connects to (with
// network=on); it goes on when the test closes the connection.
class Gate {
 public:
  Gate() {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(listen(listener_, 8), 0);
    socklen_t length = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~Gate() {
    Release();
    close(listener_);
  }

  // An action that waits here, then prints a value unique to its run.
  ActionSpec Action(const std::string& tag = "") const {
    ActionSpec spec;
    spec.script = "nc 127.0.0.1 " + std::to_string(port_) + " >/dev/null; echo " +
                  (tag.empty() ? "run" : tag) + "; cat /proc/sys/kernel/random/uuid";
    spec.platform = {{"network", "on"}};
    return spec;
  }
  // Waits up to 60 s for an action to arrive; false when none did.
  bool WaitForArrival() {
    pollfd incoming{listener_, POLLIN, 0};
    if (poll(&incoming, 1, 60000) != 1) return false;
    int connection = accept(listener_, nullptr, nullptr);
    if (connection < 0) return false;
    held_.push_back(connection);
    return true;
  }
  // Whether another action is knocking right now.
  bool SomeoneWaiting() {
    pollfd incoming{listener_, POLLIN, 0};
    return poll(&incoming, 1, 0) == 1;
  }
  // Waits up to 60 s for the first action that arrived to hang up (it
  // ended without being let go); false when it is still there.
  bool FirstHungUp() {
    if (held_.empty()) return false;
    pollfd connection{held_.front(), POLLIN, 0};
    if (poll(&connection, 1, 60000) != 1) return false;
    char byte;
    return read(held_.front(), &byte, 1) <= 0;
  }
  // Lets the actions that arrived go on.
  void Release() {
    for (int connection : held_) close(connection);
    held_.clear();
  }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::vector<int> held_;
};

// GET /metrics from the server's metrics endpoint.
std::string ScrapeMetrics(const std::string& address) {
  size_t colon = address.rfind(':');
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in target{};
  target.sin_family = AF_INET;
  target.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &target.sin_addr);
  std::string text;
  if (connect(fd, reinterpret_cast<sockaddr*>(&target), sizeof(target)) == 0) {
    std::string request = "GET /metrics HTTP/1.0\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t got;
      while ((got = read(fd, buffer, sizeof(buffer))) > 0) text.append(buffer, got);
    }
  }
  close(fd);
  return text;
}

TEST_F(ServerTest, ASuccessfulActionStreamsEveryStageAndIsThenServedFromTheCache) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), Script("echo hello; echo oops >&2"));

  std::vector<Stage> stages;
  Operation first = ExecuteToEnd(*execution_, Request(action), &stages);
  EXPECT_EQ(stages, (std::vector<Stage>{
                        reapi::ExecutionStage::CACHE_CHECK, reapi::ExecutionStage::QUEUED,
                        reapi::ExecutionStage::EXECUTING, reapi::ExecutionStage::COMPLETED}));
  EXPECT_EQ(first.name().rfind("operations/", 0), 0u) << first.name();
  reapi::ExecuteOperationMetadata metadata;
  ASSERT_TRUE(first.metadata().UnpackTo(&metadata));
  EXPECT_EQ(metadata.action_digest(), action);
  EXPECT_EQ(metadata.digest_function(), reapi::DigestFunction::SHA256);
  reapi::ExecuteResponse response = ResponseOf(first);
  EXPECT_EQ(response.status().code(), 0) << response.status().message();
  EXPECT_FALSE(response.cached_result());
  EXPECT_EQ(response.result().exit_code(), 0);
  EXPECT_EQ(Get(*cas_, response.result().stdout_digest()), "hello\n");
  EXPECT_EQ(Get(*cas_, response.result().stderr_digest()), "oops\n");

  Operation second = ExecuteToEnd(*execution_, Request(action), &stages);
  EXPECT_EQ(stages.back(), reapi::ExecutionStage::COMPLETED);
  reapi::ExecuteResponse cached = ResponseOf(second);
  EXPECT_TRUE(cached.cached_result());
  EXPECT_EQ(cached.status().code(), 0);
  EXPECT_EQ(cached.result().stdout_digest(), response.result().stdout_digest());
  EXPECT_NE(second.name(), first.name());
}

TEST_F(ServerTest, StdoutAndStderrAreInlinedWhenAsked) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), Script("echo out; echo err >&2"));
  reapi::ExecuteRequest request = Request(action);
  request.set_inline_stdout(true);
  request.set_inline_stderr(true);
  reapi::ExecuteResponse run = ResponseOf(ExecuteToEnd(*execution_, request));
  EXPECT_EQ(run.result().stdout_raw(), "out\n");
  EXPECT_EQ(run.result().stderr_raw(), "err\n");
  reapi::ExecuteResponse cached = ResponseOf(ExecuteToEnd(*execution_, request));
  EXPECT_TRUE(cached.cached_result());
  EXPECT_EQ(cached.result().stdout_raw(), "out\n");
  // Not asked, not inlined: the digest is enough.
  reapi::ExecuteResponse plain = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  EXPECT_TRUE(plain.result().stdout_raw().empty());
  EXPECT_EQ(Get(*cas_, plain.result().stdout_digest()), "out\n");
}

TEST_F(ServerTest, AHostToolsInstanceRefusesAbsoluteSymlinksInTheInputRoot) {
  StartServer([](ServerConfig& config) {
    InstanceConfig plain;
    InstanceConfig bazel;
    bazel.name = "bazel";
    bazel.host_tools = true;
    config.instances = {plain, bazel};
  });
  reapi::Directory root;
  auto* link = root.add_symlinks();
  link->set_name("escape");
  link->set_target("/etc");
  Digest action = PutAction(*cas_, Put(*cas_, root.SerializeAsString()), Script("true"));
  // The blobs are per store, not per instance: the same action in "bazel".
  reapi::ExecuteRequest request = Request(action);
  request.set_instance_name("bazel");
  auto stream = OperationStream::Execute(*execution_, request);
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("escape"), std::string::npos) << status.error_message();

  // Control: the default instance, whose input root is the sandbox's "/",
  // accepts it (the action then fails for want of a shell, which is not
  // the point here).
  if (!WhyNotExecutable().empty()) return;
  Operation accepted = ExecuteToEnd(*execution_, Request(action));
  EXPECT_TRUE(accepted.done());
}

TEST_F(ServerTest, SkippingTheCacheLookupRunsTheActionAgainAndReplacesTheEntry) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest action =
      PutAction(*cas_, PutBusyboxRoot(*cas_), Script("cat /proc/sys/kernel/random/uuid"));
  reapi::ExecuteResponse first = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  reapi::ExecuteResponse again =
      ResponseOf(ExecuteToEnd(*execution_, Request(action, /*skip_cache_lookup=*/true)));
  EXPECT_FALSE(again.cached_result());
  EXPECT_EQ(again.status().code(), 0) << again.status().message();
  EXPECT_NE(again.result().stdout_digest(), first.result().stdout_digest())
      << "the action did not run again";

  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = action;
  reapi::ActionResult entry;
  ASSERT_TRUE(action_cache_->GetActionResult(Deadline().get(), lookup, &entry).ok());
  EXPECT_EQ(entry.stdout_digest(), again.result().stdout_digest());
}

TEST_F(ServerTest, ANonZeroExitIsAResultButIsNotCached) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), Script("echo failing; exit 3"));
  reapi::ExecuteResponse response = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  EXPECT_EQ(response.status().code(), 0) << "a non-zero exit code is not an error status";
  EXPECT_EQ(response.result().exit_code(), 3);
  EXPECT_EQ(Get(*cas_, response.result().stdout_digest()), "failing\n");

  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = action;
  reapi::ActionResult entry;
  EXPECT_EQ(action_cache_->GetActionResult(Deadline().get(), lookup, &entry).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(ResponseOf(ExecuteToEnd(*execution_, Request(action))).cached_result());
}

TEST_F(ServerTest, AnActionMarkedDoNotCacheIsNeverCached) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  ActionSpec spec = Script("echo fine");
  spec.do_not_cache = true;
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), spec);
  reapi::ExecuteResponse response = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  EXPECT_EQ(response.status().code(), 0) << response.status().message();
  EXPECT_EQ(response.result().exit_code(), 0);

  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = action;
  reapi::ActionResult entry;
  EXPECT_EQ(action_cache_->GetActionResult(Deadline().get(), lookup, &entry).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(ResponseOf(ExecuteToEnd(*execution_, Request(action))).cached_result());
}

TEST_F(ServerTest, MissingInputsAreFailedPreconditionListingEveryMissingBlob) {
  StartServer();
  reapi::Directory absent_directory;
  absent_directory.add_files()->set_name("deep");
  Digest absent_directory_digest = DigestOfBytes(absent_directory.SerializeAsString());
  Digest first_file = DigestOfBytes("never uploaded 1");
  Digest second_file = DigestOfBytes("never uploaded 2");
  reapi::Directory root;
  auto* sub = root.add_directories();
  sub->set_name("absent");
  *sub->mutable_digest() = absent_directory_digest;
  auto* a = root.add_files();
  a->set_name("a");
  *a->mutable_digest() = first_file;
  auto* b = root.add_files();
  b->set_name("b");
  *b->mutable_digest() = second_file;
  Digest action = PutAction(*cas_, Put(*cas_, root.SerializeAsString()), Script("true"));

  auto stream = OperationStream::Execute(*execution_, Request(action));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  std::vector<Digest> expected = {absent_directory_digest, first_file, second_file};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(MissingBlobsOf(status), expected);

  // The Action itself missing is reported the same way.
  Digest absent_action = DigestOfBytes("not an uploaded action");
  stream = OperationStream::Execute(*execution_, Request(absent_action));
  status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(MissingBlobsOf(status), std::vector<Digest>{absent_action});
}

TEST_F(ServerTest, AnUnsortedDirectoryIsInvalidArgumentNamingTheField) {
  StartServer();
  reapi::Directory root;
  auto* b = root.add_files();
  b->set_name("b");
  *b->mutable_digest() = Put(*cas_, "B");
  auto* a = root.add_files();
  a->set_name("a");
  *a->mutable_digest() = Put(*cas_, "A");
  Digest action = PutAction(*cas_, Put(*cas_, root.SerializeAsString()), Script("true"));

  auto stream = OperationStream::Execute(*execution_, Request(action));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  std::string field = BadRequestFieldOf(status);
  EXPECT_EQ(field.rfind("input_root", 0), 0u)
      << "field: " << field << "; " << status.error_message();
}

TEST_F(ServerTest, DuplicateOrIllegalNamesInTheInputTreeAreInvalidArgumentAndRunNothing) {
  StartServer();
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"a name given twice", {"a", "a"}},
      {"an empty name", {""}},
      {"'.'", {"."}},
      {"'..'", {".."}},
      {"a name with '/'", {"a/b"}},
      {"a name with NUL", {std::string("a\0b", 3)}},
  };
  for (const auto& [what, names] : cases) {
    SCOPED_TRACE(what);
    reapi::Directory root;
    for (const std::string& name : names) {
      auto* file = root.add_files();
      file->set_name(name);
      *file->mutable_digest() = Put(*cas_, "content");
    }
    Digest action = PutAction(*cas_, Put(*cas_, root.SerializeAsString()), Script("true"));
    auto stream = OperationStream::Execute(*execution_, Request(action));
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find("input_root"), std::string::npos)
        << status.error_message();
    EXPECT_TRUE(stream->seen().empty()) << "no operation may start";
  }
}

TEST_F(ServerTest, ATimeoutIsDeadlineExceededInTheResponseWithThePartialOutputKept) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  ActionSpec spec = Script("echo partial; sleep 60");
  spec.timeout_seconds = 1;
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), spec);
  reapi::ExecuteResponse response = ResponseOf(ExecuteToEnd(*execution_, Request(action)));
  EXPECT_EQ(response.status().code(), static_cast<int>(grpc::StatusCode::DEADLINE_EXCEEDED))
      << response.status().message();
  EXPECT_EQ(Get(*cas_, response.result().stdout_digest()), "partial\n");

  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = action;
  reapi::ActionResult entry;
  EXPECT_EQ(action_cache_->GetActionResult(Deadline().get(), lookup, &entry).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerTest, WaitExecutionFollowsARunningOperationToItsResult) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Gate gate;
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), gate.Action());
  auto execute = OperationStream::Execute(*execution_, Request(action));
  ASSERT_TRUE(execute->ReadUntil(reapi::ExecutionStage::EXECUTING));
  ASSERT_TRUE(gate.WaitForArrival());

  auto waiting = OperationStream::Wait(*execution_, execute->last().name());
  ASSERT_TRUE(waiting->ReadUntil(reapi::ExecutionStage::EXECUTING));
  EXPECT_EQ(waiting->last().name(), execute->last().name());
  EXPECT_FALSE(waiting->last().done());

  gate.Release();
  ASSERT_TRUE(waiting->Finish().ok());
  ASSERT_TRUE(execute->Finish().ok());
  reapi::ExecuteResponse seen_by_waiter = ResponseOf(waiting->last());
  EXPECT_EQ(seen_by_waiter.status().code(), 0) << seen_by_waiter.status().message();
  EXPECT_EQ(seen_by_waiter.result().stdout_digest(),
            ResponseOf(execute->last()).result().stdout_digest());
  EXPECT_EQ(Get(*cas_, seen_by_waiter.result().stdout_digest()).substr(0, 4), "run\n");
}

TEST_F(ServerTest, WaitExecutionOfAnUnknownNameIsNotFound) {
  StartServer();
  for (const char* name : {"operations/00000000-0000-4000-8000-000000000000", "nonsense",
                           "nope/operations/00000000-0000-4000-8000-000000000000"}) {
    auto waiting = OperationStream::Wait(*execution_, name);
    grpc::Status status = waiting->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << name;
    EXPECT_TRUE(waiting->seen().empty());
  }
}

TEST_F(ServerTest, AClientThatDisconnectsDoesNotCancelTheAction) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer([](ServerConfig& config) { config.metrics_listen = "127.0.0.1:0"; });
  Gate gate;
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), gate.Action());
  auto execute = OperationStream::Execute(*execution_, Request(action));
  ASSERT_TRUE(execute->ReadUntil(reapi::ExecutionStage::EXECUTING));
  std::string name = execute->last().name();
  ASSERT_TRUE(gate.WaitForArrival());

  execute->Cancel();
  EXPECT_EQ(execute->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The action must still be waiting once the server has seen the call end.
  const std::string ended = "cairn_server_requests_total{method=\"Execute\",code=\"CANCELLED\"} 1";
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ScrapeMetrics(server_->metrics_address()).find(ended) == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "the server never saw the call end";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  gate.Release();

  auto later = OperationStream::Wait(*execution_, name);
  ASSERT_TRUE(later->Finish().ok());
  ASSERT_FALSE(later->seen().empty());
  reapi::ExecuteResponse response = ResponseOf(later->last());
  EXPECT_EQ(response.status().code(), 0) << response.status().message();
  EXPECT_EQ(Get(*cas_, response.result().stdout_digest()).substr(0, 4), "run\n");
}

TEST_F(ServerTest, CancelOperationStopsARunningActionForEveryoneFollowingIt) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Gate gate;
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), gate.Action());
  auto execute = OperationStream::Execute(*execution_, Request(action));
  ASSERT_TRUE(execute->ReadUntil(reapi::ExecutionStage::EXECUTING));
  std::string name = execute->last().name();
  ASSERT_TRUE(gate.WaitForArrival());
  auto operations = google::longrunning::Operations::NewStub(channel_);

  google::longrunning::GetOperationRequest get;
  get.set_name(name);
  google::longrunning::Operation current;
  grpc::Status got = operations->GetOperation(Deadline().get(), get, &current);
  ASSERT_TRUE(got.ok()) << got.error_message();
  EXPECT_EQ(current.name(), name);
  EXPECT_FALSE(current.done());

  google::longrunning::CancelOperationRequest cancel;
  cancel.set_name(name);
  google::protobuf::Empty empty;
  grpc::Status cancelled = operations->CancelOperation(Deadline().get(), cancel, &empty);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error_message();
  // The gate is never released: only the cancellation ends the command.
  ASSERT_TRUE(execute->Finish().ok());
  reapi::ExecuteResponse response = ResponseOf(execute->last());
  EXPECT_EQ(response.status().code(), static_cast<int>(grpc::StatusCode::CANCELLED))
      << response.status().message();

  // Nothing was cached, and nothing merges into the cancelled operation:
  // the same action runs afresh, as a new operation.
  gate.Release();
  auto again = OperationStream::Execute(*execution_, Request(action));
  ASSERT_TRUE(gate.WaitForArrival());
  gate.Release();
  ASSERT_TRUE(again->Finish().ok());
  EXPECT_NE(again->last().name(), name);
  reapi::ExecuteResponse rerun = ResponseOf(again->last());
  EXPECT_EQ(rerun.status().code(), 0) << rerun.status().message();
  EXPECT_FALSE(rerun.cached_result());
  EXPECT_EQ(Get(*cas_, rerun.result().stdout_digest()).substr(0, 4), "run\n");
}

TEST_F(ServerTest, CancelOrGetOfAnUnknownOperationIsNotFound) {
  StartServer();
  auto operations = google::longrunning::Operations::NewStub(channel_);
  google::longrunning::CancelOperationRequest cancel;
  cancel.set_name("operations/00000000-0000-4000-8000-000000000000");
  google::protobuf::Empty empty;
  EXPECT_EQ(operations->CancelOperation(Deadline().get(), cancel, &empty).error_code(),
            grpc::StatusCode::NOT_FOUND);
  google::longrunning::GetOperationRequest get;
  get.set_name("nonsense");
  google::longrunning::Operation operation;
  EXPECT_EQ(operations->GetOperation(Deadline().get(), get, &operation).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ServerTest, TwoIdenticalExecutesAtOnceRunTheActionOnce) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Gate gate;
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), gate.Action());
  auto first = OperationStream::Execute(*execution_, Request(action));
  ASSERT_TRUE(first->ReadUntil(reapi::ExecutionStage::EXECUTING));
  ASSERT_TRUE(gate.WaitForArrival());

  // Skipping the cache may still merge with a run in flight.
  auto second = OperationStream::Execute(*execution_, Request(action, true));
  ASSERT_TRUE(second->ReadUntil(reapi::ExecutionStage::EXECUTING));
  ASSERT_EQ(second->last().name(), first->last().name()) << "not merged";

  gate.Release();
  ASSERT_TRUE(first->Finish().ok());
  ASSERT_TRUE(second->Finish().ok());
  EXPECT_FALSE(gate.SomeoneWaiting()) << "the action ran a second time";
  reapi::ExecuteResponse one = ResponseOf(first->last());
  reapi::ExecuteResponse other = ResponseOf(second->last());
  EXPECT_EQ(one.status().code(), 0) << one.status().message();
  EXPECT_EQ(other.result().stdout_digest(), one.result().stdout_digest());
  EXPECT_FALSE(other.cached_result());
}

TEST_F(ServerTest, APlatformPropertyTheSandboxCannotHonourIsFailedPreconditionNamingIt) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest root = PutBusyboxRoot(*cas_);
  for (const auto& property :
       std::vector<std::pair<std::string, std::string>>{{"OSFamily", "windows"}, {"gpu", "yes"}}) {
    ActionSpec spec = Script("true");
    spec.platform = {property};
    auto stream = OperationStream::Execute(*execution_, Request(PutAction(*cas_, root, spec)));
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << property.first;
    EXPECT_NE(status.error_message().find(property.first + "='" + property.second + "'"),
              std::string::npos)
        << status.error_message();
  }
}

TEST_F(ServerTest, AnInstanceWithoutASandboxRefusesToExecute) {
  StartServer([](ServerConfig& config) { config.sandbox.plugin = kNoSandbox; });
  auto stream = OperationStream::Execute(*execution_, Request(DigestOfBytes("any action")));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("sandbox"), std::string::npos) << status.error_message();
}

TEST_F(ServerTest, AMalformedActionDigestOrUnknownInstanceIsTheCallsOwnError) {
  StartServer();
  reapi::ExecuteRequest request;
  request.mutable_action_digest()->set_hash("not-hex");
  request.mutable_action_digest()->set_size_bytes(3);
  auto stream = OperationStream::Execute(*execution_, request);
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("action_digest"), std::string::npos)
      << status.error_message();

  request = Request(DigestOfBytes("x"));
  request.set_instance_name("nope");
  stream = OperationStream::Execute(*execution_, request);
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServerTest, ATimeoutPastTheServersMaximumIsRefusedAndNoneGetsTheDefault) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer([](ServerConfig& config) {
    config.limits.max_action_timeout_s = 60;
    config.limits.default_action_timeout_s = 1;
  });
  Digest root = PutBusyboxRoot(*cas_);
  ActionSpec too_long = Script("true");
  too_long.timeout_seconds = 61;
  auto stream = OperationStream::Execute(*execution_, Request(PutAction(*cas_, root, too_long)));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("action.timeout"), std::string::npos)
      << status.error_message();

  // No timeout: the default of one second stops a command that sleeps.
  Operation done = ExecuteToEnd(*execution_, Request(PutAction(*cas_, root, Script("sleep 30"))));
  EXPECT_EQ(ResponseOf(done).status().code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(ServerTest, AFullQueueIsResourceExhausted) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer([](ServerConfig& config) {
    config.executions = 1;
    config.limits.max_queue = 1;
  });
  Gate gate;
  Digest root = PutBusyboxRoot(*cas_);
  auto running =
      OperationStream::Execute(*execution_, Request(PutAction(*cas_, root, gate.Action("one"))));
  ASSERT_TRUE(running->ReadUntil(reapi::ExecutionStage::EXECUTING));
  ASSERT_TRUE(gate.WaitForArrival());
  auto waiting =
      OperationStream::Execute(*execution_, Request(PutAction(*cas_, root, gate.Action("two"))));
  ASSERT_TRUE(waiting->ReadUntil(reapi::ExecutionStage::QUEUED));

  auto refused =
      OperationStream::Execute(*execution_, Request(PutAction(*cas_, root, gate.Action("three"))));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);

  gate.Release();
  ASSERT_TRUE(gate.WaitForArrival());
  gate.Release();
  ASSERT_TRUE(running->Finish().ok());
  ASSERT_TRUE(waiting->Finish().ok());
  EXPECT_EQ(Get(*cas_, ResponseOf(waiting->last()).result().stdout_digest()).substr(0, 4), "two\n");
}

TEST_F(ServerTest, ShuttingDownStopsARunningActionAndEndsItsCalls) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Gate gate;
  Digest action = PutAction(*cas_, PutBusyboxRoot(*cas_), gate.Action());
  auto execute = OperationStream::Execute(*execution_, Request(action));
  ASSERT_TRUE(execute->ReadUntil(reapi::ExecutionStage::EXECUTING));
  ASSERT_TRUE(gate.WaitForArrival());

  // The action would wait for ever: only the server going away ends it.
  std::thread stopper([this] { server_->Shutdown(std::chrono::milliseconds(300)); });
  EXPECT_TRUE(gate.FirstHungUp()) << "the action still runs after the server shut down";
  stopper.join();
  grpc::Status status = execute->Finish();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(execute->seen().empty() || !execute->last().done());
}

}  // namespace
}  // namespace cairn::server
