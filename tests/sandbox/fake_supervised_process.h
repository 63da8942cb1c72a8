// fake_supervised_process.h — a scripted process tree for supervisor tests.
//
// The test scripts what happens when (output on a stream, the exit), and
// how the tree answers a kill; the fake plays it on a FakeClock: each
// WaitForActivity advances the clock to the next scripted event, or by its
// whole max_wait when nothing is due, as a real process tree that stays
// silent would. What the supervisor did is logged with the clock's time:
//
//   FakeClock clock;
//   FakeSupervisedProcess process(clock);
//   process.OutputAt(seconds(1), ProcessStream::kStdout, "half a line");
//   process.IgnoreKillTree();  // so the supervisor has to escalate
//   Supervise(process, clock, options);
//   EXPECT_THAT(process.log(), ElementsAre("kill-tree at 3000 ms", ...));
//
// One thread at a time, like a real SupervisedProcess.
#ifndef CAIRN_TESTS_SANDBOX_FAKE_SUPERVISED_PROCESS_H
#define CAIRN_TESTS_SANDBOX_FAKE_SUPERVISED_PROCESS_H

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cairn/sandbox_common/supervised_process.h"
#include "fake_clock.h"

namespace cairn::testing {

enum class ProcessStream { kStdout, kStderr, kStatus };

// waitpid() statuses.
int ExitedWith(int code);
int KilledBy(int signal_number);

class FakeSupervisedProcess : public SupervisedProcess {
 public:
  using Duration = std::chrono::milliseconds;

  // Times are from the clock's start.
  explicit FakeSupervisedProcess(FakeClock& clock) : clock_(clock) {}

  // --- Script.
  void OutputAt(Duration at, ProcessStream stream, std::string data);
  // Exits by itself; its streams reach end of file then too, unless
  // CloseStreamsAt says later.
  void ExitAt(Duration at, int wait_status);
  void CloseStreamsAt(Duration at);
  // How the tree answers KillTree: by dying `delay` later (the default,
  // at once), or not at all.
  void DieAfterKillTree(Duration delay) { kill_tree_delay_ = delay; }
  void IgnoreKillTree() { kill_tree_delay_.reset(); }
  // WaitForActivity fails with `status` once the clock reaches `at`.
  void FailWaitAt(Duration at, Status status);
  // A supervisor that never stops the process would wait forever: after
  // this much fake time (default an hour) every wait fails instead, so
  // such a test fails rather than hangs.
  void GiveUpAfter(Duration limit) { give_up_after_ = limit; }

  // --- What happened: "kill-tree at 3000 ms", "kill-group at 8000 ms",
  // "reap at 8000 ms", "wait-for-tree"; and the status text KillTree was
  // given.
  const std::vector<std::string>& log() const { return log_; }
  const std::string& status_text_at_kill() const { return status_text_at_kill_; }

  std::optional<int> TryReap() override;
  Status WaitForActivity(std::chrono::milliseconds max_wait, ProcessOutput* output) override;
  bool HasOpenStreams() const override;
  void KillTree(const std::string& status_text) override;
  void KillProcessGroup() override;
  int Reap() override;
  void WaitForTree(const std::string& status_text) override;

 private:
  enum class Kind { kOutput, kExit, kCloseStreams, kFailWait };
  struct Event {
    Event(Duration at_time, Kind event_kind) : at(at_time), kind(event_kind) {}
    Duration at;
    Kind kind;
    ProcessStream stream = ProcessStream::kStdout;
    std::string data;
    int wait_status = 0;
    Status failure;
  };

  Duration Elapsed() { return clock_.Elapsed(); }
  void Schedule(Event event);
  // Applies every event due by now, output into `output`; sets *happened
  // (optional) when there was one. Returns a wait failure when one came due
  // (only `in_wait`).
  Status ApplyDue(ProcessOutput* output, bool in_wait, bool* happened);
  void Note(const std::string& what);

  FakeClock& clock_;
  std::vector<Event> pending_;  // by time, then in the order scripted
  ProcessOutput buffered_;      // output due but not yet read
  std::optional<int> exit_status_;
  std::optional<Duration> streams_close_at_;
  bool streams_closed_ = false;
  std::optional<Duration> kill_tree_delay_ = Duration(0);
  Duration give_up_after_ = std::chrono::hours(1);
  std::vector<std::string> log_;
  std::string status_text_at_kill_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SANDBOX_FAKE_SUPERVISED_PROCESS_H
