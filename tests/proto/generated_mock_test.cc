// The gmock stubs generated with generate_mock_code=true let unit tests
// inject a fake CAS into code that takes a StubInterface, as STYLE.md §13
// asks of gRPC clients.

#include <gmock/gmock.h>
#include <grpcpp/client_context.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution_mock.grpc.pb.h"
#include "google/bytestream/bytestream_mock.grpc.pb.h"

namespace {

namespace rev2 = build::bazel::remote::execution::v2;

using testing::_;
using testing::DoAll;
using testing::Return;
using testing::SetArgPointee;

// Stands in for client code: it only knows the stub interface.
std::vector<std::string> MissingHashes(
    rev2::ContentAddressableStorage::StubInterface& cas,
    const std::vector<std::string>& hashes) {
  rev2::FindMissingBlobsRequest request;
  for (const std::string& hash : hashes) {
    rev2::Digest* digest = request.add_blob_digests();
    digest->set_hash(hash);
    digest->set_size_bytes(1);
  }
  rev2::FindMissingBlobsResponse response;
  grpc::ClientContext context;
  std::vector<std::string> missing;
  if (!cas.FindMissingBlobs(&context, request, &response).ok()) return missing;
  for (const rev2::Digest& digest : response.missing_blob_digests()) {
    missing.push_back(digest.hash());
  }
  return missing;
}

TEST(GeneratedMock, MockCasStubAnswersFindMissingBlobsThroughTheStubInterface) {
  rev2::MockContentAddressableStorageStub cas;

  rev2::FindMissingBlobsResponse canned;
  canned.add_missing_blob_digests()->set_hash("bb");

  EXPECT_CALL(cas, FindMissingBlobs(_, _, _))
      .WillOnce([&](grpc::ClientContext*,
                    const rev2::FindMissingBlobsRequest& request,
                    rev2::FindMissingBlobsResponse* response) {
        EXPECT_EQ(request.blob_digests_size(), 2);
        *response = canned;
        return grpc::Status::OK;
      });

  EXPECT_EQ(MissingHashes(cas, {"aa", "bb"}), std::vector<std::string>{"bb"});
}

TEST(GeneratedMock, MockCasStubCanReportAnRpcError) {
  rev2::MockContentAddressableStorageStub cas;
  EXPECT_CALL(cas, FindMissingBlobs(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(rev2::FindMissingBlobsResponse()),
                      Return(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                          "cas is down"))));
  EXPECT_TRUE(MissingHashes(cas, {"aa"}).empty());
}

TEST(GeneratedMock, MockByteStreamStubAnswersQueryWriteStatus) {
  google::bytestream::MockByteStreamStub byte_stream;
  google::bytestream::QueryWriteStatusResponse canned;
  canned.set_committed_size(42);
  EXPECT_CALL(byte_stream, QueryWriteStatus(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(canned), Return(grpc::Status::OK)));

  google::bytestream::ByteStream::StubInterface& stub = byte_stream;
  grpc::ClientContext context;
  google::bytestream::QueryWriteStatusResponse response;
  ASSERT_TRUE(stub.QueryWriteStatus(&context, {}, &response).ok());
  EXPECT_EQ(response.committed_size(), 42);
}

}  // namespace
