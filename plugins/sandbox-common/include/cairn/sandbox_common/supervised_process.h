// cairn/sandbox_common/supervised_process.h — the process side of supervision.
//
// Everything the supervisor (process_supervisor.h) does to the sandboxed
// process tree goes through this small interface, as ninja's builder goes
// through its CommandRunner: the real implementation (AdoptChild) works on
// a child of this process with pipes and a pidfd; unit tests substitute a
// scripted fake, so the timeout, cancellation, kill-escalation and
// partial-result logic is tested without root, processes or sleeps.
//
// One SupervisedProcess per run, used by one thread.
#ifndef CAIRN_SANDBOX_COMMON_SUPERVISED_PROCESS_H
#define CAIRN_SANDBOX_COMMON_SUPERVISED_PROCESS_H

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cairn/status.h"

namespace cairn {

// What one wait brought from the process's descriptors.
struct ProcessOutput {
  std::string stdout_data;  // from the stdout pipe, when there is one
  std::string stderr_data;
  std::string status_data;  // from the status descriptor
};

class SupervisedProcess {
 public:
  virtual ~SupervisedProcess() = default;

  // Without blocking: the waitpid() status once the launched process has
  // exited (it is then reaped), nullopt while it runs.
  virtual std::optional<int> TryReap() = 0;
  // Blocks until a descriptor has data or reaches end of file, the process
  // exits, or `max_wait` passes, whichever is first; appends what was read
  // to `output`. An error here ends supervision.
  virtual Status WaitForActivity(std::chrono::milliseconds max_wait, ProcessOutput* output) = 0;
  // Whether a pipe or the status descriptor is still open: supervision
  // goes on until each reached end of file.
  virtual bool HasOpenStreams() const = 0;
  // Kills every process of the action the launcher's way (e.g. the PID
  // namespace's init), given the status text read so far.
  virtual void KillTree(const std::string& status_text) = 0;
  // The last resort when KillTree did not work: SIGKILL to the whole
  // process group.
  virtual void KillProcessGroup() = 0;
  // Blocks until the process exits; returns its waitpid() status.
  virtual int Reap() = 0;
  // After the process was reaped: waits until the rest of the tree is gone
  // (for launchers whose child can exit before its namespace dies).
  virtual void WaitForTree(const std::string& status_text) = 0;
};

// A child of this process as a launcher leaves it.
struct SupervisedChild {
  pid_t pid = -1;        // a child of this process, leader of its own process group
  int stdout_pipe = -1;  // read ends, or -1 when the child writes to files itself
  int stderr_pipe = -1;
  int status_fd = -1;  // optional, read to EOF into the status text
  // Kills every process of the action; gets the status text read so far.
  std::function<void(const std::string& status_text)> kill;
  // Optional; see SupervisedProcess::WaitForTree.
  std::function<void(const std::string& status_text)> wait_for_tree;
};

// The real SupervisedProcess: waits with poll() on the descriptors and a
// pidfd (pidfd_open(2); polling every 5 ms where the kernel lacks it).
// Takes ownership of (and closes) every descriptor in `child`.
std::unique_ptr<SupervisedProcess> AdoptChild(SupervisedChild child);

// pidfd_open(2), or -1 with errno (ENOSYS where the kernel lacks it).
int PidfdOpen(pid_t pid);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_SUPERVISED_PROCESS_H
