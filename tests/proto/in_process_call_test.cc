// End to end over a real gRPC channel: a client that knows nothing but the
// method path from the fact sheet and hand-encoded bytes (what an upstream
// client such as Bazel sends) reaches a service built from our generated
// code, and gets back bytes an upstream client can decode.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"

namespace {

namespace rev2 = build::bazel::remote::execution::v2;

// Reports every requested digest as missing, so the response echoes the
// request's digests at the response's field number.
class EverythingMissingCas final : public rev2::ContentAddressableStorage::Service {
 public:
  grpc::Status FindMissingBlobs(grpc::ServerContext* /*context*/,
                                const rev2::FindMissingBlobsRequest* request,
                                rev2::FindMissingBlobsResponse* response) override {
    instance_name_ = request->instance_name();
    *response->mutable_missing_blob_digests() = request->blob_digests();
    return grpc::Status::OK;
  }

  const std::string& instance_name() const { return instance_name_; }

 private:
  std::string instance_name_;
};

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string ToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return bytes;
}

TEST(InProcessCall, UpstreamEncodedFindMissingBlobsReachesOurServiceByPath) {
  EverythingMissingCas cas;
  grpc::ServerBuilder builder;
  builder.RegisterService(&cas);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  grpc::GenericStub stub(server->InProcessChannel(grpc::ChannelArguments()));

  // FindMissingBlobsRequest{1: "main", 2: Digest{1: "ab", 2: 2}}
  const std::string request_bytes(
      "\x0a\x04"
      "main"
      "\x12\x06\x0a\x02"
      "ab"
      "\x10\x02",
      14);
  const grpc::ByteBuffer request = ToByteBuffer(request_bytes);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context,
                 "/build.bazel.remote.execution.v2.ContentAddressableStorage/"
                 "FindMissingBlobs",
                 grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });

  const grpc::Status status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(cas.instance_name(), "main");
  // FindMissingBlobsResponse{2: Digest{1: "ab", 2: 2}}
  EXPECT_EQ(ToString(response), std::string("\x12\x06\x0a\x02"
                                            "ab"
                                            "\x10\x02",
                                            8));

  server->Shutdown();
}

}  // namespace
