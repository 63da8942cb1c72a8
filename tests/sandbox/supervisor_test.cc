// The supervisor's decisions — timeout, cancellation, kill escalation,
// streams — on a fake clock and a scripted process: no root, no real
// process, no sleeps, nothing timed.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "cairn/sandbox_common/process_supervisor.h"
#include "fake_supervised_process.h"

namespace cairn::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class SupervisorTest : public ::testing::Test {
 protected:
  SupervisorTest() {
    char name[] = "/tmp/cairn-supervisor-XXXXXX";
    dir_ = mkdtemp(name);
    options_.stdout_path = dir_ + "/stdout";
    options_.stderr_path = dir_ + "/stderr";
  }
  ~SupervisorTest() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  SupervisionResult Run() {
    StatusOr<SupervisionResult> result = Supervise(process_, clock_, options_);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : SupervisionResult();
  }
  std::string File(const std::string& name) {
    std::ifstream in(dir_ + "/" + name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::string dir_;
  FakeClock clock_;
  FakeSupervisedProcess process_{clock_};
  SupervisionOptions options_;
};

TEST_F(SupervisorTest, AProcessThatExitsInTimeIsNeitherKilledNorCutShort) {
  options_.deadline = clock_.At(seconds(10));
  process_.OutputAt(seconds(1), ProcessStream::kStdout, "hello\n");
  process_.ExitAt(seconds(2), ExitedWith(3));
  SupervisionResult result = Run();
  EXPECT_FALSE(result.timed_out);
  EXPECT_FALSE(result.cancelled);
  EXPECT_EQ(result.ExitCode(), 3);
  EXPECT_EQ(File("stdout"), "hello\n");
  EXPECT_THAT(process_.log(), ElementsAre("wait-for-tree"));
  EXPECT_EQ(clock_.Elapsed(), seconds(2));
}

TEST_F(SupervisorTest, TheDeadlineKillsTheTreeAndKeepsTheOutputSoFar) {
  options_.deadline = clock_.At(milliseconds(2500));
  process_.OutputAt(seconds(1), ProcessStream::kStdout, "partial ");
  process_.OutputAt(seconds(2), ProcessStream::kStderr, "warning");
  process_.OutputAt(seconds(9), ProcessStream::kStdout, "never written");
  SupervisionResult result = Run();
  EXPECT_TRUE(result.timed_out);
  EXPECT_FALSE(result.escalated);
  EXPECT_EQ(result.ExitCode(), 128 + 9);
  EXPECT_THAT(process_.log(), ElementsAre("kill-tree at 2500 ms", "wait-for-tree"));
  EXPECT_EQ(File("stdout"), "partial ");
  EXPECT_EQ(File("stderr"), "warning");
}

TEST_F(SupervisorTest, CancellationKillsTheTreeAtTheNextPoll) {
  options_.is_cancelled = [this] { return clock_.Elapsed() >= milliseconds(1250); };
  SupervisionResult result = Run();
  EXPECT_TRUE(result.cancelled);
  EXPECT_FALSE(result.timed_out);
  // Polled every 100 ms: the first poll at or after 1250 ms.
  EXPECT_THAT(process_.log(), ElementsAre("kill-tree at 1300 ms", "wait-for-tree"));
}

TEST_F(SupervisorTest, ATreeThatSurvivesItsKillGetsSigkillAfterTheGracePeriod) {
  options_.deadline = clock_.At(seconds(1));
  options_.kill_grace = seconds(5);
  process_.IgnoreKillTree();
  SupervisionResult result = Run();
  EXPECT_TRUE(result.timed_out);
  EXPECT_TRUE(result.escalated);
  EXPECT_EQ(result.ExitCode(), 128 + 9);
  EXPECT_THAT(process_.log(),
              ElementsAre("kill-tree at 1000 ms", "kill-group at 6000 ms", "wait-for-tree"));
}

TEST_F(SupervisorTest, ATreeThatDiesWithinTheGracePeriodIsNotEscalated) {
  options_.deadline = clock_.At(seconds(1));
  process_.DieAfterKillTree(milliseconds(4999));
  SupervisionResult result = Run();
  EXPECT_FALSE(result.escalated);
  EXPECT_THAT(process_.log(), ElementsAre("kill-tree at 1000 ms", "wait-for-tree"));
  EXPECT_EQ(clock_.Elapsed(), milliseconds(5999));
}

TEST_F(SupervisorTest, OutputStillComingAfterTheExitIsCollectedUntilEndOfFile) {
  process_.ExitAt(seconds(1), ExitedWith(0));
  process_.OutputAt(seconds(3), ProcessStream::kStdout, "from a grandchild");
  process_.CloseStreamsAt(seconds(4));
  SupervisionResult result = Run();
  EXPECT_EQ(result.ExitCode(), 0);
  EXPECT_EQ(File("stdout"), "from a grandchild");
  EXPECT_EQ(clock_.Elapsed(), seconds(4));
}

TEST_F(SupervisorTest, TheStatusTextIsCollectedAndGivenToTheKill) {
  options_.deadline = clock_.At(seconds(2));
  process_.OutputAt(milliseconds(10), ProcessStream::kStatus, R"({"child-pid": 42})");
  SupervisionResult result = Run();
  EXPECT_EQ(result.status_text, R"({"child-pid": 42})");
  EXPECT_EQ(process_.status_text_at_kill(), R"({"child-pid": 42})");
}

TEST_F(SupervisorTest, PipedOutputAlsoGoesToTheLiveOutputDescriptor) {
  int live[2];
  ASSERT_EQ(pipe(live), 0);
  options_.live_output_fd = live[1];
  process_.OutputAt(seconds(1), ProcessStream::kStdout, "out ");
  process_.OutputAt(seconds(2), ProcessStream::kStderr, "err");
  process_.ExitAt(seconds(3), ExitedWith(0));
  Run();
  close(live[1]);
  char buffer[64] = {};
  ASSERT_EQ(read(live[0], buffer, sizeof buffer - 1), 7);
  close(live[0]);
  EXPECT_STREQ(buffer, "out err");
}

TEST_F(SupervisorTest, AFailedWaitKillsAndReapsTheTreeAndReportsTheError) {
  process_.FailWaitAt(seconds(1), Internal("poll: the sandbox's output: Bad file descriptor"));
  StatusOr<SupervisionResult> result = Supervise(process_, clock_, options_);
  EXPECT_EQ(result.status().code(), Code::kInternal);
  EXPECT_THAT(process_.log(), ElementsAre("kill-tree at 1000 ms", "kill-group at 1000 ms",
                                          "reap at 1000 ms", "wait-for-tree"));
}

TEST_F(SupervisorTest, NothingIsWrittenForStreamsThatStayedSilent) {
  process_.ExitAt(seconds(1), ExitedWith(0));
  Run();
  EXPECT_NE(access((dir_ + "/stdout").c_str(), F_OK), 0);
  EXPECT_THAT(File("stderr"), IsEmpty());
}

}  // namespace
}  // namespace cairn::testing
