// A Capabilities service of the test's own on 127.0.0.1, answering what
// the test says and recording the metadata of every call: for what the
// real server does not show (the headers it was sent) or never does (a
// digest function other than SHA256).
#ifndef CAIRN_TESTS_REMOTE_CLIENT_FAKE_CAPABILITIES_SERVER_H
#define CAIRN_TESTS_REMOTE_CLIENT_FAKE_CAPABILITIES_SERVER_H

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"

namespace cairn::remote_client {

class FakeCapabilitiesServer : public build::bazel::remote::execution::v2::Capabilities::Service {
 public:
  using Metadata = std::multimap<std::string, std::string>;

  explicit FakeCapabilitiesServer(build::bazel::remote::execution::v2::ServerCapabilities answer)
      : answer_(std::move(answer)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeCapabilitiesServer() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  std::string url() const { return "grpc://127.0.0.1:" + std::to_string(port_); }

  std::vector<Metadata> calls() {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_;
  }

  grpc::Status GetCapabilities(
      grpc::ServerContext* context,
      const build::bazel::remote::execution::v2::GetCapabilitiesRequest*,
      build::bazel::remote::execution::v2::ServerCapabilities* response) override {
    Metadata metadata;
    for (const auto& [key, value] : context->client_metadata()) {
      metadata.emplace(std::string(key.data(), key.size()),
                       std::string(value.data(), value.size()));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    calls_.push_back(std::move(metadata));
    *response = answer_;
    return grpc::Status::OK;
  }

 private:
  build::bazel::remote::execution::v2::ServerCapabilities answer_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mutex_;
  std::vector<Metadata> calls_;
};

}  // namespace cairn::remote_client

#endif  // CAIRN_TESTS_REMOTE_CLIENT_FAKE_CAPABILITIES_SERVER_H
