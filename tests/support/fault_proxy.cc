#include "fault_proxy.h"

#include <grpcpp/support/byte_buffer.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <utility>

namespace cairn::testing_support {
namespace {

// Metadata gRPC itself writes (pseudo-headers, grpc-timeout,
// grpc-status-details-bin, ...): copying it would duplicate or contradict
// what the library sends on the next hop. Error details travel in the
// grpc::Status instead.
bool IsTransportMetadata(const grpc::string_ref& key) {
  std::string name(key.data(), key.size());
  return name.empty() || name[0] == ':' || name.rfind("grpc-", 0) == 0 || name == "user-agent" ||
         name == "content-type" || name == "te";
}

std::shared_ptr<grpc::GenericStub> StubFor(const std::string& target) {
  grpc::ChannelArguments arguments;
  // The proxy must not impose limits of its own between client and backend.
  arguments.SetMaxReceiveMessageSize(-1);
  return std::make_shared<grpc::GenericStub>(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments));
}

// A call FailNext answers.
class Refusal : public grpc::ServerGenericBidiReactor {
 public:
  Refusal(const grpc::Status& status, std::function<void()> on_done)
      : on_done_(std::move(on_done)) {
    Finish(status);
  }
  void OnDone() override {
    std::function<void()> on_done = std::move(on_done_);
    delete this;
    on_done();
  }

 private:
  std::function<void()> on_done_;
};

}  // namespace

// One forwarded call: the client's side (this server reactor) and the
// backend's side (Backend, a client reactor) pump messages across, each
// direction keeping one operation in flight so gRPC's flow control reaches
// from end to end. The object deletes itself once both sides are done.
//
// gRPC may run the two sides' reactions on different threads at once, so
// all state is under mutex_; starting an operation under it is safe
// because gRPC defers the reactions it triggers past the current reaction.
class FaultProxy::Forwarder : public grpc::ServerGenericBidiReactor {
 public:
  Forwarder(grpc::GenericCallbackServerContext* server_context, Plan plan,
            std::function<void()> on_done)
      : server_context_(server_context),
        drop_after_messages_(plan.drop_after_messages),
        backend_stub_(std::move(plan.backend)),
        on_done_(std::move(on_done)),
        backend_(this) {
    for (const auto& [key, value] : server_context->client_metadata()) {
      if (IsTransportMetadata(key)) continue;
      backend_context_.AddMetadata(std::string(key.data(), key.size()),
                                   std::string(value.data(), value.size()));
    }
    backend_context_.set_deadline(server_context->deadline());
    backend_stub_->PrepareBidiStreamingCall(&backend_context_, server_context->method(),
                                            grpc::StubOptions(), &backend_);
    // Holds keep the backend's side alive while either direction may still
    // start an operation on it; without them it could end (and be freed by
    // gRPC) between a message and the next read or write.
    std::lock_guard<std::mutex> lock(mutex_);
    backend_.AddMultipleHolds(2);
    backend_.StartRead(&from_backend_);
    backend_.StartCall();
    StartRead(&from_client_);
  }

  // From the client.
  void OnReadDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (writer_released_) return;  // the backend's call is ending
    if (ok) {
      backend_writing_ = true;
      backend_.StartWrite(&from_client_);
    } else {
      // A client that went away must not look like one that finished
      // sending: a backend could take a cut-off upload as complete.
      if (server_context_->IsCancelled()) {
        backend_context_.TryCancel();
      } else {
        backend_.StartWritesDone();
      }
      ReleaseWriterLocked();
    }
  }

  // To the client.
  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (ok) {
      backend_.StartRead(&from_backend_);
    } else {
      backend_context_.TryCancel();  // the client is gone
      EndBackendReadingLocked();
    }
  }

  void OnCancel() override { backend_context_.TryCancel(); }

  void OnDone() override { SideDone(); }

 private:
  class Backend : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Backend(Forwarder* forwarder) : forwarder_(forwarder) {}
    void OnReadInitialMetadataDone(bool ok) override { forwarder_->BackendMetadata(ok); }
    void OnReadDone(bool ok) override { forwarder_->BackendRead(ok); }
    void OnWriteDone(bool ok) override { forwarder_->BackendWritten(ok); }
    void OnDone(const grpc::Status& status) override { forwarder_->BackendDone(status); }

   private:
    Forwarder* forwarder_;
  };

  void BackendMetadata(bool ok) {
    std::lock_guard<std::mutex> lock(mutex_);
    backend_metadata_seen_ = true;
    if (ok && !client_finished_) {
      for (const auto& [key, value] : backend_context_.GetServerInitialMetadata()) {
        if (IsTransportMetadata(key)) continue;
        server_context_->AddInitialMetadata(std::string(key.data(), key.size()),
                                            std::string(value.data(), value.size()));
      }
    }
    if (message_waiting_) {
      message_waiting_ = false;
      StartWrite(&from_backend_);
    }
  }

  void BackendRead(bool ok) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!ok) {
      EndBackendReadingLocked();
      return;
    }
    if (forwarded_messages_ == drop_after_messages_) {
      Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, kDroppedMessage));
      client_finished_ = true;
      backend_context_.TryCancel();
      EndBackendReadingLocked();
      return;
    }
    ++forwarded_messages_;
    // The backend's initial metadata reaches the client with the first
    // message, so that message waits for it (gRPC may report the two in
    // either order).
    if (backend_metadata_seen_) {
      StartWrite(&from_backend_);
    } else {
      message_waiting_ = true;
    }
  }

  void BackendWritten(bool ok) {
    std::lock_guard<std::mutex> lock(mutex_);
    backend_writing_ = false;
    if (ok && !backend_read_ended_ && !client_finished_) {
      StartRead(&from_client_);
    } else {
      ReleaseWriterLocked();
    }
  }

  void BackendDone(const grpc::Status& status) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!client_finished_) {
        for (const auto& [key, value] : backend_context_.GetServerTrailingMetadata()) {
          if (IsTransportMetadata(key)) continue;
          server_context_->AddTrailingMetadata(std::string(key.data(), key.size()),
                                               std::string(value.data(), value.size()));
        }
        Finish(status);
        client_finished_ = true;
      }
    }
    SideDone();
  }

  // The backend sends no more messages (or none will be read): its side may
  // end once the client-to-backend direction is through as well.
  void EndBackendReadingLocked() {
    if (backend_read_ended_) return;
    backend_read_ended_ = true;
    backend_.RemoveHold();
    if (!backend_writing_) ReleaseWriterLocked();
  }

  void ReleaseWriterLocked() {
    if (writer_released_) return;
    writer_released_ = true;
    backend_.RemoveHold();
  }

  void SideDone() {
    bool last;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last = ++sides_done_ == 2;
    }
    if (!last) return;
    std::function<void()> on_done = std::move(on_done_);
    delete this;
    on_done();
  }

  grpc::GenericCallbackServerContext* server_context_;
  const int drop_after_messages_;
  std::shared_ptr<grpc::GenericStub> backend_stub_;
  std::function<void()> on_done_;
  grpc::ClientContext backend_context_;
  Backend backend_;

  std::mutex mutex_;
  grpc::ByteBuffer from_client_;
  grpc::ByteBuffer from_backend_;
  int forwarded_messages_ = 0;
  bool backend_writing_ = false;  // a client message is on its way to the backend
  bool writer_released_ = false;  // no more client messages go to the backend
  bool backend_read_ended_ = false;
  bool client_finished_ = false;
  bool backend_metadata_seen_ = false;
  bool message_waiting_ = false;  // from_backend_ holds a message for the client
  int sides_done_ = 0;
};

