#include "cairn/project/variables.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_files.h"

namespace cairn::project {
namespace {

using ::testing::HasSubstr;

ConfigNode ParseOrDie(const std::string& yaml, const std::string& file = "vars.yaml") {
  StatusOr<ConfigNode> node = ConfigNode::Parse(yaml, file);
  EXPECT_TRUE(node.ok()) << node.status().ToString();
  return std::move(node).value();
}

Variables ResolveOrDie(const std::string& yaml) {
  StatusOr<Variables> variables = Variables::Resolve(ParseOrDie(yaml));
  EXPECT_TRUE(variables.ok()) << variables.status().ToString();
  return variables.ok() ? std::move(variables).value() : Variables();
}

std::string ValueOf(const Variables& variables, const std::string& name) {
  const std::string* value = variables.Find(name);
  return value == nullptr ? "<undefined>" : *value;
}

Status ResolveError(const std::string& yaml) {
  StatusOr<Variables> variables = Variables::Resolve(ParseOrDie(yaml));
  EXPECT_FALSE(variables.ok());
  return variables.status();
}

TEST(VariablesTest, ValuesReferToOtherVariables) {
  Variables vars = ResolveOrDie(
      "prefix: /usr\n"
      "exec_prefix: '%{prefix}'\n"
      "bindir: '%{exec_prefix}/bin'\n"
      "libdir: '%{prefix}/%{lib}'\n"
      "lib: lib64\n");
  EXPECT_EQ(ValueOf(vars, "bindir"), "/usr/bin");
  EXPECT_EQ(ValueOf(vars, "libdir"), "/usr/lib64");
  EXPECT_EQ(ValueOf(vars, "prefix"), "/usr");
}

TEST(VariablesTest, ResolutionDoesNotDependOnDeclarationOrder) {
  std::vector<std::string> lines = {
      "a: '%{b}-%{c}'\n",
      "b: '<%{d}>'\n",
      "c: '%{d}%{d}'\n",
      "d: x\n",
  };
  std::sort(lines.begin(), lines.end());
  std::vector<std::pair<std::string, std::string>> expected = {
      {"a", "<x>-xx"}, {"b", "<x>"}, {"c", "xx"}, {"d", "x"}};
  int orders = 0;
  do {
    std::string yaml;
    for (const std::string& line : lines) yaml += line;
    EXPECT_EQ(ResolveOrDie(yaml).Sorted(), expected) << yaml;
    ++orders;
  } while (std::next_permutation(lines.begin(), lines.end()));
  EXPECT_EQ(orders, 24);
}

TEST(VariablesTest, CycleErrorIsTheSameWhateverTheDeclarationOrder) {
  Status forward = ResolveError("a: '%{b}'\nb: '%{a}'\n");
  Status backward = ResolveError("b: '%{a}'\na: '%{b}'\n");
  EXPECT_THAT(forward.message(), HasSubstr("a -> b -> a"));
  EXPECT_THAT(backward.message(), HasSubstr("a -> b -> a"));
}

TEST(VariablesTest, ValuesAreStrippedLikeBst) {
  Variables vars = ResolveOrDie(
      "spaced: '  x  '\n"
      "block: |\n"
      "\n"
      "  line1\n"
      "  line2\n"
      "both: '[%{spaced}|%{block}]'\n");
  EXPECT_EQ(ValueOf(vars, "spaced"), "x");
  EXPECT_EQ(ValueOf(vars, "block"), "line1\nline2");
  EXPECT_EQ(ValueOf(vars, "both"), "[x|line1\nline2]");
}

TEST(VariablesTest, ScalarsKeepTheirTextAndNullIsEmpty) {
  Variables vars = ResolveOrDie("flag: true\nnumber: 0x10\nfloat: 1.50\nempty:\n");
  EXPECT_EQ(ValueOf(vars, "flag"), "true");
  EXPECT_EQ(ValueOf(vars, "number"), "0x10");
  EXPECT_EQ(ValueOf(vars, "float"), "1.50");
  EXPECT_EQ(ValueOf(vars, "empty"), "");
}

TEST(VariablesTest, TextThatIsNotAReferenceStaysLiteral) {
  Variables vars = ResolveOrDie(
      "x: X\n"
      "spaced: '%{ x}'\n"
      "digit: '%{1x}'\n"
      "unclosed: '%{x'\n"
      "bare: '100%'\n"
      "brace: '%{'\n"
      "empty_name: '%{}'\n"
      "bad_char: '%{x.y}'\n"
      "single: '%x'\n");
  EXPECT_EQ(ValueOf(vars, "spaced"), "%{ x}");
  EXPECT_EQ(ValueOf(vars, "digit"), "%{1x}");
  EXPECT_EQ(ValueOf(vars, "unclosed"), "%{x");
  EXPECT_EQ(ValueOf(vars, "bare"), "100%");
  EXPECT_EQ(ValueOf(vars, "brace"), "%{");
  EXPECT_EQ(ValueOf(vars, "empty_name"), "%{}");
  EXPECT_EQ(ValueOf(vars, "bad_char"), "%{x.y}");
  EXPECT_EQ(ValueOf(vars, "single"), "%x");
}

TEST(VariablesTest, DoublePercentIsNoEscapeAsInBst16) {
  // bst 1.6 turns "%%{prefix}" into "%/usr": there is no escape syntax.
  Variables vars = ResolveOrDie("prefix: /usr\nv: '%%{prefix} %%%{prefix}'\n");
  EXPECT_EQ(ValueOf(vars, "v"), "%/usr %%/usr");
}

TEST(VariablesTest, NamesMayHoldDashesUnderscoresAndDigits) {
  Variables vars = ResolveOrDie(
      "build-root: /b\n"
      "my_var2: v\n"
      "x: '%{build-root}%{my_var2}%{build-root}'\n");
  EXPECT_EQ(ValueOf(vars, "x"), "/bv/b");
}

TEST(VariablesTest, UndefinedReferenceNamesTheVariableAndWhereItIsReferenced) {
  Status status = ResolveError("a: fine\nb: 'x %{nope} y'\n");
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(), "vars.yaml:2:4: variable 'b' refers to undefined variable 'nope'");
}

TEST(VariablesTest, UndefinedReferenceInAFileNamesTheFile) {
  TempDir dir;
  std::string path = dir.Write("project.conf", "variables:\n  a: '%{missing}'\n");
  StatusOr<ConfigNode> config = ConfigNode::ParseFile(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  StatusOr<Variables> vars = Variables::Resolve(*config->Get("variables"));
  ASSERT_FALSE(vars.ok());
  EXPECT_EQ(vars.status().message(),
            path + ":2:6: variable 'a' refers to undefined variable 'missing'");
}

TEST(VariablesTest, CyclePrintsTheChainWithWhereEachStepIsDefined) {
  Status status = ResolveError("a: '%{b}'\nb: 'x%{c}'\nc: '%{a}'\nd: '%{a}'\n");
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "vars.yaml:1:4: circular reference between variables: a -> b -> c -> a\n"
            "  vars.yaml:1:4: 'a' refers to 'b'\n"
            "  vars.yaml:2:4: 'b' refers to 'c'\n"
            "  vars.yaml:3:4: 'c' refers to 'a'");
}

TEST(VariablesTest, CycleReachedThroughAnotherVariableListsOnlyTheCycle) {
  Status status = ResolveError("a: '%{x}'\nx: '%{y}'\ny: '%{x}'\n");
  EXPECT_THAT(status.message(), HasSubstr("circular reference between variables: x -> y -> x"));
  EXPECT_THAT(status.message(), ::testing::StartsWith("vars.yaml:2:4:"));
}

TEST(VariablesTest, SelfReferenceIsACycle) {
  Status status = ResolveError("a: 'pre %{a}'\n");
  EXPECT_THAT(status.message(), HasSubstr("a -> a"));
}

TEST(VariablesTest, ListOrMapValueIsAnErrorAtTheValue) {
  Status list = ResolveError("a: x\nb: [1, 2]\n");
  EXPECT_EQ(list.message(), "vars.yaml:2:4: variable 'b' must be a scalar, not a list");
  Status map = ResolveError("m:\n  k: v\n");
  EXPECT_THAT(map.message(), HasSubstr("variable 'm' must be a scalar, not a map"));
}

TEST(VariablesTest, VariablesMustBeAMap) {
  Status status = ResolveError("- a\n- b\n");
  EXPECT_THAT(status.message(), HasSubstr("variables must be a map, not a list"));
}

TEST(VariablesTest, NullNodeIsAnEmptySet) {
  StatusOr<Variables> vars = Variables::Resolve(ConfigNode::Null(SourceLocation{"x", 1, 1}));
  ASSERT_TRUE(vars.ok());
  EXPECT_EQ(vars->size(), 0u);
  EXPECT_EQ(vars->Find("anything"), nullptr);
}

TEST(VariablesTest, NotParallelForcesMaxJobsToOne) {
  Variables vars = ResolveOrDie("max-jobs: '8'\nnotparallel: True\nmake: 'make -j%{max-jobs}'\n");
  EXPECT_EQ(ValueOf(vars, "max-jobs"), "1");
  EXPECT_EQ(ValueOf(vars, "make"), "make -j1");
}

TEST(VariablesTest, NotParallelDefinesMaxJobsWhenMissing) {
  Variables vars = ResolveOrDie("notparallel: true\n");
  EXPECT_EQ(ValueOf(vars, "max-jobs"), "1");
}

TEST(VariablesTest, NotParallelFalseKeepsMaxJobs) {
  Variables vars = ResolveOrDie("max-jobs: '8'\nnotparallel: false\n");
  EXPECT_EQ(ValueOf(vars, "max-jobs"), "8");
  EXPECT_EQ(ValueOf(vars, "notparallel"), "false");
}

TEST(VariablesTest, NotParallelMustBeABoolean) {
  Status status = ResolveError("notparallel: yes\n");
  EXPECT_EQ(status.message(),
            "vars.yaml:1:14: variable 'notparallel' must be true or false, not 'yes'");
}

TEST(VariablesTest, LongChainResolvesWithoutDeepRecursion) {
  constexpr int kLength = 50000;
  ConfigNode map = ConfigNode::Map(SourceLocation{"gen", 1, 1});
  for (int i = 0; i < kLength; ++i) {
    std::string value = i + 1 < kLength ? "%{v" + std::to_string(i + 1) + "}" : "end";
    map.entries().push_back(
        {"v" + std::to_string(i), {}, ConfigNode::Scalar(value, SourceLocation{"gen", i + 1, 1})});
  }
  StatusOr<Variables> vars = Variables::Resolve(map);
  ASSERT_TRUE(vars.ok()) << vars.status().ToString();
  EXPECT_EQ(ValueOf(*vars, "v0"), "end");
  EXPECT_EQ(vars->size(), static_cast<size_t>(kLength));
}

TEST(VariablesTest, SortedListsEveryVariableByName) {
  Variables vars = ResolveOrDie("zeta: '%{alpha}!'\nalpha: a\nmid: m\n");
  std::vector<std::pair<std::string, std::string>> expected = {
      {"alpha", "a"}, {"mid", "m"}, {"zeta", "a!"}};
  EXPECT_EQ(vars.Sorted(), expected);
  EXPECT_EQ(vars.Find("nope"), nullptr);
  EXPECT_EQ(vars.Find("alph"), nullptr);
}

TEST(VariablesTest, SubstituteExpandsReferencesAndKeepsTheRest) {
  Variables vars = ResolveOrDie("prefix: /usr\nbindir: '%{prefix}/bin'\n");
  SourceLocation where{"element.bst", 7, 9};
  StatusOr<std::string> text = vars.Substitute("  install %{bindir}/x %{ no} 50%\n", where);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "  install /usr/bin/x %{ no} 50%\n");
  StatusOr<std::string> plain = vars.Substitute("no references", where);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "no references");
}

