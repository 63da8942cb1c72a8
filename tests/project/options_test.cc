#include "cairn/project/options.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace cairn::project {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

const SourceLocation kCommandLine{"<command line>"};

ConfigNode Parse(const std::string& text, const std::string& file = "project.conf") {
  StatusOr<ConfigNode> node = ConfigNode::Parse(text, file);
  EXPECT_TRUE(node.ok()) << node.status().message();
  return node.ok() ? std::move(node).value() : ConfigNode();
}

constexpr char kOptions[] =
    "debug:\n"
    "  type: bool\n"
    "  description: Debugging\n"
    "  default: false\n"
    "  variable: debug-build\n"
    "target:\n"
    "  type: enum\n"
    "  description: Target\n"
    "  values: [desktop, phone]\n"
    "  default: desktop\n"
    "extras:\n"
    "  type: flags\n"
    "  description: Extras\n"
    "  values: [docs, tests, gui]\n"
    "  default: [tests, docs]\n"
    "  variable: extras\n"
    "machine:\n"
    "  type: arch\n"
    "  description: Machine\n"
    "  values: [x86_64, aarch64]\n";

class OptionPoolTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pool_.Declare(Parse(kOptions)).ok()); }

  // `text` after its conditionals, as YAML with no positions.
  std::string Processed(const std::string& text) {
    ConfigNode node = Parse(text, "element.bst");
    Status status = pool_.ProcessConditionals(node);
    if (!status.ok()) return "error: " + status.message();
    return node.ToYaml();
  }
  std::string ProcessError(const std::string& text) {
    ConfigNode node = Parse(text, "element.bst");
    Status status = pool_.ProcessConditionals(node);
    EXPECT_FALSE(status.ok());
    return status.message();
  }
  static std::string Yaml(const std::string& text) { return Parse(text).ToYaml(); }

  OptionPool pool_{"x86_64"};
};

std::string DeclareError(const std::string& text) {
  OptionPool pool("x86_64");
  Status status = pool.Declare(Parse(text));
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  return status.message();
}

TEST_F(OptionPoolTest, DefaultsAreTheValuesSortedByName) {
  EXPECT_EQ(
      pool_.Values(),
      (Pairs{
          {"debug", "0"}, {"extras", "tests,docs"}, {"machine", "x86_64"}, {"target", "desktop"}}));
}

TEST_F(OptionPoolTest, ExportedVariablesFollowDeclarationOrderLikeBst) {
  EXPECT_EQ(pool_.ExportedVariables(), (Pairs{{"debug-build", "0"}, {"extras", "tests,docs"}}));
  ASSERT_TRUE(pool_.Set("debug", "True", kCommandLine).ok());
  EXPECT_EQ(pool_.ExportedVariables()[0],
            (std::pair<std::string, std::string>{"debug-build", "1"}));
}

TEST_F(OptionPoolTest, CommandLineValuesOfEachType) {
  ASSERT_TRUE(pool_.Set("debug", "true", kCommandLine).ok());
  ASSERT_TRUE(pool_.Set("target", "phone", kCommandLine).ok());
  ASSERT_TRUE(pool_.Set("extras", " gui , docs", kCommandLine).ok());
  ASSERT_TRUE(pool_.Set("machine", "aarch64", kCommandLine).ok());
  EXPECT_EQ(
      pool_.Values(),
      (Pairs{{"debug", "1"}, {"extras", "docs,gui"}, {"machine", "aarch64"}, {"target", "phone"}}));
}

TEST_F(OptionPoolTest, UnknownOptionNamesItAndWhereItCameFrom) {
  Status status = pool_.Set("colour", "red", kCommandLine);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "<command line>: unknown option 'colour' (set to 'red')");
  status = pool_.Set("colour", "red", SourceLocation{"user.yaml", 4, 7});
  EXPECT_EQ(status.message(), "user.yaml:4:7: unknown option 'colour' (set to 'red')");
}

TEST_F(OptionPoolTest, InvalidValuesNameTheOptionAndTheValidValues) {
  EXPECT_EQ(pool_.Set("debug", "yes", kCommandLine).message(),
            "<command line>: invalid value 'yes' for bool option 'debug' (valid values: true, "
            "false)");
  EXPECT_EQ(pool_.Set("target", "tv", kCommandLine).message(),
            "<command line>: invalid value 'tv' for enum option 'target' (valid values: desktop, "
            "phone)");
  EXPECT_EQ(pool_.Set("extras", "docs,web", kCommandLine).message(),
            "<command line>: invalid value 'web' for flags option 'extras' (valid values: docs, "
            "tests, gui)");
  EXPECT_EQ(pool_.Set("machine", "riscv64", kCommandLine).message(),
            "<command line>: invalid value 'riscv64' for arch option 'machine' (valid values: "
            "x86_64, aarch64)");
  // A failed Set leaves the value as it was.
  EXPECT_EQ(pool_.Values()[3].second, "desktop");
}