class FaultProxy::Service : public grpc::CallbackGenericService {
 public:
  explicit Service(FaultProxy* proxy) : proxy_(proxy) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    Plan plan = proxy_->PlanCall(context->method());
    proxy_->CallStarted();
    auto ended = [proxy = proxy_] { proxy->CallEnded(); };
    if (plan.fail) return new Refusal(plan.failure, ended);
    if (plan.hook) plan.hook();
    return new Forwarder(context, std::move(plan), ended);
  }

 private:
  FaultProxy* proxy_;
};

FaultProxy::FaultProxy(const std::string& backend_target)
    : backend_(StubFor(backend_target)), service_(std::make_unique<Service>(this)) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
  builder.SetMaxReceiveMessageSize(-1);
  builder.RegisterCallbackGenericService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    std::cerr << "FaultProxy: cannot listen on 127.0.0.1 for " << backend_target << "\n";
    std::abort();
  }
}

FaultProxy::~FaultProxy() { Shutdown(); }

void FaultProxy::FailNext(const std::string& method, int count, grpc::StatusCode code,
                          const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  failures_[method] = Failure{count, grpc::Status(code, message)};
}

void FaultProxy::DropStreamAfter(const std::string& method, int messages, int count) {
  std::lock_guard<std::mutex> lock(mutex_);
  drops_[method] = Drop{messages, count};
}

void FaultProxy::BeforeForward(const std::string& method, std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mutex_);
  hooks_[method] = std::move(hook);
}

int FaultProxy::Calls(const std::string& method) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = calls_.find(method);
  return found == calls_.end() ? 0 : found->second;
}

void FaultProxy::ResetCounts() {
  std::lock_guard<std::mutex> lock(mutex_);
  calls_.clear();
}

void FaultProxy::SetBackend(const std::string& backend_target) {
  std::shared_ptr<grpc::GenericStub> stub = StubFor(backend_target);
  std::lock_guard<std::mutex> lock(mutex_);
  backend_ = std::move(stub);
}

void FaultProxy::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shut_down_) return;
    shut_down_ = true;
  }
  // A deadline of now cancels the calls in flight at once; each forwarder
  // then cancels its backend call, so the wait below is short.
  server_->Shutdown(std::chrono::system_clock::now());
  std::unique_lock<std::mutex> lock(mutex_);
  all_calls_ended_.wait(lock, [this] { return calls_in_flight_ == 0; });
  lock.unlock();
  server_->Wait();
}

FaultProxy::Plan FaultProxy::PlanCall(const std::string& method) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++calls_[method];
  Plan plan;
  auto failure = failures_.find(method);
  if (failure != failures_.end() && failure->second.remaining_calls > 0) {
    --failure->second.remaining_calls;
    plan.fail = true;
    plan.failure = failure->second.status;
    return plan;
  }
  auto drop = drops_.find(method);
  if (drop != drops_.end() && drop->second.remaining_calls > 0) {
    --drop->second.remaining_calls;
    plan.drop_after_messages = drop->second.after_messages;
  }
  auto hook = hooks_.find(method);
  if (hook != hooks_.end()) {
    plan.hook = std::move(hook->second);
    hooks_.erase(hook);
  }
  plan.backend = backend_;
  return plan;
}

void FaultProxy::CallStarted() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++calls_in_flight_;
}

void FaultProxy::CallEnded() {
  // Notified under the lock: Shutdown() may destroy the proxy as soon as it
  // sees the count reach zero.
  std::lock_guard<std::mutex> lock(mutex_);
  --calls_in_flight_;
  all_calls_ended_.notify_all();
}

}  // namespace cairn::testing_support
