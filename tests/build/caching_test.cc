// What a second build does: nothing when nothing changed, and exactly the
// elements an input reaches when one did.
#include <gtest/gtest.h>

#include "build_project.h"

namespace cairn::build_test {
namespace {

// base <- lib (a local source, an environment value) <- app <- all (stack)
// base <- other (a project variable) <------------------------/
// lib needs rt.bst at run time (not to build), so app stages it.
class CachingTest : public BuildProjectTest {
 protected:
  void SetUp() override {
    BuildProjectTest::SetUp();
    if (IsSkipped()) return;
    WriteProject("plain");
    Write("files/lib/lib.txt", "lib source\n");
    Write("files/rt/rt.txt", "rt\n");
    Write("elements/rt.bst", "kind: import\nsources:\n- kind: local\n  path: files/rt\n");
    WriteLib("lib");
    Write("elements/app.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "- lib.bst\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}\n"
          "  - cat /lib.txt /rt.txt > %{install-root}/app.txt\n");
    WriteOther("echo '%{style}' > %{install-root}/other.txt");
    Write("elements/all.bst", "kind: stack\ndepends:\n- app.bst\n- other.bst\n");
    CliRun first = Cairn({"build", "all.bst"});
    ASSERT_EQ(first.code, 0) << first.err;
    ASSERT_EQ(Events(first, "SUCCESS"),
              Names({"base.bst", "rt.bst", "lib.bst", "app.bst", "other.bst", "all.bst"}));
    keys_ = Keys({"all.bst"});
  }

  void WriteProject(const std::string& style, const std::string& unused = "x") {
    Write("project.conf",
          "name: test\n"
          "element-path: elements\n"
          "variables:\n"
          "  style: " +
              style +
              "\n"
              "  unused: " +
              unused + "\n");
  }
  void WriteLib(const std::string& mode) {
    Write("elements/lib.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "runtime-depends:\n"
          "- rt.bst\n"
          "sources:\n"
          "- kind: local\n"
          "  path: files/lib\n"
          "environment:\n"
          "  LIB_MODE: " +
              mode +
              "\n"
              "config:\n"
              "  install-commands:\n"
              "  - mkdir -p %{install-root}\n"
              "  - cp lib.txt %{install-root}/lib.txt\n");
  }
  void WriteOther(const std::string& command) {
    Write("elements/other.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}\n"
          "  - " +
              command + "\n");
  }

  // Rebuilds all.bst; expects exactly `rebuilt` to have new keys and to be
  // built, and the rest to be found in the cache.
  void ExpectRebuilt(const Names& rebuilt) {
    std::map<std::string, std::string> keys = Keys({"all.bst"});
    EXPECT_EQ(Changed(keys_, keys), rebuilt);
    CliRun again = Cairn({"build", "all.bst"});
    ASSERT_EQ(again.code, 0) << again.err;
    EXPECT_EQ(Events(again, "START"), rebuilt) << again.err;
    EXPECT_EQ(Events(again, "SUCCESS"), rebuilt) << again.err;
    Names cached;
    for (const auto& [name, key] : keys) {
      if (rebuilt.count(name) == 0) cached.insert(name);
    }
    EXPECT_EQ(Events(again, "CACHED"), cached) << again.err;
  }

  std::map<std::string, std::string> keys_;
};

TEST_F(CachingTest, ASecondBuildFindsEveryElementCachedAndBuildsNothing) {
  CliRun again = Cairn({"build", "all.bst"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(Events(again, "START"), Names());
  EXPECT_EQ(Events(again, "CACHED"),
            Names({"base.bst", "rt.bst", "lib.bst", "app.bst", "other.bst", "all.bst"}));
  EXPECT_NE(again.err.find("0 built, 6 cached, 0 failed, 0 skipped"), std::string::npos)
      << again.err;
  EXPECT_EQ(Keys({"all.bst"}), keys_);
  for (const auto& [name, state] : States({"all.bst"})) EXPECT_EQ(state, "cached") << name;
}

TEST_F(CachingTest, ChangingASourceFileRebuildsExactlyTheElementsThatDependOnIt) {
  Write("files/lib/lib.txt", "lib source, changed\n");
  ExpectRebuilt({"lib.bst", "app.bst", "all.bst"});
  EXPECT_EQ(ReadFile(Checkout("app.bst", {"--deps", "none"}) + "/app.txt"),
            "lib source, changed\nrt\n");
}

TEST_F(CachingTest, ChangingACommandRebuildsOnlyItsElementAndWhatDependsOnIt) {
  WriteOther("echo '%{style} changed' > %{install-root}/other.txt");
  ExpectRebuilt({"other.bst", "all.bst"});
}

TEST_F(CachingTest, ChangingAVariableRebuildsTheElementsThatUseIt) {
  WriteProject("fancy");
  ExpectRebuilt({"other.bst", "all.bst"});
  EXPECT_EQ(ReadFile(Checkout("other.bst", {"--deps", "none"}) + "/other.txt"), "fancy\n");
}

TEST_F(CachingTest, ChangingAVariableThatNothingUsesChangesNoKey) {
  WriteProject("plain", "y");
  ExpectRebuilt({});
}

TEST_F(CachingTest, ChangingAnEnvironmentValueRebuildsItsElementAndWhatDependsOnIt) {
  WriteLib("debug");
  ExpectRebuilt({"lib.bst", "app.bst", "all.bst"});
}

TEST_F(CachingTest, ChangingARuntimeOnlyDependencyRebuildsWhatStagesItButNotItsDependent) {
  Write("files/rt/rt.txt", "rt, changed\n");
  ExpectRebuilt({"rt.bst", "app.bst", "all.bst"});
}

TEST_F(CachingTest, CommentsAndLayoutOfTheYamlChangeNoKey) {
  Write("elements/all.bst",
        "# The whole thing.\n"
        "kind: stack\n"
        "\n"
        "depends: [app.bst, other.bst]   # both\n");
  ExpectRebuilt({});
}

}  // namespace
}  // namespace cairn::build_test
