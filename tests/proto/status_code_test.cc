// google.rpc.Code numbers travel in google.rpc.Status.code and in plugin
// return values; they must be the gRPC status codes.

#include <grpcpp/support/status_code_enum.h>
#include <gtest/gtest.h>

#include "google/rpc/code.pb.h"

namespace {

struct CodePair {
  google::rpc::Code rpc_code;
  grpc::StatusCode grpc_code;
};

constexpr CodePair kAllCodes[] = {
    {google::rpc::OK, grpc::StatusCode::OK},
    {google::rpc::CANCELLED, grpc::StatusCode::CANCELLED},
    {google::rpc::UNKNOWN, grpc::StatusCode::UNKNOWN},
    {google::rpc::INVALID_ARGUMENT, grpc::StatusCode::INVALID_ARGUMENT},
    {google::rpc::DEADLINE_EXCEEDED, grpc::StatusCode::DEADLINE_EXCEEDED},
    {google::rpc::NOT_FOUND, grpc::StatusCode::NOT_FOUND},
    {google::rpc::ALREADY_EXISTS, grpc::StatusCode::ALREADY_EXISTS},
    {google::rpc::PERMISSION_DENIED, grpc::StatusCode::PERMISSION_DENIED},
    {google::rpc::RESOURCE_EXHAUSTED, grpc::StatusCode::RESOURCE_EXHAUSTED},
    {google::rpc::FAILED_PRECONDITION, grpc::StatusCode::FAILED_PRECONDITION},
    {google::rpc::ABORTED, grpc::StatusCode::ABORTED},
    {google::rpc::OUT_OF_RANGE, grpc::StatusCode::OUT_OF_RANGE},
    {google::rpc::UNIMPLEMENTED, grpc::StatusCode::UNIMPLEMENTED},
    {google::rpc::INTERNAL, grpc::StatusCode::INTERNAL},
    {google::rpc::UNAVAILABLE, grpc::StatusCode::UNAVAILABLE},
    {google::rpc::DATA_LOSS, grpc::StatusCode::DATA_LOSS},
    {google::rpc::UNAUTHENTICATED, grpc::StatusCode::UNAUTHENTICATED},
};

TEST(StatusCode, EveryGoogleRpcCodeEqualsTheGrpcStatusCodeOfTheSameName) {
  for (const CodePair& pair : kAllCodes) {
    const std::string& name = google::rpc::Code_Name(pair.rpc_code);
    EXPECT_EQ(static_cast<int>(pair.rpc_code), static_cast<int>(pair.grpc_code)) << name;
  }
}

TEST(StatusCode, GoogleRpcCodeHasExactlyTheSeventeenGrpcCodes) {
  const google::protobuf::EnumDescriptor* code = google::rpc::Code_descriptor();
  ASSERT_EQ(code->value_count(), 17);
  for (int number = 0; number < 17; ++number) {
    EXPECT_NE(code->FindValueByNumber(number), nullptr) << number;
  }
  EXPECT_EQ(code->full_name(), "google.rpc.Code");
}

}  // namespace
