// Server reflection is on, so grpcurl and similar tools can list and call
// the services without .proto files. Called with a generic stub and a
// hand-encoded request: this test needs no reflection proto of its own.
#include <grpcpp/generic/generic_stub.h>

#include "server_fixture.h"

namespace cairn::server {
namespace {

// Waits for the completion of the operation tagged `tag`; its outcome.
bool Await(grpc::CompletionQueue& queue, intptr_t tag) {
  void* got = nullptr;
  bool ok = false;
  if (!queue.Next(&got, &ok)) return false;
  return ok && reinterpret_cast<intptr_t>(got) == tag;
}

TEST_F(ServerTest, ReflectionListsEveryServiceTheServerOffers) {
  StartServer();
  grpc::GenericStub stub(channel_);
  grpc::CompletionQueue queue;
  auto context = Context(10);
  auto call = stub.PrepareCall(
      context.get(), "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &queue);
  ASSERT_NE(call, nullptr);
  call->StartCall(reinterpret_cast<void*>(1));
  ASSERT_TRUE(Await(queue, 1));
  // ServerReflectionRequest{list_services (field 7): ""}.
  grpc::Slice slice(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&slice, 1);
  call->Write(request, reinterpret_cast<void*>(2));
  ASSERT_TRUE(Await(queue, 2));
  call->WritesDone(reinterpret_cast<void*>(3));
  ASSERT_TRUE(Await(queue, 3));
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(4));
  ASSERT_TRUE(Await(queue, 4));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string listed;
  for (const grpc::Slice& piece : slices) {
    listed.append(reinterpret_cast<const char*>(piece.begin()), piece.size());
  }
  for (const char* service :
       {"build.bazel.remote.execution.v2.Capabilities",
        "build.bazel.remote.execution.v2.ContentAddressableStorage",
        "build.bazel.remote.execution.v2.ActionCache", "build.bazel.remote.execution.v2.Execution",
        "google.bytestream.ByteStream", "build.bazel.remote.asset.v1.Fetch",
        "build.bazel.remote.asset.v1.Push", "google.longrunning.Operations",
        "grpc.health.v1.Health"}) {
    EXPECT_NE(listed.find(service), std::string::npos) << service << " is not listed";
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  ASSERT_TRUE(Await(queue, 5));
  EXPECT_TRUE(status.ok()) << status.error_message();
  queue.Shutdown();
  void* ignored_tag = nullptr;
  bool ignored_ok = false;
  while (queue.Next(&ignored_tag, &ignored_ok)) {
  }
}

}  // namespace
}  // namespace cairn::server
