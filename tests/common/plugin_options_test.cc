#include "cairn/plugin_options.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(PluginOptionsTest, UnknownKeysAreRejectedNamingThemAndTheKnownOnes) {
  StatusOr<PluginOptions> options = PluginOptions::Parse("path: /x\npaht: /y\n", "cas-local");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(*options->GetString("path", ""), "/x");
  Status finished = options->Finish();
  EXPECT_EQ(finished.code(), Code::kInvalidArgument);
  EXPECT_NE(finished.message().find("'paht'"), std::string::npos);
  EXPECT_NE(finished.message().find("path"), std::string::npos);
}

TEST(PluginOptionsTest, SectionsAreReadLikeOptionsAndNamedByTheirPath) {
  StatusOr<PluginOptions> options = PluginOptions::Parse(
      "url: grpc://h:1\nconnection-config:\n  retry-limit: 3\n  retyr-delay: 5\n", "remote");
  ASSERT_TRUE(options.ok());
  StatusOr<std::optional<PluginOptions>> section = options->GetSection("connection-config");
  ASSERT_TRUE(section.ok() && section->has_value());
  EXPECT_EQ(*(*section)->GetInt("retry-limit", 0), 3);
  Status finished = (*section)->Finish();
  EXPECT_EQ(finished.code(), Code::kInvalidArgument);
  EXPECT_NE(finished.message().find("'connection-config.retyr-delay'"), std::string::npos)
      << finished.message();
  EXPECT_FALSE((*options->GetSection("storage-service")).has_value());
  EXPECT_EQ(options->GetSection("url").status().code(), Code::kInvalidArgument);
}

TEST(PluginOptionsTest, EmptyTextMeansNoOptions) {
  StatusOr<PluginOptions> options = PluginOptions::Parse("", "bwrap");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(*options->GetString("bwrap-path", "bwrap"), "bwrap");
  EXPECT_TRUE(options->Finish().ok());
}

TEST(PluginOptionsTest, TypedGettersReportTheOptionWhenTheTypeIsWrong) {
  StatusOr<PluginOptions> options = PluginOptions::Parse("threads: many\n", "p");
  ASSERT_TRUE(options.ok());
  StatusOr<int64_t> threads = options->GetInt("threads", 2);
  EXPECT_EQ(threads.status().code(), Code::kInvalidArgument);
  EXPECT_NE(threads.status().message().find("threads"), std::string::npos);
}

TEST(PluginOptionsTest, AListWhereAStringBelongsIsAnErrorNotTheDefault) {
  StatusOr<PluginOptions> options = PluginOptions::Parse("bwrap-path: [a, b]\n", "bwrap");
  ASSERT_TRUE(options.ok());
  StatusOr<std::string> path = options->GetString("bwrap-path", "bwrap");
  EXPECT_EQ(path.status().code(), Code::kInvalidArgument);
  EXPECT_NE(path.status().message().find("'bwrap-path'"), std::string::npos);
}

TEST(PluginOptionsTest, NonMappingOptionsAreRejected) {
  EXPECT_EQ(PluginOptions::Parse("- a\n- b\n", "p").status().code(), Code::kInvalidArgument);
}

TEST(ParseByteSizeTest, UnderstandsBinaryUnits) {
  EXPECT_EQ(*ParseByteSize("512"), 512u);
  EXPECT_EQ(*ParseByteSize("10K"), 10240u);
  EXPECT_EQ(*ParseByteSize("2MiB"), 2u << 20);
  EXPECT_EQ(*ParseByteSize("1.5G"), 3u << 29);
  EXPECT_EQ(ParseByteSize("12 parsecs").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseByteSize("lots").status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cairn
