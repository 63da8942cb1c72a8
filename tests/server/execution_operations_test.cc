// The life of an Execute operation against the real server running actions
// in the real bwrap sandbox: WaitExecution following a running operation,
// clients that disconnect (the action goes on), CancelOperation stopping
// it for everyone, identical actions merged into one run, a full queue,
// and shutting down with actions running.
//
// Actions that must stay running while the test acts wait on a Gate: they
// connect to a TCP listener of the test (with network=on) and go on only
// once the test closes the connection, so no test depends on how long
// anything takes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
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
