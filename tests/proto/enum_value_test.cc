// Enum numbers are what travels on the wire; their lowercase names also
// appear in ByteStream resource names ("blake3/", "zstd/").

#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"

namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::EnumDescriptor;

struct UpstreamEnum {
  std::string full_name;
  std::vector<std::pair<std::string, int>> values;
};

const std::vector<UpstreamEnum>& UpstreamEnums() {
  static const std::vector<UpstreamEnum> kEnums = {
      {"build.bazel.remote.execution.v2.DigestFunction.Value",
       {{"UNKNOWN", 0},
        {"SHA256", 1},
        {"SHA1", 2},
        {"MD5", 3},
        {"VSO", 4},
        {"SHA384", 5},
        {"SHA512", 6},
        {"MURMUR3", 7},
        {"SHA256TREE", 8},
        {"BLAKE3", 9},
        {"GITSHA1", 10}}},
      {"build.bazel.remote.execution.v2.ExecutionStage.Value",
       {{"UNKNOWN", 0}, {"CACHE_CHECK", 1}, {"QUEUED", 2}, {"EXECUTING", 3}, {"COMPLETED", 4}}},
      {"build.bazel.remote.execution.v2.Compressor.Value",
       {{"IDENTITY", 0}, {"ZSTD", 1}, {"DEFLATE", 2}, {"BROTLI", 3}}},
      {"build.bazel.remote.execution.v2.SymlinkAbsolutePathStrategy.Value",
       {{"UNKNOWN", 0}, {"DISALLOWED", 1}, {"ALLOWED", 2}}},
      {"build.bazel.remote.execution.v2.Command.OutputDirectoryFormat",
       {{"TREE_ONLY", 0}, {"DIRECTORY_ONLY", 1}, {"TREE_AND_DIRECTORY", 2}}},
      {"build.bazel.remote.execution.v2.ChunkingFunction.Value",
       {{"UNKNOWN", 0}, {"FAST_CDC_2020", 1}, {"REP_MAX_CDC", 2}}},
  };
  return kEnums;
}

TEST(UpstreamEnum, EveryEnumHasExactlyTheUpstreamNamesAndNumbers) {
  for (const UpstreamEnum& expected : UpstreamEnums()) {
    const EnumDescriptor* actual =
        DescriptorPool::generated_pool()->FindEnumTypeByName(expected.full_name);
    ASSERT_NE(actual, nullptr) << expected.full_name;
    EXPECT_EQ(actual->value_count(), static_cast<int>(expected.values.size()))
        << expected.full_name;
    for (const auto& [name, number] : expected.values) {
      const auto* value = actual->FindValueByName(name);
      ASSERT_NE(value, nullptr) << expected.full_name << "." << name;
      EXPECT_EQ(value->number(), number) << expected.full_name << "." << name;
    }
  }
}

TEST(UpstreamEnum, GeneratedCxxNamesKeepTheUpstreamWrapperNesting) {
  namespace rev2 = build::bazel::remote::execution::v2;
  EXPECT_EQ(rev2::DigestFunction::BLAKE3, 9);
  EXPECT_EQ(rev2::DigestFunction::GITSHA1, 10);
  EXPECT_EQ(rev2::ExecutionStage::COMPLETED, 4);
  EXPECT_EQ(rev2::Compressor::ZSTD, 1);
  EXPECT_EQ(rev2::SymlinkAbsolutePathStrategy::ALLOWED, 2);
  EXPECT_EQ(rev2::Command::TREE_AND_DIRECTORY, 2);
  EXPECT_EQ(rev2::ChunkingFunction::REP_MAX_CDC, 2);
}

}  // namespace
