// cairn/sandbox_common/process_limit.h — at most N processes per action.
//
// A fork bomb in a sandbox must fail inside the sandbox, not exhaust the
// host. Every local sandbox takes a `max-processes` option (default
// kDefaultMaxProcesses) and enforces it for each run in one of two ways:
//
//  1. A pids cgroup (PidsCgroup): a new cgroup below this process's own,
//     with pids.max = N, which the sandbox's first process joins before it
//     starts anything, so every process and thread of the action counts
//     (the sandbox's own helpers too: bwrap's two processes, the chroot
//     sandbox's init). On cgroup v2 that needs the pids controller enabled
//     for this process's cgroup's children (delegation: the cgroup must
//     list pids in cgroup.controllers, and either already have it in
//     cgroup.subtree_control or accept "+pids" there — which the kernel
//     refuses for a non-root cgroup holding processes). On a hybrid host
//     the v1 pids hierarchy is used the same way. Forks past the limit
//     fail with EAGAIN, and the cgroup's pids.events tells that they did.
//     The cgroup is removed after the run (anything left in it killed),
//     and those of a host killed mid-run when a sandbox is next created.
//     (On the hybrid CI host — cgroup2 mounted at /sys/fs/cgroup/unified
//     without controllers, pids on v1 — the v1 hierarchy is the one used.)
//  2. Otherwise RLIMIT_NPROC = N, set in the sandbox's first process. It
//     counts every process of the command's real uid (per user namespace
//     since Linux 5.14, and in every ancestor namespace), and the kernel
//     never enforces it for the host's root user (kuid 0) nor for holders
//     of CAP_SYS_RESOURCE or CAP_SYS_ADMIN. So it bounds bwrap run by an
//     unprivileged user (the command's uid in bwrap's user namespace maps
//     to that user) and chroot commands with a non-root unixUID (counting
//     that uid's processes on the whole host), but not a command running
//     as the host's root — bwrap run by root maps the command to kuid 0
//     even with --uid — and the sandbox says so in its log.
//
// PidsCgroup is not thread-safe; one per run.
#ifndef CAIRN_SANDBOX_COMMON_PROCESS_LIMIT_H
#define CAIRN_SANDBOX_COMMON_PROCESS_LIMIT_H

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "cairn/plugin_options.h"
#include "cairn/status.h"
#include "cairn/unique_fd.h"

namespace cairn {

inline constexpr int64_t kDefaultMaxProcesses = 4096;

// The `max-processes` option: INVALID_ARGUMENT naming the sandbox unless
// it is a whole number from 1 to 4194304 (the kernel's highest pid_max).
StatusOr<uint64_t> MaxProcesses(PluginOptions& options, const std::string& sandbox);

class PidsCgroup {
 public:
  // A cgroup named `name` + a counter below this process's own pids
  // cgroup, limited to `max_processes`. UNAVAILABLE saying why when none
  // can be made here (no pids controller, not delegated, no permission).
  static StatusOr<std::unique_ptr<PidsCgroup>> Create(const std::string& name,
                                                      uint64_t max_processes);
  // Kills whatever is still in the cgroup and removes it.
  ~PidsCgroup();
  // Removes the cgroups named `prefix` + PID + "-" ... that a process PID
  // which no longer exists left behind (killed mid-run), where Create
  // would make new ones. Returns how many.
  static size_t RemoveLeftovers(const std::string& prefix);
  PidsCgroup(const PidsCgroup&) = delete;
  PidsCgroup& operator=(const PidsCgroup&) = delete;

  const std::string& path() const { return path_; }
  // cgroup.procs, open for writing: JoinProcessLimit writes "0" to it.
  int procs_fd() const { return procs_.get(); }
  // Whether a fork failed in it for the limit (pids.events "max" > 0).
  bool LimitReached() const;

 private:
  PidsCgroup(std::string path, UniqueFd procs) : path_(std::move(path)), procs_(std::move(procs)) {}

  std::string path_;
  UniqueFd procs_;
};

// Starts, on a thread of its own, a move of this process into the pids
// cgroup it is already in (changing nothing), and waits for it when
// destroyed. Why: a move into a cgroup takes a lock whose first writer
// after a quiet spell waits for an RCU grace period (about 10 ms), and a
// writer soon after another does not wait. Made when a sandbox is
// created, the wait overlaps the host's work before the first run (the
// capture of its root, building the Action) instead of delaying that
// run's start in JoinProcessLimit. Nothing happens where no pids cgroup
// can be used.
class CgroupMoveWarmup {
 public:
  CgroupMoveWarmup();
  ~CgroupMoveWarmup();
  CgroupMoveWarmup(const CgroupMoveWarmup&) = delete;
  CgroupMoveWarmup& operator=(const CgroupMoveWarmup&) = delete;

 private:
  std::thread thread_;
};

// In a freshly cloned child, before it execs or forks anything: joins the
// cgroup behind `cgroup_procs_fd` when it is >= 0, else sets RLIMIT_NPROC
// to `max_processes` (0: no limit). System calls only (safe between
// clone() and exec in a multithreaded host). 0, or -1 with errno set.
int JoinProcessLimit(int cgroup_procs_fd, uint64_t max_processes);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_PROCESS_LIMIT_H