TEST(VariablesTest, SubstituteOfUndefinedVariableIsAnErrorAtTheGivenPlace) {
  Variables vars = ResolveOrDie("a: x\n");
  StatusOr<std::string> text = vars.Substitute("%{a} %{nope}", SourceLocation{"e.bst", 7, 9});
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(text.status().message(), "e.bst:7:9: reference to undefined variable 'nope'");
}

TEST(VariablesTest, SubstituteTreeStripsAndExpandsScalarsButNotKeys) {
  Variables vars = ResolveOrDie("prefix: /usr\n");
  ConfigNode tree = ParseOrDie(
      "'%{prefix}':\n"
      "  list: ['  %{prefix}/a  ', b]\n"
      "  nested: {k: '%{prefix}'}\n"
      "  nothing:\n"
      "  padded: '  plain  '\n",
      "tree.yaml");
  ASSERT_TRUE(vars.SubstituteTree(tree).ok());
  const ConfigNode* inner = tree.Get("%{prefix}");
  ASSERT_NE(inner, nullptr);
  EXPECT_EQ(inner->Get("list")->items()[0].scalar(), "/usr/a");
  EXPECT_EQ(inner->Get("list")->items()[1].scalar(), "b");
  EXPECT_EQ(inner->Get("nested")->Get("k")->scalar(), "/usr");
  EXPECT_TRUE(inner->Get("nothing")->is_null());
  EXPECT_EQ(inner->Get("padded")->scalar(), "plain");
}

TEST(VariablesTest, SubstituteTreeErrorNamesTheScalarsPosition) {
  Variables vars = ResolveOrDie("a: x\n");
  ConfigNode tree =
      ParseOrDie("config:\n  build-commands:\n  - echo %{a}\n  - echo %{b}\n", "e.bst");
  Status status = vars.SubstituteTree(tree);
  EXPECT_EQ(status.message(), "e.bst:4:5: reference to undefined variable 'b'");
}

}  // namespace
}  // namespace cairn::project