TEST_F(OptionPoolTest, ValuesFromYamlAcceptFlagListsAndYamlBooleans) {
  ASSERT_TRUE(pool_.SetValues(Parse("debug: TRUE\nextras: [gui, docs]\n", "user.yaml")).ok());
  EXPECT_EQ(pool_.Values()[0].second, "1");
  EXPECT_EQ(pool_.Values()[1].second, "docs,gui");
  Status status = pool_.SetValues(Parse("target: tv\n", "user.yaml"));
  EXPECT_EQ(status.message(),
            "user.yaml:1:9: invalid value 'tv' for enum option 'target' (valid values: desktop, "
            "phone)");
  EXPECT_EQ(pool_.SetValues(Parse("nope: 1\n", "user.yaml")).message(),
            "user.yaml:1:1: unknown option 'nope'");
}

TEST(OptionPoolArchTest, HostArchitectureMustBeAValueUnlessSet) {
  OptionPool pool("riscv64");
  ASSERT_TRUE(
      pool.Declare(Parse("machine:\n  type: arch\n  description: m\n  values: [x86_64]\n")).ok());
  const std::string expected =
      "project.conf:1:1: the host architecture 'riscv64' is not a valid value of arch option "
      "'machine' (valid values: x86_64); set one with -o machine VALUE";
  EXPECT_EQ(pool.Resolve().message(), expected);
  ConfigNode node = Parse("a: 1\n");
  EXPECT_EQ(pool.ProcessConditionals(node).message(), expected);
  ASSERT_TRUE(pool.Set("machine", "x86_64", kCommandLine).ok());
  EXPECT_TRUE(pool.Resolve().ok());
}

TEST(OptionPoolArchTest, DefaultsToTheHostMachine) {
  OptionPool pool;
  ASSERT_TRUE(pool.Declare(Parse("m:\n  type: arch\n  description: m\n  values: [x]\n")).ok());
  EXPECT_FALSE(pool.Values()[0].second.empty());
}

TEST(OptionPoolDeclareTest, ErrorsNameThePlace) {
  EXPECT_EQ(DeclareError("my-opt: {type: bool, description: d, default: true}\n"),
            "project.conf:1:1: invalid option name 'my-opt': use letters, digits and underscores, "
            "not starting with a digit");
  EXPECT_EQ(DeclareError("o:\n  description: d\n"), "project.conf:2:3: option 'o' has no 'type'");
  EXPECT_EQ(DeclareError("o:\n  type: string\n  description: d\n"),
            "project.conf:2:9: invalid type 'string' for option 'o' (bool, enum, flags or arch)");
  EXPECT_EQ(DeclareError("o:\n  type: bool\n  default: true\n"),
            "project.conf:2:3: option 'o' has no 'description'");
  EXPECT_EQ(DeclareError("o:\n  type: bool\n  description: d\n"),
            "project.conf:2:3: bool option 'o' has no 'default'");
  EXPECT_EQ(DeclareError("o:\n  type: bool\n  description: d\n  default: yes\n"),
            "project.conf:4:12: the default of bool option 'o' must be true or false");
  EXPECT_EQ(DeclareError("o:\n  type: bool\n  description: d\n  default: true\n  values: [a]\n"),
            "project.conf:5:3: unexpected key 'values' in bool option 'o'");
  EXPECT_EQ(DeclareError("o:\n  type: arch\n  description: d\n  values: [a]\n  default: a\n"),
            "project.conf:5:3: unexpected key 'default' in arch option 'o'");
  EXPECT_EQ(DeclareError("o:\n  type: enum\n  description: d\n  default: a\n"),
            "project.conf:2:3: no values specified for enum option 'o'");
  EXPECT_EQ(DeclareError("o:\n  type: enum\n  description: d\n  values: [a, b]\n  default: c\n"),
            "project.conf:5:12: invalid default for enum option 'o': c (valid values: a, b)");
  EXPECT_EQ(DeclareError("o:\n  type: enum\n  description: d\n  values: [a, b]\n"),
            "project.conf:2:3: enum option 'o' has no 'default'");
  EXPECT_EQ(DeclareError("o:\n  type: flags\n  description: d\n  values: [a]\n  default: [a, z]\n"),
            "project.conf:5:12: invalid default for flags option 'o': 'z' (valid values: a)");
  EXPECT_EQ(DeclareError("o:\n  type: bool\n  description: d\n  default: true\n  variable: 1x\n"),
            "project.conf:5:13: invalid variable name for option 'o': use letters, digits, "
            "underscores and dashes, not starting with a digit");
}

TEST_F(OptionPoolTest, TrueConditionsCompositeInOrder) {
  EXPECT_EQ(Processed("a: 1\n"
                      "(?):\n"
                      "- target == 'desktop': {a: 2, b: x}\n"
                      "- debug: {a: 3}\n"
                      "- \"'docs' in extras\": {b: y}\n"),
            Yaml("a: 2\nb: y\n"));
}

