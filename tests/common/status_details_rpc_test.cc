// Typed error details across a real gRPC call: a server on loopback turns a
// cairn::Status into the grpc::Status it sends (google.rpc.Status in the
// error details, as REAPI servers report missing blobs), and a client turns
// what it receives back into a cairn::Status. Proves that
// cairn/status_details.h's conversions keep the code, the message and the
// details over the wire, which is what the remote sandbox and cairn-server
// will rely on.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/digest.h"
#include "cairn/status_details.h"

namespace cairn {
namespace {

namespace rev2 = build::bazel::remote::execution::v2;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// What a server sends for a failed call.
grpc::Status ToGrpcStatus(const Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), status.message(),
                      ToRpcStatus(status).SerializeAsString());
}

// What a client makes of a failed call; without details, the code and message.
Status FromGrpcStatus(const grpc::Status& status) {
  google::rpc::Status rpc;
  if (status.error_details().empty() || !rpc.ParseFromString(status.error_details())) {
    rpc.set_code(status.error_code());
    rpc.set_message(status.error_message());
  }
  return FromRpcStatus(rpc);
}

// An action cache that, like Buildbarn's completeness checking, refuses a
// result whose output files are not in its CAS (here: none ever are).
class StrictActionCache final : public rev2::ActionCache::Service {
 public:
  grpc::Status UpdateActionResult(grpc::ServerContext*,
                                  const rev2::UpdateActionResultRequest* request,
                                  rev2::ActionResult*) override {
    std::vector<Digest> missing;
    for (const rev2::OutputFile& file : request->action_result().output_files()) {
      missing.push_back(file.digest());
    }
    if (request->action_result().output_files().empty()) {
      return ToGrpcStatus(BadRequestError("action_result", "records no output"));
    }
    return ToGrpcStatus(MissingBlobsError("outputs of the result are not in the CAS", missing));
  }
  grpc::Status GetActionResult(grpc::ServerContext*, const rev2::GetActionResultRequest*,
                               rev2::ActionResult*) override {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such action");  // no details
  }
};

class StatusDetailsRpcTest : public ::testing::Test {
 protected:
  StatusDetailsRpcTest() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    stub_ = rev2::ActionCache::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                                           grpc::InsecureChannelCredentials()));
  }
  ~StatusDetailsRpcTest() override {
    if (server_) server_->Shutdown();
  }

  Status Update(const std::vector<Digest>& outputs) {
    rev2::UpdateActionResultRequest request;
    *request.mutable_action_digest() = DigestOfBytes("action");
    for (size_t i = 0; i < outputs.size(); ++i) {
      rev2::OutputFile* file = request.mutable_action_result()->add_output_files();
      file->set_path("out" + std::to_string(i));
      *file->mutable_digest() = outputs[i];
    }
    grpc::ClientContext context;
    rev2::ActionResult response;
    return FromGrpcStatus(stub_->UpdateActionResult(&context, request, &response));
  }

  int port_ = 0;
  StrictActionCache service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<rev2::ActionCache::Stub> stub_;
};

TEST_F(StatusDetailsRpcTest, TheMissingBlobsAServerNamesReachTheClientAsDigests) {
  ASSERT_NE(server_, nullptr);
  ASSERT_GT(port_, 0);
  Digest a = DigestOfBytes("first output");
  Digest b = DigestOfBytes("second output");
  Status status = Update({a, b});
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("not in the CAS"));
  EXPECT_THAT(MissingBlobs(status), ElementsAre(a, b));
}

TEST_F(StatusDetailsRpcTest, ABadRequestKeepsTheFieldItNames) {
  ASSERT_NE(server_, nullptr);
  Status status = Update({});
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(BadRequestField(status), "action_result");
  EXPECT_THAT(MissingBlobs(status), IsEmpty());
}

TEST_F(StatusDetailsRpcTest, AnErrorWithoutDetailsKeepsItsCodeAndMessage) {
  ASSERT_NE(server_, nullptr);
  grpc::ClientContext context;
  rev2::GetActionResultRequest request;
  rev2::ActionResult response;
  Status status = FromGrpcStatus(stub_->GetActionResult(&context, request, &response));
  EXPECT_EQ(status.code(), Code::kNotFound);
  EXPECT_EQ(status.message(), "no such action");
  EXPECT_EQ(status.details(), nullptr);
}

}  // namespace
}  // namespace cairn
