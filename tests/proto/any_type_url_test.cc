// Messages packed into google.protobuf.Any are identified on the wire by
// their fully-qualified name, so a package or message name that drifts from
// upstream breaks every client that unpacks them.

#include <google/protobuf/any.pb.h>
#include <gtest/gtest.h>

#include <string>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "google/rpc/error_details.pb.h"

namespace {

namespace rev2 = build::bazel::remote::execution::v2;

template <typename Message>
std::string TypeUrlOf(const Message& message) {
  google::protobuf::Any any;
  any.PackFrom(message);
  return any.type_url();
}

TEST(AnyTypeUrl, ExecuteResponseIsPackedUnderTheUpstreamName) {
  EXPECT_EQ(TypeUrlOf(rev2::ExecuteResponse()),
            "type.googleapis.com/build.bazel.remote.execution.v2.ExecuteResponse");
}

TEST(AnyTypeUrl, ExecuteOperationMetadataIsPackedUnderTheUpstreamName) {
  EXPECT_EQ(TypeUrlOf(rev2::ExecuteOperationMetadata()),
            "type.googleapis.com/"
            "build.bazel.remote.execution.v2.ExecuteOperationMetadata");
}

TEST(AnyTypeUrl, PreconditionFailureIsPackedUnderTheUpstreamName) {
  EXPECT_EQ(TypeUrlOf(google::rpc::PreconditionFailure()),
            "type.googleapis.com/google.rpc.PreconditionFailure");
}

TEST(AnyTypeUrl, RetryInfoIsPackedUnderTheUpstreamName) {
  EXPECT_EQ(TypeUrlOf(google::rpc::RetryInfo()), "type.googleapis.com/google.rpc.RetryInfo");
}

TEST(AnyTypeUrl, BadRequestIsPackedUnderTheUpstreamName) {
  EXPECT_EQ(TypeUrlOf(google::rpc::BadRequest()), "type.googleapis.com/google.rpc.BadRequest");
}

TEST(AnyTypeUrl, AnAnyWithTheUpstreamUrlUnpacksIntoExecuteResponse) {
  // What an upstream server puts in Operation.response, built by hand.
  google::protobuf::Any any;
  any.set_type_url("type.googleapis.com/build.bazel.remote.execution.v2.ExecuteResponse");
  any.set_value(std::string("\x10\x01", 2));  // cached_result = true

  rev2::ExecuteResponse response;
  ASSERT_TRUE(any.Is<rev2::ExecuteResponse>());
  ASSERT_TRUE(any.UnpackTo(&response));
  EXPECT_TRUE(response.cached_result());
}

}  // namespace
