// Numbers in plugin options are range-checked: a value past 64 bits or past
// what the option allows is an error naming the value and the range, never
// a saturated or wrapped number.
#include <gtest/gtest.h>

#include "cairn/plugin_options.h"

namespace cairn {
namespace {

TEST(OptionRangeTest, AQuotaPastSixtyFourBitsIsAnErrorNamingTheValueAndTheRange) {
  StatusOr<uint64_t> bytes = ParseByteSize("99999999999999999999999G");
  ASSERT_FALSE(bytes.ok()) << "parsed as " << *bytes;
  EXPECT_EQ(bytes.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bytes.status().message().find("'99999999999999999999999G' is out of range "
                                          "(allowed 0 to 4611686018427387904 bytes)"),
            std::string::npos)
      << bytes.status().message();
}

TEST(OptionRangeTest, AThousandDigitSizeIsAnErrorNotAnException) {
  EXPECT_EQ(ParseByteSize(std::string(1000, '9')).status().code(), Code::kInvalidArgument);
}

TEST(OptionRangeTest, TheLargestAllowedSizeStillParses) {
  StatusOr<uint64_t> bytes = ParseByteSize("4194304T");
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(*bytes, kMaxByteSize);
}

TEST(OptionRangeTest, ASizeWithTwoDecimalPointsIsNotASize) {
  EXPECT_EQ(ParseByteSize("1.2.3G").status().code(), Code::kInvalidArgument);
}

TEST(OptionRangeTest, AnIntegerPastSixtyFourBitsIsAnErrorNamingTheValueAndTheRange) {
  StatusOr<PluginOptions> options = PluginOptions::Parse("n: 99999999999999999999999", "demo");
  ASSERT_TRUE(options.ok());
  StatusOr<int64_t> n = options->GetInt("n", 0, 1, 64);
  ASSERT_FALSE(n.ok()) << "read as " << *n;
  EXPECT_EQ(n.status().message(),
            "demo option 'n': '99999999999999999999999' is out of range (allowed from 1 to 64)");
}

TEST(OptionRangeTest, AnIntegerOutsideTheOptionsRangeIsAnError) {
  StatusOr<PluginOptions> options = PluginOptions::Parse("n: 65", "demo");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->GetInt("n", 0, 1, 64).status().code(), Code::kInvalidArgument);
  StatusOr<PluginOptions> inside = PluginOptions::Parse("n: 64", "demo");
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(*inside->GetInt("n", 0, 1, 64), 64);
}

}  // namespace
}  // namespace cairn
