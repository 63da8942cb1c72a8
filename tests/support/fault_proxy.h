// A gRPC proxy for tests that injects faults between a client and a real
// backend (cairn-server): it forwards every method as raw bytes, with the
// client's metadata and deadline, and the backend's messages, status, error
// details and trailing metadata, unchanged — unless a fault is armed for
// the method, matched by its full name
// ("/build.bazel.remote.execution.v2.Execution/Execute").
//
//   FaultProxy proxy("127.0.0.1:" + std::to_string(server->port()));
//   proxy.DropStreamAfter("/build.bazel.remote.execution.v2.Execution/Execute", 1);
//   auto channel = grpc::CreateChannel(proxy.target(), grpc::InsecureChannelCredentials());
//   ... // the client sees the first Operation, then UNAVAILABLE
//   EXPECT_EQ(proxy.Calls("/build.bazel.remote.execution.v2.Execution/Execute"), 1);
//
// Threads: every method may be called from any thread while calls are in
// flight; faults apply to the calls that arrive after they are armed.
#ifndef CAIRN_TESTS_SUPPORT_FAULT_PROXY_H
#define CAIRN_TESTS_SUPPORT_FAULT_PROXY_H

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace cairn::testing_support {

class FaultProxy {
 public:
  // The message of the UNAVAILABLE status a dropped stream ends with.
  static constexpr char kDroppedMessage[] = "connection dropped by the fault proxy";

  // Starts listening on 127.0.0.1 (a free port) and forwarding to
  // `backend_target` ("127.0.0.1:PORT" or "unix:PATH"). Aborts the test
  // process if it cannot listen, as gRPC gives no reason to report.
  explicit FaultProxy(const std::string& backend_target);
  // Shutdown().
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  // "127.0.0.1:PORT", for grpc::CreateChannel.
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }

  // The next `count` calls of `method` end with `code` and `message`
  // without reaching the backend. Replaces an earlier FailNext of `method`.
  void FailNext(const std::string& method, int count, grpc::StatusCode code,
                const std::string& message);
  // For the next `count` calls of `method`: forward `messages` messages of
  // the backend, then end the call with UNAVAILABLE kDroppedMessage and
  // cancel it on the backend. A backend that ends the call first ends it
  // as usual. Replaces an earlier DropStreamAfter of `method`.
  void DropStreamAfter(const std::string& method, int messages, int count = 1);
  // Runs `hook` once, before the next forwarded call of `method` goes to the
  // backend (a call FailNext answers does not run it). It runs on a gRPC
  // thread holding up that call: it may call the backend directly, but
  // should not call through this proxy.
  void BeforeForward(const std::string& method, std::function<void()> hook);

  // How many calls of `method` arrived, faulted ones included.
  int Calls(const std::string& method) const;
  void ResetCounts();

  // Calls from now on go to `backend_target`; calls in flight stay where
  // they are.
  void SetBackend(const std::string& backend_target);

  // Stops listening and cancels the calls in flight; returns when they
  // have ended. Idempotent.
  void Shutdown();

 private:
  class Forwarder;
  class Service;

  struct Drop {
    int after_messages = 0;
    int remaining_calls = 0;
  };
  struct Failure {
    int remaining_calls = 0;
    grpc::Status status;
  };
  // What to do with one arriving call, decided under mutex_.
  struct Plan {
    bool fail = false;
    grpc::Status failure;
    int drop_after_messages = -1;  // -1: never drop
    std::function<void()> hook;
    std::shared_ptr<grpc::GenericStub> backend;
  };

  Plan PlanCall(const std::string& method);
  void CallStarted();
  void CallEnded();

  mutable std::mutex mutex_;
  std::condition_variable all_calls_ended_;
  int calls_in_flight_ = 0;
  std::map<std::string, int> calls_;
  std::map<std::string, Failure> failures_;
  std::map<std::string, Drop> drops_;
  std::map<std::string, std::function<void()>> hooks_;
  std::shared_ptr<grpc::GenericStub> backend_;
  bool shut_down_ = false;

  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace cairn::testing_support

#endif  // CAIRN_TESTS_SUPPORT_FAULT_PROXY_H
