// The HTTP/2 path of a call is "/package.Service/Method". Every path in
// /work/shared/reference/reapi-facts.md §1.2 must exist with the same request,
// response and streaming kind, or upstream clients and servers cannot talk to
// ours.

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "build/bazel/remote/asset/v1/remote_asset.grpc.pb.h"
#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "build/bazel/remote/logstream/v1/remote_logstream.grpc.pb.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "google/longrunning/operations.grpc.pb.h"

namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

enum class Kind { kUnary, kServerStreaming, kClientStreaming, kBidiStreaming };

struct UpstreamMethod {
  std::string path;
  std::string request;
  std::string response;
  Kind kind;
};

const std::string kRev2 = "build.bazel.remote.execution.v2.";
const std::string kAsset = "build.bazel.remote.asset.v1.";
const std::string kLogStream = "build.bazel.remote.logstream.v1.";
const std::string kByteStream = "google.bytestream.";
const std::string kOperations = "google.longrunning.";

const std::vector<UpstreamMethod>& UpstreamMethods() {
  static const std::vector<UpstreamMethod> methods = {
      {"/build.bazel.remote.execution.v2.Execution/Execute", kRev2 + "ExecuteRequest",
       "google.longrunning.Operation", Kind::kServerStreaming},
      {"/build.bazel.remote.execution.v2.Execution/WaitExecution", kRev2 + "WaitExecutionRequest",
       "google.longrunning.Operation", Kind::kServerStreaming},
      {"/build.bazel.remote.execution.v2.ActionCache/GetActionResult",
       kRev2 + "GetActionResultRequest", kRev2 + "ActionResult", Kind::kUnary},
      {"/build.bazel.remote.execution.v2.ActionCache/UpdateActionResult",
       kRev2 + "UpdateActionResultRequest", kRev2 + "ActionResult", Kind::kUnary},
      {"/build.bazel.remote.execution.v2.ContentAddressableStorage/"
       "FindMissingBlobs",
       kRev2 + "FindMissingBlobsRequest", kRev2 + "FindMissingBlobsResponse", Kind::kUnary},
      {"/build.bazel.remote.execution.v2.ContentAddressableStorage/"
       "BatchUpdateBlobs",
       kRev2 + "BatchUpdateBlobsRequest", kRev2 + "BatchUpdateBlobsResponse", Kind::kUnary},
      {"/build.bazel.remote.execution.v2.ContentAddressableStorage/"
       "BatchReadBlobs",
       kRev2 + "BatchReadBlobsRequest", kRev2 + "BatchReadBlobsResponse", Kind::kUnary},
      {"/build.bazel.remote.execution.v2.ContentAddressableStorage/GetTree",
       kRev2 + "GetTreeRequest", kRev2 + "GetTreeResponse", Kind::kServerStreaming},
      {"/build.bazel.remote.execution.v2.ContentAddressableStorage/SplitBlob",
       kRev2 + "SplitBlobRequest", kRev2 + "SplitBlobResponse", Kind::kUnary},
      {"/build.bazel.remote.execution.v2.ContentAddressableStorage/SpliceBlob",
       kRev2 + "SpliceBlobRequest", kRev2 + "SpliceBlobResponse", Kind::kUnary},
      {"/build.bazel.remote.execution.v2.Capabilities/GetCapabilities",
       kRev2 + "GetCapabilitiesRequest", kRev2 + "ServerCapabilities", Kind::kUnary},
      {"/build.bazel.remote.asset.v1.Fetch/FetchBlob", kAsset + "FetchBlobRequest",
       kAsset + "FetchBlobResponse", Kind::kUnary},
      {"/build.bazel.remote.asset.v1.Fetch/FetchDirectory", kAsset + "FetchDirectoryRequest",
       kAsset + "FetchDirectoryResponse", Kind::kUnary},
      {"/build.bazel.remote.asset.v1.Push/PushBlob", kAsset + "PushBlobRequest",
       kAsset + "PushBlobResponse", Kind::kUnary},
      {"/build.bazel.remote.asset.v1.Push/PushDirectory", kAsset + "PushDirectoryRequest",
       kAsset + "PushDirectoryResponse", Kind::kUnary},
      {"/google.bytestream.ByteStream/Read", kByteStream + "ReadRequest",
       kByteStream + "ReadResponse", Kind::kServerStreaming},
      {"/google.bytestream.ByteStream/Write", kByteStream + "WriteRequest",
       kByteStream + "WriteResponse", Kind::kClientStreaming},
      {"/google.bytestream.ByteStream/QueryWriteStatus", kByteStream + "QueryWriteStatusRequest",
       kByteStream + "QueryWriteStatusResponse", Kind::kUnary},
      {"/google.longrunning.Operations/GetOperation", kOperations + "GetOperationRequest",
       kOperations + "Operation", Kind::kUnary},
      {"/google.longrunning.Operations/WaitOperation", kOperations + "WaitOperationRequest",
       kOperations + "Operation", Kind::kUnary},
      {"/google.longrunning.Operations/ListOperations", kOperations + "ListOperationsRequest",
       kOperations + "ListOperationsResponse", Kind::kUnary},
      {"/google.longrunning.Operations/DeleteOperation", kOperations + "DeleteOperationRequest",
       "google.protobuf.Empty", Kind::kUnary},
      {"/google.longrunning.Operations/CancelOperation", kOperations + "CancelOperationRequest",
       "google.protobuf.Empty", Kind::kUnary},
      {"/build.bazel.remote.logstream.v1.LogStreamService/CreateLogStream",
       kLogStream + "CreateLogStreamRequest", kLogStream + "LogStream", Kind::kUnary},
  };
  return methods;
}

