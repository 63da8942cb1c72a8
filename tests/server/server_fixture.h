// The fixture of cairn-server's tests: a real Server started in-process on
// 127.0.0.1 with port 0, over the real cas-local and bwrap plugins in a
// temporary cache directory, and stubs of every service on one channel.
//
//   TEST_F(ServerTest, ...) {
//     StartServer();                       // or StartServer([](ServerConfig& c) {...});
//     reapi::FindMissingBlobsRequest request; ...
//     grpc::ClientContext context;
//     grpc::Status status = cas_->FindMissingBlobs(&context, request, &response);
//   }
#ifndef CAIRN_TESTS_SERVER_SERVER_FIXTURE_H
#define CAIRN_TESTS_SERVER_SERVER_FIXTURE_H

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "build/bazel/remote/asset/v1/remote_asset.grpc.pb.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/digest.h"
#include "cairn/remote_client/grpc_status.h"
#include "cairn/server/server.h"
#include "cairn/status_details.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "test_files.h"

namespace cairn::server {

namespace reapi = build::bazel::remote::execution::v2;
namespace rasset = build::bazel::remote::asset::v1;

// The field a failed call's BadRequest names, or "".
inline std::string BadRequestFieldOf(const grpc::Status& status) {
  return BadRequestField(remote_client::FromGrpcStatus(status));
}

// The blobs a failed call's PreconditionFailure lists as MISSING, sorted.
inline std::vector<Digest> MissingBlobsOf(const grpc::Status& status) {
  std::vector<Digest> missing = MissingBlobs(remote_client::FromGrpcStatus(status));
  std::sort(missing.begin(), missing.end());
  return missing;
}

class ServerTest : public ::testing::Test {
 protected:
  ~ServerTest() override { StopServer(); }

  // The configuration StartServer() uses before `adjust` sees it.
  ServerConfig DefaultConfig() const {
    ServerConfig config;
    config.listen.push_back(*ParseListenAddress("grpc://127.0.0.1:0", {}));
    config.cache_dir = dir_.path() + "/cache";
    config.plugin_paths.push_back(CAIRN_PLUGIN_DIR);
    config.executions = 2;
    return config;
  }

  // Starts the server (adjusting the default configuration first) and
  // connects the stubs. Fails the test when the server cannot start.
  void StartServer(const std::function<void(ServerConfig&)>& adjust = {}, bool host_tools = false) {
    ServerConfig config = DefaultConfig();
    if (adjust) adjust(config);
    Status finished = FinishServerConfig(&config, host_tools);
    ASSERT_TRUE(finished.ok()) << finished.ToString();
    StatusOr<std::unique_ptr<Server>> server = Server::Start(config);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    Connect(grpc::InsecureChannelCredentials());
  }

  // (Re)connects the stubs with `credentials` to the first address.
  void Connect(const std::shared_ptr<grpc::ChannelCredentials>& credentials,
               const grpc::ChannelArguments& arguments = {}) {
    std::string target = "127.0.0.1:" + std::to_string(server_->port());
    channel_ = grpc::CreateCustomChannel(target, credentials, arguments);
    capabilities_ = reapi::Capabilities::NewStub(channel_);
    cas_ = reapi::ContentAddressableStorage::NewStub(channel_);
    action_cache_ = reapi::ActionCache::NewStub(channel_);
    execution_ = reapi::Execution::NewStub(channel_);
    bytestream_ = google::bytestream::ByteStream::NewStub(channel_);
    fetch_ = rasset::Fetch::NewStub(channel_);
    push_ = rasset::Push::NewStub(channel_);
  }

  void StopServer() {
    if (server_ != nullptr) server_->Shutdown(std::chrono::seconds(5));
    server_.reset();
  }

  // A client context with a deadline, so a hung call fails the test
  // instead of hanging it.
  static std::unique_ptr<grpc::ClientContext> Context(int seconds = 30) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return context;
  }

  // Uploads `data` with BatchUpdateBlobs; returns its digest.
  Digest Upload(const std::string& data, const std::string& instance = "") {
    reapi::BatchUpdateBlobsRequest request;
    request.set_instance_name(instance);
    auto* blob = request.add_requests();
    *blob->mutable_digest() = DigestOfBytes(data);
    blob->set_data(data);
    reapi::BatchUpdateBlobsResponse response;
    grpc::Status status = cas_->BatchUpdateBlobs(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (status.ok()) {
      EXPECT_EQ(response.responses(0).status().code(), 0)
          << response.responses(0).status().message();
    }
    return DigestOfBytes(data);
  }

  Digest UploadMessage(const google::protobuf::MessageLite& message,
                       const std::string& instance = "") {
    return Upload(message.SerializeAsString(), instance);
  }

  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<reapi::Capabilities::Stub> capabilities_;
  std::unique_ptr<reapi::ContentAddressableStorage::Stub> cas_;
  std::unique_ptr<reapi::ActionCache::Stub> action_cache_;
  std::unique_ptr<reapi::Execution::Stub> execution_;
  std::unique_ptr<google::bytestream::ByteStream::Stub> bytestream_;
  std::unique_ptr<rasset::Fetch::Stub> fetch_;
  std::unique_ptr<rasset::Push::Stub> push_;
};

}  // namespace cairn::server

#endif  // CAIRN_TESTS_SERVER_SERVER_FIXTURE_H
