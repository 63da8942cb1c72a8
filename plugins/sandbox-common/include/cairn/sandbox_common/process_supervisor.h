// cairn/sandbox_common/process_supervisor.h — waiting for a sandboxed tree.
//
// The sandbox launches one child of this process (bwrap, or the chroot
// sandbox's PID-namespace init) whose exit implies that every process of
// the action is gone (the kernel kills a PID namespace with its init).
// Supervise() waits for it, without polling delays, while it
//  - copies the command's stdout/stderr, when they come through pipes, to
//    their files and to a live-output descriptor;
//  - collects a status descriptor (bwrap's --info-fd, the chroot sandbox's
//    setup-error pipe) into a string;
//  - kills the tree (KillTree) when the deadline passes or is_cancelled
//    says so, then keeps waiting until the child is reaped; if it is not
//    gone `kill_grace` after that, its whole process group gets SIGKILL.
//
// The decisions are made here; the effects go through two small
// interfaces, a SupervisionClock and a SupervisedProcess, so that unit
// tests run this logic against fakes (tests/sandbox/supervisor_test.cc):
//
//   SupervisionOptions options;
//   options.deadline = clock.Now() + std::chrono::seconds(10);
//   options.is_cancelled = [&] { return host.IsCancelled(); };
//   StatusOr<SupervisionResult> result = Supervise(*process, clock, options);
//   if (result.ok() && result->timed_out) ...
//
// Errors: a stream file that cannot be created or a failed wait; the tree
// is killed and reaped before Supervise returns, whatever happened.
#ifndef CAIRN_SANDBOX_COMMON_PROCESS_SUPERVISOR_H
#define CAIRN_SANDBOX_COMMON_PROCESS_SUPERVISOR_H

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "cairn/sandbox_common/supervised_process.h"
#include "cairn/sandbox_common/supervision_clock.h"
#include "cairn/status.h"

namespace cairn {

// How long a killed tree gets to disappear before its process group is
// sent SIGKILL.
inline constexpr std::chrono::milliseconds kDefaultKillGrace = std::chrono::seconds(5);

struct SupervisionOptions {
  std::optional<SupervisionClock::TimePoint> deadline;  // on the supervising clock
  std::function<bool()> is_cancelled;                   // may be empty
  std::string stdout_path;  // where data from the pipes goes (created on first use)
  std::string stderr_path;
  int live_output_fd = -1;  // also gets the piped stdout and stderr
  std::chrono::milliseconds kill_grace = kDefaultKillGrace;
};

struct SupervisionResult {
  int wait_status = 0;  // from waitpid
  bool timed_out = false;
  bool cancelled = false;
  bool escalated = false;  // the process group got SIGKILL after the grace period
  std::string status_text;

  // The exit code, or 128 + signal for a child killed by a signal.
  int ExitCode() const;
};

// Supervises `process` on `clock` until it has exited and every stream
// reached end of file. Not thread-safe for one process; distinct runs may
// be supervised concurrently.
StatusOr<SupervisionResult> Supervise(SupervisedProcess& process, SupervisionClock& clock,
                                      const SupervisionOptions& options);

// The real thing: AdoptChild(child) on a SteadyClock.
StatusOr<SupervisionResult> Supervise(SupervisedChild child, const SupervisionOptions& options);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_PROCESS_SUPERVISOR_H
