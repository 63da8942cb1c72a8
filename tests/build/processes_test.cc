// Builds interrupted, and two builds sharing one cache at once.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "build_project.h"

namespace cairn::build_test {
namespace {

// slow.bst sleeps $PAUSE seconds, PAUSE being outside its cache key.
class ProcessesTest : public BuildProjectTest {
 protected:
  void SetUp() override {
    BuildProjectTest::SetUp();
    if (IsSkipped()) return;
    Pause("30");
    Write("elements/slow.bst",
          "kind: manual\n"
          "build-depends:\n"
          "- base.bst\n"
          "config:\n"
          "  install-commands:\n"
          "  - busybox sleep \"$PAUSE\"\n"
          "  - mkdir -p %{install-root}\n"
          "  - echo done > %{install-root}/done\n");
    // base.bst first, so that only slow.bst is left to build.
    ASSERT_EQ(Cairn({"build", "base.bst"}).code, 0);
  }

  void Pause(const std::string& seconds) {
    Write("project.conf",
          "name: test\n"
          "element-path: elements\n"
          "environment:\n"
          "  PAUSE: '" +
              seconds +
              "'\n"
              "environment-nocache:\n"
              "- PAUSE\n");
  }
};

TEST_F(ProcessesTest, AnInterruptedBuildExits130RecordsNothingAndTheNextBuildContinues) {
  auto started = std::chrono::steady_clock::now();
  Running build = Start(project_, {"build", "slow.bst"});
  ASSERT_TRUE(WaitForOutput(build, "START   slow.bst")) << ReadFile(build.err_path);
  ASSERT_EQ(kill(build.pid, SIGINT), 0);
  CliRun interrupted = Wait(build);
  EXPECT_EQ(interrupted.code, 130) << interrupted.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20))
      << "the sandbox's sleep was not stopped";
  EXPECT_EQ(States({"slow.bst"})["slow.bst"], "buildable");

  Pause("0");
  CliRun next = Cairn({"build", "slow.bst"});
  EXPECT_EQ(next.code, 0) << next.err;
  EXPECT_EQ(Events(next, "SUCCESS"), Names({"slow.bst"}));
  EXPECT_EQ(Events(next, "CACHED"), Names({"base.bst"}));
}

TEST_F(ProcessesTest, TwoBuildsOnOneCacheBuildEachElementOnce) {
  Pause("1");
  Running first = Start(project_, {"build", "slow.bst"});
  Running second = Start(project_, {"build", "slow.bst"});
  CliRun one = Wait(first);
  CliRun two = Wait(second);
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  Names built_by_one = Events(one, "SUCCESS");
  Names built_by_two = Events(two, "SUCCESS");
  EXPECT_EQ(built_by_one.count("slow.bst") + built_by_two.count("slow.bst"), 1u)
      << one.err << two.err;
  Names cached = Events(built_by_one.count("slow.bst") != 0 ? two : one, "CACHED");
  EXPECT_EQ(cached, Names({"base.bst", "slow.bst"}));
}

}  // namespace
}  // namespace cairn::build_test
