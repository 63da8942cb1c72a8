// cairn/sandbox_common/process_supervisor.h — waiting for a sandboxed tree.
//
// The sandbox launches one child of this process (bwrap, or the chroot
// sandbox's PID-namespace init) whose exit implies that every process of
// the action is gone (the kernel kills a PID namespace with its init).
// Supervise() waits for it, without polling delays (pidfd), while it
//  - copies the command's stdout/stderr pipes, when given, to their files
//    and to a live-output descriptor;
//  - collects a status descriptor (bwrap's --info-fd, the chroot sandbox's
//    setup-error pipe) into a string;
//  - kills the tree through `kill` when the deadline passes or the host is
//    cancelled, then keeps waiting until the child is reaped; if it is not
//    gone 5 s after that, its whole process group gets SIGKILL.
// Takes ownership of (and closes) every descriptor in SupervisedChild.
#ifndef CAIRN_SANDBOX_COMMON_PROCESS_SUPERVISOR_H
#define CAIRN_SANDBOX_COMMON_PROCESS_SUPERVISOR_H

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "cairn/status.h"

namespace cairn {

struct SupervisedChild {
  pid_t pid = -1;         // a child of this process, leader of its own process group
  int stdout_pipe = -1;   // read ends, or -1 when the child writes to files itself
  int stderr_pipe = -1;
  int status_fd = -1;     // optional, read to EOF into status_text
  // Kills every process of the action; gets the status text read so far.
  std::function<void(const std::string& status_text)> kill;
  // Optional: after `pid` is reaped, waits until the rest of the tree is
  // gone too (for launchers whose child can exit before its namespace dies).
  std::function<void(const std::string& status_text)> wait_for_tree;
};

struct SupervisionOptions {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::function<bool()> is_cancelled;  // may be empty
  std::string stdout_path;             // where the pipes go (when used)
  std::string stderr_path;
  int live_output_fd = -1;
};

struct SupervisionResult {
  int wait_status = 0;  // from waitpid
  bool timed_out = false;
  bool cancelled = false;
  std::string status_text;

  // The exit code, or 128 + signal for a child killed by a signal.
  int ExitCode() const;
};

// pidfd_open(2), or -1 with errno (ENOSYS where the kernel lacks it).
int PidfdOpen(pid_t pid);

StatusOr<SupervisionResult> Supervise(SupervisedChild child, const SupervisionOptions& options);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_PROCESS_SUPERVISOR_H
