// Builds that fail, and projects that do not load.
#include <gtest/gtest.h>

#include <filesystem>

#include "build_project.h"

namespace cairn::build_test {
namespace {

// broken.bst fails in its second build command (exit code 7); after.bst depends on it;
// independent.bst does not.
class FailingBuildTest : public BuildProjectTest {
 protected:
  void SetUp() override {
    BuildProjectTest::SetUp();
    if (IsSkipped()) return;
    WriteBroken("exit 7");
    Write("elements/after.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "- broken.bst\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}\n");
    Write("elements/independent.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "config:\n"
          "  install-commands:\n"
          "  - mkdir -p %{install-root}\n"
          "  - echo fine > %{install-root}/fine.txt\n");
    Write("elements/all.bst", "kind: stack\ndepends:\n- after.bst\n- independent.bst\n");
  }

  void WriteBroken(const std::string& failing) {
    Write("elements/broken.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "config:\n"
          "  build-commands:\n"
          "  - echo building-broken\n"
          "  - echo about-to-fail >&2; " +
              failing +
              "\n"
              "  install-commands:\n"
              "  - mkdir -p %{install-root}\n");
  }
};

TEST_F(FailingBuildTest, AFailedCommandExitsOneNamingTheCommandAndItsExitCode) {
  CliRun built = Cairn({"build", "all.bst"});
  EXPECT_EQ(built.code, 1) << built.err;
  EXPECT_EQ(Events(built, "FAILURE"), Names({"broken.bst"}));
  EXPECT_NE(built.err.find("build-commands[2] failed with exit code 7"), std::string::npos)
      << built.err;
  EXPECT_NE(built.err.find("echo about-to-fail >&2; exit 7"), std::string::npos) << built.err;
  EXPECT_NE(built.err.find("about-to-fail"), std::string::npos) << built.err;
  EXPECT_NE(built.err.find("cairn build: 1 element failed: broken.bst"), std::string::npos)
      << built.err;
}

TEST_F(FailingBuildTest, TheDependentsOfAFailureAreSkippedAndIndependentWorkGoesOn) {
  CliRun built = Cairn({"build", "all.bst"});
  EXPECT_EQ(built.code, 1) << built.err;
  EXPECT_EQ(Events(built, "SKIPPED"), Names({"after.bst", "all.bst"}));
  EXPECT_EQ(Events(built, "SUCCESS"), Names({"base.bst", "independent.bst"}));
  EXPECT_NE(built.err.find("a dependency failed: broken.bst"), std::string::npos) << built.err;
  std::map<std::string, std::string> states = States({"all.bst"});
  EXPECT_EQ(states["broken.bst"], "failed");
  EXPECT_EQ(states["independent.bst"], "cached");
  EXPECT_EQ(states["after.bst"], "waiting");
}

TEST_F(FailingBuildTest, TheLogOfAFailureIsKeptWithItsArtifact) {
  CliRun built = Cairn({"build", "broken.bst"});
  ASSERT_EQ(built.code, 1) << built.err;
  CliRun log = Cairn({"artifact", "log", "broken.bst"});
  EXPECT_EQ(log.code, 0) << log.err;
  EXPECT_NE(log.out.find("building-broken\n"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("about-to-fail\n"), std::string::npos) << log.out;
  EXPECT_NE(log.out.find("build-commands[2] failed with exit code 7"), std::string::npos)
      << log.out;
  CliRun checkout = Cairn({"artifact", "checkout", "broken.bst", "--directory", base_ + "/out"});
  EXPECT_NE(checkout.code, 0);
  EXPECT_NE(checkout.err.find("broken.bst failed to build"), std::string::npos) << checkout.err;
}

TEST_F(FailingBuildTest, ARecordedFailureIsNotRetriedUnlessAskedTo) {
  ASSERT_EQ(Cairn({"build", "broken.bst"}).code, 1);
  CliRun again = Cairn({"build", "broken.bst"});
  EXPECT_EQ(again.code, 1) << again.err;
  EXPECT_EQ(Events(again, "START"), Names());
  EXPECT_NE(again.err.find("(in an earlier build; --retry-failed builds it again)"),
            std::string::npos)
      << again.err;
  CliRun retried = Cairn({"build", "--retry-failed", "broken.bst"});
  EXPECT_EQ(retried.code, 1) << retried.err;
  EXPECT_EQ(Events(retried, "START"), Names({"broken.bst"}));
  EXPECT_EQ(Events(retried, "FAILURE"), Names({"broken.bst"}));
}

TEST_F(FailingBuildTest, FixingTheCommandBuildsTheElementAndItsDependents) {
  ASSERT_EQ(Cairn({"build", "all.bst"}).code, 1);
  WriteBroken("true");
  CliRun fixed = Cairn({"build", "all.bst"});
  EXPECT_EQ(fixed.code, 0) << fixed.err;
  EXPECT_EQ(Events(fixed, "SUCCESS"), Names({"broken.bst", "after.bst", "all.bst"}));
  EXPECT_EQ(Events(fixed, "CACHED"), Names({"base.bst", "independent.bst"}));
}

TEST_F(FailingBuildTest, OnErrorQuitStartsNothingAfterTheFailure) {
  CliRun built = Cairn({"build", "--jobs", "1", "--on-error", "quit", "all.bst"});
  EXPECT_EQ(built.code, 1) << built.err;
  EXPECT_EQ(Events(built, "FAILURE"), Names({"broken.bst"}));
  // With one job, broken.bst (met first, depth first from all.bst) runs
  // before independent.bst, which then never starts.
  EXPECT_EQ(Events(built, "START"), Names({"base.bst", "broken.bst"})) << built.err;
  EXPECT_EQ(States({"all.bst"})["independent.bst"], "buildable");
}

using LoadErrorTest = BuildProjectTest;

TEST_F(LoadErrorTest, BrokenYamlIsAnErrorAtItsFileLineAndColumn) {
  std::string file = Write("elements/broken.bst", "kind: stack\ndepends: [base.bst\n");
  CliRun built = Cairn({"build", "broken.bst"});
  EXPECT_EQ(built.code, 3);
  EXPECT_NE(built.err.find(file + ":3:1: "), std::string::npos) << built.err;
  EXPECT_EQ(Events(built, "START"), Names());
}

TEST_F(LoadErrorTest, AnUnknownKindIsAnErrorListingTheKnownOnes) {
  std::string file = Write("elements/odd.bst", "kind: frobnicate\n");
  CliRun built = Cairn({"build", "odd.bst"});
  EXPECT_EQ(built.code, 3);
  EXPECT_NE(built.err.find(file + ":1:7: unknown element kind 'frobnicate' "
                                  "(known: compose, import, manual, script, stack)"),
            std::string::npos)
      << built.err;
}

TEST_F(LoadErrorTest, AMissingDependencyIsAnErrorWhereItIsNamed) {
  std::string file = Write("elements/needy.bst", "kind: stack\ndepends:\n- base.bst\n- gone.bst\n");
  CliRun built = Cairn({"build", "needy.bst"});
  EXPECT_EQ(built.code, 3);
  EXPECT_NE(built.err.find(file + ":4:3: element gone.bst not found"), std::string::npos)
      << built.err;
}

TEST_F(LoadErrorTest, AnUnknownKeyInAnElementOrProjectConfIsAnErrorAtItsPlace) {
  std::string element = Write("elements/typo.bst", "kind: stack\nsourcs: []\n");
  CliRun shown = Cairn({"show", "typo.bst"});
  EXPECT_EQ(shown.code, 3);
  EXPECT_NE(shown.err.find(element + ":2:1: unknown key 'sourcs'"), std::string::npos) << shown.err;
  std::string conf = Write("project.conf", "name: test\nelement-path: elements\nwibble: 1\n");
  CliRun project = Cairn({"show", "base.bst"});
  EXPECT_EQ(project.code, 3);
  EXPECT_NE(project.err.find(conf + ":3:1: unknown key 'wibble'"), std::string::npos)
      << project.err;
}

TEST_F(LoadErrorTest, ADependencyCycleIsAnErrorPrintingTheCycle) {
  Write("elements/a.bst", "kind: stack\ndepends:\n- b.bst\n");
  Write("elements/b.bst", "kind: stack\nbuild-depends:\n- c.bst\n");
  Write("elements/c.bst", "kind: stack\ndepends:\n- filename: a.bst\n  type: runtime\n");
  CliRun built = Cairn({"build", "a.bst"});
  EXPECT_EQ(built.code, 3);
  EXPECT_NE(built.err.find("dependency cycle: a.bst -> b.bst -> c.bst -> a.bst"), std::string::npos)
      << built.err;
}

// escape.bst has a symlink climbing out of the root (`lib -> ../../..` and
// the test's directory); planted.bst has a directory `lib`. Staging
// planted.bst after escape.bst would put its files through the symlink,
// outside the sandbox's root: BuildStream refuses that, and so must Cairn.
// (Both are declared in the order BuildStream sorts them in, by name.)
class EscapingSymlinkTest : public BuildProjectTest {
 protected:
  void SetUp() override {
    BuildProjectTest::SetUp();
    if (IsSkipped()) return;
    outside_ = ScratchDir("outside");
    std::filesystem::create_directories(PathOf("files/escape"));
    std::filesystem::create_symlink("../../../../../../../../../.." + outside_,
                                    PathOf("files/escape/lib"));
    Write("files/planted/lib/planted.txt", "planted\n");
    Write("elements/escape.bst", "kind: import\nsources:\n- kind: local\n  path: files/escape\n");
    Write("elements/planted.bst", "kind: import\nsources:\n- kind: local\n  path: files/planted\n");
  }
  std::string outside_;
};

TEST_F(EscapingSymlinkTest, StagingThroughItForABuildIsRefused) {
  Write("elements/victim.bst",
        "kind: manual\n"
        "build-depends:\n"
        "- base.bst\n"
        "- escape.bst\n"
        "- planted.bst\n"
        "config:\n"
        "  install-commands:\n"
        "  - mkdir -p %{install-root}\n"
        "  - echo built > %{install-root}/built.txt\n");
  CliRun built = Cairn({"build", "victim.bst"});
  EXPECT_NE(built.code, 0) << built.err;
  EXPECT_NE(built.err.find("'lib'"), std::string::npos) << built.err;
  EXPECT_NE(built.err.find("resolves outside the root"), std::string::npos) << built.err;
  EXPECT_EQ(Events(built, "SUCCESS").count("victim.bst"), 0u) << built.err;
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/planted.txt"));
}

TEST_F(EscapingSymlinkTest, CheckingOutThroughItIsRefusedAndWritesNothing) {
  Write("elements/both.bst", "kind: stack\ndepends:\n- escape.bst\n- planted.bst\n");
  ASSERT_EQ(Cairn({"build", "both.bst"}).code, 0);
  std::string directory = base_ + "/out";
  CliRun checkout = Cairn({"artifact", "checkout", "both.bst", "--directory", directory});
  EXPECT_NE(checkout.code, 0);
  EXPECT_NE(checkout.err.find("resolves outside the root"), std::string::npos) << checkout.err;
  EXPECT_FALSE(std::filesystem::exists(directory));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/planted.txt"));
}

}  // namespace
}  // namespace cairn::build_test
