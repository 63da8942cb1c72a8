// What each dependency type stages for a build and brings into a checkout.
#include <gtest/gtest.h>

#include "build_project.h"

namespace cairn::build_test {
namespace {

// r1.bst and r2.bst each import one file under /share. mid.bst needs them
// at run time only (runtime-depends, and the dict form with type:
// runtime); top.bst build-depends on mid.bst (dict form with type: build).
// Each manual element records what /share held while it built.
class DependenciesTest : public BuildProjectTest {
 protected:
  void SetUp() override {
    BuildProjectTest::SetUp();
    if (IsSkipped()) return;
    Write("files/r1/share/r1", "r1\n");
    Write("files/r2/share/r2", "r2\n");
    Write("elements/r1.bst", "kind: import\nsources:\n- kind: local\n  path: files/r1\n");
    Write("elements/r2.bst", "kind: import\nsources:\n- kind: local\n  path: files/r2\n");
    Write("elements/mid.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "runtime-depends:\n"
          "- r1.bst\n"
          "depends:\n"
          "- filename: r2.bst\n"
          "  type: runtime\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}/mid\n"
          "  - if test -e /share; then ls /share; else echo none; fi > %{install-root}/mid/seen\n");
    Write("elements/top.bst",
          "kind: manual\n"
          "depends:\n"
          "- filename: base.bst\n"
          "  type: build\n"
          "- filename: mid.bst\n"
          "  type: build\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}/top\n"
          "  - ls /share /mid > %{install-root}/top/seen\n");
    CliRun built = Cairn({"build", "top.bst"});
    ASSERT_EQ(built.code, 0) << built.err;
  }
};

TEST_F(DependenciesTest, ARuntimeOnlyDependencyIsNotStagedForTheBuildButIsInTheCheckout) {
  std::string checkout = Checkout("mid.bst");
  EXPECT_EQ(ReadFile(checkout + "/mid/seen"), "none\n");
  EXPECT_EQ(ReadFile(checkout + "/share/r1"), "r1\n");
  EXPECT_EQ(ReadFile(checkout + "/share/r2"), "r2\n");
}

TEST_F(DependenciesTest, ABuildDependencysRuntimeDependenciesAreStagedForTheBuild) {
  std::string checkout = Checkout("top.bst");
  EXPECT_EQ(ReadFile(checkout + "/top/seen"), "/mid:\nseen\n\n/share:\nr1\nr2\n");
}

TEST_F(DependenciesTest, ABuildOnlyDependencyIsNotInTheCheckout) {
  std::string checkout = Checkout("top.bst");
  CliRun listed = Cairn({"artifact", "list-contents", "top.bst"});
  EXPECT_EQ(listed.out, "top/\ntop/seen\n");
  EXPECT_FALSE(ReadFile(checkout + "/top/seen").empty());
  EXPECT_EQ(ReadFile(checkout + "/share/r1"), "");
  EXPECT_EQ(ReadFile(checkout + "/mid/seen"), "");
  EXPECT_EQ(ReadFile(checkout + "/bin/busybox"), "");
}

// BuildStream sorts each element's dependencies (loader.py,
// _sort_dependencies): one that depends on another comes after it, then
// runtime-only ones last, then by name; the declared order does not count.
TEST_F(DependenciesTest, ShowListsEachScopeInBuildStreamsDependencyOrder) {
  CliRun run = Cairn({"show", "--deps", "run", "--format", "%{name}", "mid.bst"});
  EXPECT_EQ(run.out, "r1.bst\nr2.bst\nmid.bst\n");
  CliRun build = Cairn({"show", "--deps", "build", "--format", "%{name}", "top.bst"});
  EXPECT_EQ(build.out, "base.bst\nr1.bst\nr2.bst\nmid.bst\n");
}

using DependencyOrderTest = BuildProjectTest;

// So the later of two overlapping dependencies, the one whose files win, is
// the one whose name sorts last, whatever order they are declared in.
TEST_F(DependencyOrderTest, OverlappingDependenciesAreStagedInBuildStreamsSortedOrder) {
  Write("files/zeta/file", "zeta\n");
  Write("files/alpha/file", "alpha\n");
  Write("elements/zeta.bst", "kind: import\nsources:\n- kind: local\n  path: files/zeta\n");
  Write("elements/alpha.bst", "kind: import\nsources:\n- kind: local\n  path: files/alpha\n");
  Write("elements/consumer.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "- zeta.bst\n"
        "- alpha.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - cp /file %{install-root}/winner\n");
  CliRun order = Cairn({"show", "--deps", "build", "--format", "%{name}", "consumer.bst"});
  EXPECT_EQ(order.out, "alpha.bst\nbase.bst\nzeta.bst\n");
  CliRun built = Cairn({"build", "consumer.bst"});
  ASSERT_EQ(built.code, 0) << built.err;
  EXPECT_EQ(ReadFile(Checkout("consumer.bst", {"--deps", "none"}) + "/winner"), "zeta\n");
}

}  // namespace
}  // namespace cairn::build_test