// Splits "/pkg.Service/Method" into its service and method names.
bool SplitPath(const std::string& path, std::string* service, std::string* method) {
  if (path.empty() || path[0] != '/') return false;
  const std::size_t slash = path.find('/', 1);
  if (slash == std::string::npos) return false;
  *service = path.substr(1, slash - 1);
  *method = path.substr(slash + 1);
  return true;
}

Kind KindOf(const MethodDescriptor& method) {
  if (method.server_streaming() && !method.client_streaming()) {
    return Kind::kServerStreaming;
  }
  if (method.client_streaming() && !method.server_streaming()) {
    return Kind::kClientStreaming;
  }
  return method.client_streaming() ? Kind::kBidiStreaming : Kind::kUnary;
}

TEST(MethodPath, EveryUpstreamPathExistsWithTheSameTypesAndStreamingKind) {
  for (const UpstreamMethod& expected : UpstreamMethods()) {
    std::string service_name;
    std::string method_name;
    ASSERT_TRUE(SplitPath(expected.path, &service_name, &method_name)) << expected.path;

    const ServiceDescriptor* service =
        DescriptorPool::generated_pool()->FindServiceByName(service_name);
    ASSERT_NE(service, nullptr) << expected.path;
    const MethodDescriptor* method = service->FindMethodByName(method_name);
    ASSERT_NE(method, nullptr) << expected.path;

    EXPECT_EQ(method->input_type()->full_name(), expected.request) << expected.path;
    EXPECT_EQ(method->output_type()->full_name(), expected.response) << expected.path;
    EXPECT_EQ(KindOf(*method), expected.kind) << expected.path;
  }
}

TEST(MethodPath, ServicesDeclareNoMethodsBeyondTheFactSheet) {
  const std::vector<std::string> services = {
      kRev2 + "Execution",        kRev2 + "ActionCache",      kRev2 + "ContentAddressableStorage",
      kRev2 + "Capabilities",     kAsset + "Fetch",           kAsset + "Push",
      kByteStream + "ByteStream", kOperations + "Operations", kLogStream + "LogStreamService",
  };
  std::size_t declared = 0;
  for (const std::string& name : services) {
    const ServiceDescriptor* service = DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    declared += static_cast<std::size_t>(service->method_count());
  }
  EXPECT_EQ(declared, UpstreamMethods().size());
}

TEST(MethodPath, GeneratedGrpcServicesReportTheUpstreamFullNames) {
  namespace rev2 = build::bazel::remote::execution::v2;
  EXPECT_STREQ(rev2::Execution::service_full_name(), "build.bazel.remote.execution.v2.Execution");
  EXPECT_STREQ(rev2::ContentAddressableStorage::service_full_name(),
               "build.bazel.remote.execution.v2.ContentAddressableStorage");
  EXPECT_STREQ(google::bytestream::ByteStream::service_full_name(), "google.bytestream.ByteStream");
  EXPECT_STREQ(google::longrunning::Operations::service_full_name(),
               "google.longrunning.Operations");
  EXPECT_STREQ(build::bazel::remote::asset::v1::Fetch::service_full_name(),
               "build.bazel.remote.asset.v1.Fetch");
}

}  // namespace