TEST_F(OptionPoolTest, CommandLineValuesChangeWhichFragmentsApply) {
  ASSERT_TRUE(pool_.Set("debug", "true", kCommandLine).ok());
  EXPECT_EQ(Processed("a: 1\n(?):\n- debug: {a: 3}\n- not debug: {a: 4}\n"), Yaml("a: 3\n"));
}

TEST_F(OptionPoolTest, RememberedResultsAreForgottenWhenAValueChanges) {
  const std::string text = "a: 1\n(?):\n- debug: {a: 3}\n";
  EXPECT_EQ(Processed(text), Yaml("a: 1\n"));
  ASSERT_TRUE(pool_.Set("debug", "true", kCommandLine).ok());
  EXPECT_EQ(Processed(text), Yaml("a: 3\n"));
  ASSERT_TRUE(pool_.SetValues(Parse("debug: false\n", "user.yaml")).ok());
  EXPECT_EQ(Processed(text), Yaml("a: 1\n"));
  // A copy changed on its own does not answer for the original.
  OptionPool copy = pool_;
  ASSERT_TRUE(copy.Set("debug", "true", kCommandLine).ok());
  ASSERT_TRUE(copy.Evaluate("debug").ok());
  EXPECT_TRUE(*copy.Evaluate("debug"));
  EXPECT_FALSE(*pool_.Evaluate("debug"));
}

TEST_F(OptionPoolTest, FragmentsApplyListDirectivesToTheEnclosingMap) {
  EXPECT_EQ(Processed("cmds: [make]\n"
                      "(?):\n"
                      "- machine == 'x86_64': {cmds: {(>): [x86]}}\n"
                      "- machine == 'x86_64': {cmds: {(<): [first]}}\n"),
            Yaml("cmds: [first, make, x86]\n"));
}

TEST_F(OptionPoolTest, ConditionalsInNestedMapsAndInMapsInsideLists) {
  EXPECT_EQ(Processed("config:\n"
                      "  (?):\n"
                      "  - target == 'desktop': {gui: on}\n"
                      "sources:\n"
                      "- kind: git\n"
                      "  (?):\n"
                      "  - true: {ref: abc}\n"
                      "- - x: 1\n"
                      "    (?): [{false: {x: 2}}]\n"),
            Yaml("config: {gui: on}\nsources:\n- {kind: git, ref: abc}\n- [{x: 1}]\n"));
}

TEST_F(OptionPoolTest, FragmentsMayBringMoreConditionals) {
  EXPECT_EQ(Processed("(?):\n"
                      "- true:\n"
                      "    a: 1\n"
                      "    (?):\n"
                      "    - target == 'desktop': {a: 2}\n"
                      "    nested:\n"
                      "      (?): [{true: {deep: yes}}]\n"),
            Yaml("a: 2\nnested: {deep: yes}\n"));
}

TEST_F(OptionPoolTest, AssertionFailsWithItsMessageAndPosition) {
  EXPECT_EQ(ProcessError("(?):\n- machine == 'x86_64':\n    (!): |\n      not on x86\n"),
            "element.bst:3:10: not on x86");
}

TEST_F(OptionPoolTest, UnknownOptionIsAnErrorAtTheExpression) {
  EXPECT_EQ(ProcessError("a: 1\n(?):\n- colour == 'red': {a: 2}\n"),
            "element.bst:3:3: cannot evaluate 'colour == 'red'': column 1: 'colour' is undefined");
}

TEST_F(OptionPoolTest, BadExpressionIsAnErrorAtTheExpression) {
  EXPECT_EQ(ProcessError("k:\n  (?):\n  - debug ==: {a: 2}\n"),
            "element.bst:3:5: cannot evaluate 'debug ==': column 9: unexpected end of expression");
}

TEST_F(OptionPoolTest, MalformedConditionalsAreErrors) {
  EXPECT_EQ(ProcessError("(?): {debug: {a: 1}}\n"),
            "element.bst:1:6: '(?)' must be a list of conditions");
  EXPECT_EQ(ProcessError("(?):\n- debug: {a: 1}\n  release: {a: 2}\n"),
            "element.bst:2:3: a conditional must be a map with one key, its expression");
  EXPECT_EQ(ProcessError("(?):\n- debug: [a]\n"),
            "element.bst:2:10: the value of a conditional must be a map to composite");
}

TEST_F(OptionPoolTest, CompositeErrorsInFragmentsNameTheFragment) {
  EXPECT_EQ(ProcessError("a: [x]\n(?):\n- true: {a: y}\n"),
            "element.bst:3:13: 'a': a scalar cannot replace the list at element.bst:1:4");
}

}  // namespace
}  // namespace cairn::project
