// Project options and (?) conditionals, (@) includes, list directives and
// the build environment.
#include <gtest/gtest.h>

#include <fstream>

#include "build_project.h"

namespace cairn::build_test {
namespace {

// flavour (enum) and debug (bool) options, a variable taken from an
// included file, and an element whose result depends on all three.
class OptionsTest : public BuildProjectTest {
 protected:
  void SetUp() override {
    BuildProjectTest::SetUp();
    if (IsSkipped()) return;
    Write("project.conf",
          "name: test\n"
          "element-path: elements\n"
          "(@): include/common.yml\n"
          "options:\n"
          "  flavour:\n"
          "    type: enum\n"
          "    description: how greetings look\n"
          "    values: [plain, fancy]\n"
          "    default: plain\n"
          "  debug:\n"
          "    type: bool\n"
          "    description: louder builds\n"
          "    default: False\n"
          "variables:\n"
          "  greeting: hello\n"
          "(?):\n"
          "- flavour == \"fancy\":\n"
          "    variables:\n"
          "      greeting: HELLO\n");
    Write("include/common.yml", "variables:\n  audience: from-include\n");
    Write("elements/greet.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "variables:\n"
          "  words: '%{greeting} %{audience}'\n"
          "(?):\n"
          "- debug:\n"
          "    variables:\n"
          "      words: 'debug %{greeting}'\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}\n"
          "  - echo '%{words}' > %{install-root}/words.txt\n");
  }

