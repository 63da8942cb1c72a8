// chroot_child.h — the chroot sandbox's process tree.
//
// StartChrootChild() clone()s a child into new mount, PID, UTS, IPC and
// (unless network=on) network namespaces. That child is PID 1 of its
// namespace; it
//   0. joins the run's process limit (a pids cgroup, or RLIMIT_NPROC),
//      then a new cgroup namespace rooted there, and replaces its command
//      line — a copy of the host's, which any process inside could read
//      as /proc/1/cmdline — with "cairn-init" (overwritten in place, and
//      its name, /proc/1/comm, with prctl PR_SET_NAME),
//   1. makes every mount private, binds the staged root onto itself
//      read-only (nosuid, nodev) with each of the run's writable mounts
//      (private copies of the working directory or of the output
//      directories) bound read-write (nosuid, nodev) over it, in order (or
//      the whole root read-write when asked),
//   2. mounts /proc, a tmpfs /dev holding only null, zero, full, random and
//      urandom bound from the host (plus tty for interactive runs) and the
//      /dev/fd, stdin, stdout, stderr symlinks, and a 1777 tmpfs /tmp,
//   3. sets the hostname, brings loopback up, chroot()s and chdir()s,
//   4. forks the command (PID 2): a new session (not for interactive
//      runs), unixGID/unixUID, every capability dropped (bounding set
//      included, no_new_privs), then execve() with exactly the Command's
//      environment,
//   5. reaps children until the command exits and exits with its status
//      (128 + signal when killed); the kernel then kills whatever is left
//      in the namespace before the host sees PID 1 exit.
// Any setup failure is written to `error_fd` as "ERRNO STEP" and the child
// exits 127. Between clone() and execve() only system calls are made, on
// memory prepared beforehand (the host is multithreaded).
#ifndef CAIRN_PLUGINS_CHROOT_CHROOT_CHILD_H
#define CAIRN_PLUGINS_CHROOT_CHROOT_CHILD_H

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cairn/sandbox_common/overlay_mount.h"
#include "cairn/sandbox_common/staged_root.h"
#include "cairn/status.h"

namespace cairn {

struct ChrootChildSpec {
  std::string root_dir;  // host path of the staged root (an overlay's mount point)
  bool root_writable = false;
  // Mounted at root_dir first, when set (overlay_mount.h).
  std::optional<OverlayMountPlan> overlay;
  // Bound read-write, in order, over the read-only root (unless
  // root_writable).
  std::vector<WritableMount> writable_mounts;
  std::string working_inside;  // chdir target after chroot ("/build")
  std::string program;         // inside the root
  std::vector<std::string> arguments;
  std::vector<std::string> environment;  // "NAME=value", sorted
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  bool network = false;
  bool interactive = false;
  int stdin_fd = 0;
  int stdout_fd = 1;
  int stderr_fd = 2;
  // The process limit, joined before anything else (process_limit.h).
  int cgroup_join_fd = -1;
  uint64_t max_processes = 0;
};

// Returns PID 1's pid (in this process's namespace); `error_fd` is the
// write end of a CLOEXEC pipe, closed by the caller afterwards.
StatusOr<pid_t> StartChrootChild(const ChrootChildSpec& spec, int error_fd);

// "mount /proc: Operation not permitted" from the child's "ERRNO STEP".
std::string DescribeChildError(const std::string& report);

}  // namespace cairn

#endif  // CAIRN_PLUGINS_CHROOT_CHROOT_CHILD_H
