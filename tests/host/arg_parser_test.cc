#include "cairn/host/arg_parser.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(ArgParserTest, ParsesSwitchesValuesListsAndPositionals) {
  ArgParser parser("test");
  bool hardlinks = false;
  std::string cwd;
  std::vector<std::string> env;
  parser.AddSwitch("hardlinks", &hardlinks, "");
  parser.AddString("cwd", &cwd, "");
  parser.AddList("env", &env, "", 'e');
  std::vector<std::string> positional;
  Status status = parser.Parse(
      {"a", "--hardlinks", "--cwd=build", "-e", "A=1", "--env", "B=2", "b"}, &positional);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(hardlinks);
  EXPECT_EQ(cwd, "build");
  EXPECT_EQ(env, (std::vector<std::string>{"A=1", "B=2"}));
  EXPECT_EQ(positional, (std::vector<std::string>{"a", "b"}));
}

TEST(ArgParserTest, DoubleDashEndsOptions) {
  ArgParser parser("run");
  std::vector<std::string> positional;
  ASSERT_TRUE(parser.Parse({"--", "sh", "-c", "--help"}, &positional).ok());
  EXPECT_EQ(positional, (std::vector<std::string>{"sh", "-c", "--help"}));
  EXPECT_FALSE(parser.help_requested());
}

TEST(ArgParserTest, UnknownOptionAndMissingValueAreNamed) {
  ArgParser parser("cas stage");
  std::string value;
  parser.AddString("to", &value, "");
  std::vector<std::string> positional;
  Status unknown = parser.Parse({"--hardlink"}, &positional);
  EXPECT_EQ(unknown.code(), Code::kInvalidArgument);
  EXPECT_EQ(unknown.message(), "cas stage: unknown option '--hardlink'");
  Status missing = parser.Parse({"--to"}, &positional);
  EXPECT_EQ(missing.message(), "cas stage: option '--to' needs a value");
}

TEST(ArgParserTest, HelpIsRequestedNotAnError) {
  ArgParser parser("x");
  std::vector<std::string> positional;
  ASSERT_TRUE(parser.Parse({"-h"}, &positional).ok());
  EXPECT_TRUE(parser.help_requested());
}

}  // namespace
}  // namespace cairn
