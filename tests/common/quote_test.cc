// Hostile names printed as one token on one line (cairn/quote.h), and
// JSON strings that round-trip any bytes (cairn/json_writer.h).
#include <gtest/gtest.h>

#include "cairn/json_writer.h"
#include "cairn/quote.h"
#include "json_reader.h"

namespace cairn {
namespace {

TEST(QuoteTest, OrdinaryNamesArePrintedAsTheyAre) {
  EXPECT_EQ(QuoteName("sub/run.sh"), "sub/run.sh");
  EXPECT_EQ(QuoteName("caf\xc3\xa9"), "caf\xc3\xa9");
}

TEST(QuoteTest, ANewlineIsEscapedInsideQuotes) { EXPECT_EQ(QuoteName("a\nb"), "\"a\\nb\""); }

TEST(QuoteTest, InvalidUtf8AndControlBytesBecomeOctal) {
  EXPECT_EQ(QuoteName("bad\xff\x1b[31m"), "\"bad\\377\\033[31m\"");
  // An overlong '/' and a lone surrogate are not valid UTF-8 either.
  EXPECT_EQ(QuoteName("\xc0\xaf"), "\"\\300\\257\"");
  EXPECT_EQ(QuoteName("\xed\xa0\x80"), "\"\\355\\240\\200\"");
}

TEST(QuoteTest, SpacesQuotesAndBackslashesAreQuotedSoOneNameStaysOneToken) {
  EXPECT_EQ(QuoteName("a -> b"), "\"a -> b\"");
  EXPECT_EQ(QuoteName("say \"hi\"\\"), "\"say \\\"hi\\\"\\\\\"");
  EXPECT_EQ(QuoteName(""), "\"\"");
}

TEST(QuoteTest, AC1ControlCharacterIsEscapedThoughValidUtf8) {
  EXPECT_EQ(QuoteName("x\xc2\x9by"), "\"x\\302\\233y\"");
}

TEST(JsonWriterTest, ControlCharactersAndInvalidUtf8RoundTripThroughAReader) {
  std::string hostile = "new\nline \"q\" \\ tab\t nul";
  hostile.push_back('\0');
  hostile += "\x7f\xff\xfe caf\xc3\xa9";
  JsonWriter json;
  json.BeginObject().Key("name").String(hostile).Key("n").Int(-3);
  json.Key("list").BeginArray().Bool(true).Null().EndArray().EndObject();
  EXPECT_EQ(json.text().find('\n'), std::string::npos) << json.text();
  std::optional<testing::JsonValue> parsed = testing::JsonReader::Parse(json.text());
  ASSERT_TRUE(parsed.has_value()) << json.text();
  ASSERT_NE(parsed->Get("name"), nullptr);
  EXPECT_EQ(parsed->Get("name")->string, hostile);
  EXPECT_EQ(parsed->Get("n")->number, -3);
  ASSERT_EQ(parsed->Get("list")->array.size(), 2u);
  EXPECT_TRUE(parsed->Get("list")->array[0].boolean);
}

TEST(JsonWriterTest, InvalidUtf8IsWrittenAsEscapedSurrogates) {
  JsonWriter json;
  json.String("\xff");
  EXPECT_EQ(json.text(), "\"\\udcff\"");
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

TEST(EscapeMessageTest, KeepsTextNewlinesTabsAndUtf8AndEscapesTheRest) {
  EXPECT_EQ(EscapeMessage("line one\n\tline two: caf\xc3\xa9"),
            "line one\n\tline two: caf\xc3\xa9");
  EXPECT_EQ(EscapeMessage("a\x1b[2Jb"), "a\\033[2Jb");
  EXPECT_EQ(EscapeMessage("bad \xff byte\r"), "bad \\377 byte\\015");
  EXPECT_EQ(EscapeMessage("del\x7f"), "del\\177");
}

}  // namespace
}  // namespace cairn