  // The words greet.bst writes, built with `options` (-o NAME VALUE...).
  std::string Words(const std::vector<std::string>& options) {
    std::vector<std::string> build = {"build", "greet.bst"};
    build.insert(build.end(), options.begin(), options.end());
    CliRun built = Cairn(build);
    EXPECT_EQ(built.code, 0) << built.err;
    std::vector<std::string> checkout = {"--deps", "none"};
    checkout.insert(checkout.end(), options.begin(), options.end());
    return ReadFile(Checkout("greet.bst", checkout) + "/words.txt");
  }
};

TEST_F(OptionsTest, DefaultsApplyAndIncludedVariablesAreDefined) {
  EXPECT_EQ(Words({}), "hello from-include\n");
}

TEST_F(OptionsTest, AnEnumOptionOnTheCommandLineChangesTheResultAndTheKey) {
  std::string plain = Keys({"greet.bst"})["greet.bst"];
  std::string fancy = Keys({"greet.bst", "-o", "flavour", "fancy"})["greet.bst"];
  EXPECT_NE(plain, fancy);
  EXPECT_EQ(Keys({"greet.bst", "-o", "flavour", "plain"})["greet.bst"], plain);
  EXPECT_EQ(Words({"-o", "flavour", "fancy"}), "HELLO from-include\n");
}

TEST_F(OptionsTest, ABoolOptionSelectsAnElementsConditional) {
  EXPECT_EQ(Words({"-o", "debug", "True", "-o", "flavour", "fancy"}), "debug HELLO\n");
  EXPECT_NE(Keys({"greet.bst", "-o", "debug", "True"})["greet.bst"],
            Keys({"greet.bst"})["greet.bst"]);
}

TEST_F(OptionsTest, TheUserConfigurationSetsValuesAndTheCommandLineWins) {
  std::string plain = Keys({"greet.bst"})["greet.bst"];
  std::string fancy = Keys({"greet.bst", "-o", "flavour", "fancy"})["greet.bst"];
  std::string config = base_ + "/config/cairn/config.yaml";
  ASSERT_EQ(Shell("mkdir -p " + base_ + "/config/cairn"), 0);
  std::ofstream(config) << "projects:\n  test:\n    options:\n      flavour: fancy\n";
  EXPECT_EQ(Keys({"greet.bst"})["greet.bst"], fancy);
  EXPECT_EQ(Keys({"greet.bst", "-o", "flavour", "plain"})["greet.bst"], plain);
  // A bad value there names the file, line and column.
  std::ofstream(config) << "projects:\n  test:\n    options:\n      flavour: weird\n";
  CliRun shown = Cairn({"show", "greet.bst"});
  EXPECT_EQ(shown.code, 3);
  EXPECT_NE(shown.err.find(config + ":4:16"), std::string::npos) << shown.err;
}

TEST_F(OptionsTest, AnOptionValueOutsideItsValuesIsAnErrorListingThem) {
  CliRun shown = Cairn({"show", "greet.bst", "-o", "flavour", "weird"});
  EXPECT_EQ(shown.code, 3);
  EXPECT_NE(shown.err.find("'weird'"), std::string::npos) << shown.err;
  EXPECT_NE(shown.err.find("plain, fancy"), std::string::npos) << shown.err;
}

TEST_F(OptionsTest, ChangingAnIncludedFileChangesTheKeysThatUseIt) {
  std::string before = Keys({"greet.bst"})["greet.bst"];
  Write("include/common.yml", "variables:\n  audience: someone-else\n");
  EXPECT_NE(Keys({"greet.bst"})["greet.bst"], before);
  EXPECT_EQ(Words({}), "hello someone-else\n");
}

using ListDirectivesTest = BuildProjectTest;

TEST_F(ListDirectivesTest, AppendAndPrependExtendInheritedLists) {
  // (>) on the project's split rules extends BuildStream's runtime rules;
  // (<) and (>) on commands extend what `elements: manual:` gives.
  Write("project.conf",
        "name: test\n"
        "element-path: elements\n"
        "split-rules:\n"
        "  runtime:\n"
        "    (>):\n"
        "    - /extra/**\n"
        "elements:\n"
        "  manual:\n"
        "    config:\n"
        "      install-commands:\n"
        "      - echo project >> %{install-root}/extra/order\n");
  Write("elements/files.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  install-commands:\n"
        "    (<):\n"
        "    - mkdir -p %{install-root}/extra %{install-root}/other\n"
        "    - echo first >> %{install-root}/extra/order\n"
        "    (>):\n"
        "    - echo last >> %{install-root}/extra/order\n"
        "    - echo other > %{install-root}/other/file\n");
  Write("elements/runtime-only.bst",
        "kind: compose\n"
        "build-depends:\n"
        "- files.bst\n"
        "config:\n"
        "  include: [runtime]\n"
        "  include-orphans: False\n");
  CliRun built = Cairn({"build", "runtime-only.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  CliRun listed = Cairn({"artifact", "list-contents", "runtime-only.bst"});
  EXPECT_EQ(listed.out, "extra/\nextra/order\n");
  std::string checkout = Checkout("runtime-only.bst");
  EXPECT_EQ(ReadFile(checkout + "/extra/order"), "first\nproject\nlast\n");
}

TEST_F(ListDirectivesTest, OptionsWithAVariableAreExportedToTheElements) {
  Write("project.conf",
        "name: test\n"
        "element-path: elements\n"
        "options:\n"
        "  debug:\n"
        "    type: bool\n"
        "    description: louder\n"
        "    default: False\n"
        "    variable: debug_flag\n"
        "  flavour:\n"
        "    type: enum\n"
        "    description: taste\n"
        "    values: [plain, fancy]\n"
        "    default: plain\n"
        "    variable: flavour_name\n");
  Write("elements/exported.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - echo %{debug_flag} %{flavour_name} > %{install-root}/options.txt\n");
  std::vector<std::string> options = {"-o", "debug", "True", "-o", "flavour", "fancy"};
  std::vector<std::string> build = {"build", "exported.bst"};
  build.insert(build.end(), options.begin(), options.end());
  CliRun built = Cairn(build);
  ASSERT_EQ(built.code, 0) << built.err;
  std::vector<std::string> checkout = {"--deps", "none"};
  checkout.insert(checkout.end(), options.begin(), options.end());
  EXPECT_EQ(ReadFile(Checkout("exported.bst", checkout) + "/options.txt"), "1 fancy\n");
  ASSERT_EQ(Cairn({"build", "exported.bst"}).code, 0);
  EXPECT_EQ(ReadFile(Checkout("exported.bst", {"--deps", "none"}) + "/options.txt"), "0 plain\n");
}

using EnvironmentTest = BuildProjectTest;

TEST_F(EnvironmentTest, ProjectAndElementEnvironmentReachTheCommands) {
  Write("project.conf",
        "name: test\n"
        "element-path: elements\n"
        "environment:\n"
        "  FROM_PROJECT: project\n"
        "  OVERRIDDEN: project\n");
  Write("elements/env.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "environment:\n"
        "  FROM_ELEMENT: element\n"
        "  OVERRIDDEN: element\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - echo \"$FROM_PROJECT $FROM_ELEMENT $OVERRIDDEN\" > %{install-root}/env.txt\n");
  std::string checkout = BuildAndCheckOut("env.bst");
  EXPECT_EQ(ReadFile(checkout + "/env.txt"), "project element element\n");
}

TEST_F(EnvironmentTest, AnEnvironmentNocacheValueLeavesTheKeyAlone) {
  auto project = [this](const std::string& stamp, const std::string& mode) {
    Write("project.conf",
          "name: test\n"
          "element-path: elements\n"
          "environment:\n"
          "  STAMP: " +
              stamp +
              "\n"
              "  MODE: " +
              mode +
              "\n"
              "environment-nocache:\n"
              "- STAMP\n");
  };
  Write("elements/env.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - echo \"$STAMP $MODE\" > %{install-root}/env.txt\n");
  project("monday", "release");
  std::string key = Keys({"env.bst"})["env.bst"];
  project("tuesday", "release");
  EXPECT_EQ(Keys({"env.bst"})["env.bst"], key);
  CliRun built = Cairn({"build", "env.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(ReadFile(Checkout("env.bst", {"--deps", "none"}) + "/env.txt"), "tuesday release\n");
  project("tuesday", "debug");
  EXPECT_NE(Keys({"env.bst"})["env.bst"], key);
}

}  // namespace
}  // namespace cairn::build_test
