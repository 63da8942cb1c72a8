// Plugin options cross the ABI as ConfigNode::ToYaml() text that the
// plugin parses again: every tree Parse can produce must print as YAML that
// parses back to the same tree, whatever its scalars look like.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cairn/runtime/config_node.h"

namespace cairn {
namespace {

const std::vector<std::string>& AwkwardScalars() {
  static const std::vector<std::string> kScalars = {
      "---",  "...",  "--- x", "... x",        "---x",  "",     " ",      "~",   "null",
      "Null", "true", "no",    "0x1f",         "1e3",   ".inf", "a: b",   "- x", "-",
      "? x",  "#x",   "x #y",  "&a",           "*a",    "!x",   "%YAML",  "|",   ">",
      "'",    "\"",   " x",    "x ",           "\n",    "x\ny", "\t",     "{",   "[",
      "@",    "`",    "é",     "\xef\xbf\xbf", "-(-\r", "a\rb", "x\r\ny", "\r"};
  return kScalars;
}

void ExpectRoundTrip(const std::string& document) {
  StatusOr<ConfigNode> node = ConfigNode::Parse(document, "in.yaml");
  ASSERT_TRUE(node.ok()) << document << "\n" << node.status().ToString();
  std::string printed = node->ToYaml();
  StatusOr<ConfigNode> again = ConfigNode::Parse(printed, "again.yaml");
  ASSERT_TRUE(again.ok()) << "printed:\n" << printed << "\n" << again.status().ToString();
  EXPECT_TRUE(node->SameContent(*again)) << "from:\n"
                                         << document << "\nprinted:\n"
                                         << printed << "\nwhich parses as:\n"
                                         << again->ToYaml();
}

TEST(ConfigRoundTripTest, ATopLevelScalarThatLooksLikeADocumentMarkerStaysAScalar) {
  // Found by the configuration fuzzer: "  ---" is the scalar "---", which
  // printed bare is a document start.
  ExpectRoundTrip("  ---");
  ExpectRoundTrip("  ...");
}

TEST(ConfigRoundTripTest, AwkwardScalarsSurviveAtTheTopInSequencesAndInMaps) {
  for (const std::string& scalar : AwkwardScalars()) {
    std::string quoted = QuoteYaml(scalar);
    ExpectRoundTrip(quoted);
    ExpectRoundTrip("- " + quoted + "\n- [" + quoted + "]\n");
    ExpectRoundTrip("key: " + quoted + "\n" + quoted + ": value\nnested: {" + quoted + ": " +
                    quoted + "}\n");
  }
}

TEST(ConfigRoundTripTest, ControlCharactersAndUtf16AreRefusedWhereTheyStand) {
  // Found by the configuration fuzzer: a document starting with a NUL was
  // read as UTF-16, and its text did not survive the round trip.
  StatusOr<ConfigNode> nul = ConfigNode::Parse(std::string("a: 1\nb: \0\n", 10), "in.yaml");
  ASSERT_FALSE(nul.ok());
  EXPECT_NE(nul.status().message().find("in.yaml:2:4: control character"), std::string::npos)
      << nul.status().ToString();
  StatusOr<ConfigNode> utf16 = ConfigNode::Parse(std::string("\xff\xfe"
                                                             "a\0:\0 \0b\0",
                                                             10),
                                                 "in.yaml");
  ASSERT_FALSE(utf16.ok());
  EXPECT_NE(utf16.status().message().find("in.yaml:1:1: the text is not UTF-8"), std::string::npos)
      << utf16.status().ToString();
}

TEST(ConfigRoundTripTest, ACarriageReturnInAKeyStaysInTheKey) {
  // Found by the configuration fuzzer.
  ExpectRoundTrip(" -s: &s\n - -(-\r # -`-arn -   -- -: *s\n )");
}

TEST(ConfigRoundTripTest, NullsEmptyCollectionsAndNestingKeepTheirShape) {
  ExpectRoundTrip("a: ~\nb: []\nc: {}\nd: [[], [~], {x: [{}]}]\n");
}

}  // namespace
}  // namespace cairn
