#include "cairn/project/expression.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "cairn/project/options.h"

namespace cairn::project {
namespace {

class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() {
    values_["debug"] = ConditionValue::Bool(true);
    values_["release"] = ConditionValue::Bool(false);
    values_["arch"] = ConditionValue::String("x86_64");
    values_["empty"] = ConditionValue::String("");
    values_["flags"] = ConditionValue::StringList({"docs", "tests"});
    values_["none"] = ConditionValue::StringList({});
    values_["jobs"] = ConditionValue::Number(4);
  }

  bool Eval(const std::string& expression) {
    StatusOr<bool> result = EvaluateCondition(expression, Lookup());
    EXPECT_TRUE(result.ok()) << expression << ": " << result.status().message();
    return result.ok() && *result;
  }

  std::string Error(const std::string& expression) {
    StatusOr<bool> result = EvaluateCondition(expression, Lookup());
    EXPECT_FALSE(result.ok()) << expression;
    if (result.ok()) return "";
    EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
    return result.status().message();
  }

  ConditionLookup Lookup() {
    return [this](const std::string& name) -> const ConditionValue* {
      auto found = values_.find(name);
      return found == values_.end() ? nullptr : &found->second;
    };
  }

  std::map<std::string, ConditionValue> values_;
};

TEST_F(ExpressionTest, BoolOptionsAreTruthValues) {
  EXPECT_TRUE(Eval("debug"));
  EXPECT_FALSE(Eval("release"));
  EXPECT_TRUE(Eval("debug == true"));
  EXPECT_TRUE(Eval("debug == True"));
  EXPECT_TRUE(Eval("release == False"));
  EXPECT_FALSE(Eval("debug == 'true'"));  // a bool is not a string, as in Python
  EXPECT_TRUE(Eval("debug == 1"));        // but True == 1
}

TEST_F(ExpressionTest, StringComparisonsWithEitherQuote) {
  EXPECT_TRUE(Eval("arch == 'x86_64'"));
  EXPECT_TRUE(Eval("arch == \"x86_64\""));
  EXPECT_FALSE(Eval("arch != 'x86_64'"));
  EXPECT_TRUE(Eval("arch != 'aarch64'"));
  EXPECT_TRUE(Eval("'it\\'s' == \"it's\""));
}

TEST_F(ExpressionTest, LogicFollowsJinjaPrecedence) {
  EXPECT_TRUE(Eval("release or debug and arch == 'x86_64'"));
  EXPECT_FALSE(Eval("(release or debug) and arch == 'i686'"));
  EXPECT_TRUE(Eval("not release"));
  EXPECT_TRUE(Eval("not arch == 'i686'"));  // not binds weaker than ==
  EXPECT_TRUE(Eval("not not debug"));
  EXPECT_FALSE(Eval("debug and release"));
}

TEST_F(ExpressionTest, InTestsFlagsListsAndSubstrings) {
  EXPECT_TRUE(Eval("'docs' in flags"));
  EXPECT_FALSE(Eval("'gui' in flags"));
  EXPECT_TRUE(Eval("'gui' not in flags"));
  EXPECT_FALSE(Eval("'docs' in none"));
  EXPECT_TRUE(Eval("arch in ['x86_64', 'i686']"));
  EXPECT_TRUE(Eval("arch in ('aarch64', 'x86_64')"));
  EXPECT_TRUE(Eval("'86' in arch"));
  EXPECT_FALSE(Eval("arch not in ['x86_64']"));
}

TEST_F(ExpressionTest, TruthOfStringsListsAndNumbers) {
  EXPECT_TRUE(Eval("arch"));
  EXPECT_FALSE(Eval("empty"));
  EXPECT_TRUE(Eval("flags"));
  EXPECT_FALSE(Eval("none"));
  EXPECT_TRUE(Eval("jobs"));
  EXPECT_FALSE(Eval("0"));
}

TEST_F(ExpressionTest, NumbersCompareNumerically) {
  EXPECT_TRUE(Eval("jobs == 4"));
  EXPECT_TRUE(Eval("jobs == 4.0"));
  EXPECT_TRUE(Eval("jobs > 2 and jobs <= 4"));
  EXPECT_TRUE(Eval("1 < jobs < 5"));
  EXPECT_FALSE(Eval("1 < jobs < 3"));
  EXPECT_TRUE(Eval("-1 < 0"));
  EXPECT_TRUE(Eval("'a' < 'b'"));
}

TEST_F(ExpressionTest, ListsCompareItemByItem) {
  EXPECT_TRUE(Eval("flags == ['docs', 'tests']"));
  EXPECT_FALSE(Eval("flags == ['tests', 'docs']"));
  EXPECT_TRUE(Eval("none == []"));
}

TEST_F(ExpressionTest, UnknownNameIsAnErrorWithItsColumn) {
  EXPECT_EQ(Error("debug and missing == 'x'"), "column 11: 'missing' is undefined");
  // Even where Python would not evaluate it.
  EXPECT_EQ(Error("release and missing"), "column 13: 'missing' is undefined");
}

TEST_F(ExpressionTest, SyntaxErrorsNameTheColumn) {
  EXPECT_EQ(Error("arch == "), "column 9: unexpected end of expression");
  EXPECT_EQ(Error("arch = 'x'"), "column 6: unexpected character '='");
  EXPECT_EQ(Error("(debug"), "column 7: unexpected end of expression");
  EXPECT_EQ(Error("debug release"), "column 7: unexpected 'release'");
  EXPECT_EQ(Error("arch == 'x"), "column 9: unterminated string");
  EXPECT_EQ(Error("and"), "column 1: unexpected 'and'");
  EXPECT_EQ(Error(""), "column 1: unexpected end of expression");
}

TEST_F(ExpressionTest, TypeErrorsAreErrors) {
  EXPECT_EQ(Error("'x' in debug"), "column 5: argument of type 'bool' is not iterable");
  EXPECT_EQ(Error("1 in arch"), "column 3: 'in <string>' requires string as left operand, not int");
  EXPECT_EQ(Error("arch < 1"), "column 6: '<' not supported between instances of 'str' and 'int'");
}

TEST(ExpressionOptionPoolTest, ReadsTheOptionsValues) {
  OptionPool pool("x86_64");
  StatusOr<ConfigNode> options = ConfigNode::Parse(
      "debug: {type: bool, description: d, default: true}\n"
      "target: {type: enum, description: t, values: [a, b], default: b}\n",
      "project.conf");
  ASSERT_TRUE(options.ok());
  ASSERT_TRUE(pool.Declare(*options).ok());
  StatusOr<bool> result = EvaluateCondition("debug and target == 'b'", pool);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(*result);
  result = EvaluateCondition("target == 'a'", pool);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(*result);
}

}  // namespace
}  // namespace cairn::project
