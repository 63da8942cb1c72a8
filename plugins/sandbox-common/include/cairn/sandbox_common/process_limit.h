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
//     the v1 pids hierarchy is used the same way (the first process joins
//     it through `tasks`, see JoinWaitsForGracePeriod). Forks past the limit
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

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
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

  // Whether a process joining a run's cgroup waits for an RCU grace period
  // (10-20 ms) unless another move was made within one (see
  // CgroupMoveKeeper): true on cgroup v2, where the child joins through
  // cgroup.procs, which takes a lock global to the host. On a v1 pids
  // hierarchy the child joins through `tasks`: it moves its one thread,
  // which that lock does not guard, so it never waits.
  static bool JoinWaitsForGracePeriod();

  const std::string& path() const { return path_; }
  // Open for writing: JoinProcessLimit writes "0" to it (cgroup.procs on
  // v2, tasks on v1).
  int join_fd() const { return join_.get(); }
  // Whether a fork failed in it for the limit (pids.events "max" > 0).
  bool LimitReached() const;

 private:
  PidsCgroup(std::string path, UniqueFd join) : path_(std::move(path)), join_(std::move(join)) {}

  std::string path_;
  UniqueFd join_;
};

// Keeps moves into cgroups cheap while runs are about to start, where
// PidsCgroup::JoinWaitsForGracePeriod(). Why: a move of a process into a
// cgroup (the child's JoinProcessLimit on cgroup v2) takes a lock whose
// first writer after a quiet spell waits for an RCU grace period (10-20
// ms, more on a loaded host), while a writer within a grace period of the
// previous one does not wait. So while a run is being prepared, a
// thread of its own moves this process into the pids cgroup it is already
// in (changing nothing) every 2 ms: the first move pays the wait, overlapped
// with the host's staging, and the child's own move, right after, finds
// the lock warm. A one-off move made at the start would not do: staging
// often outlasts a grace period, and the child would wait again.
//
// Each Hold() keeps the moves going while it lives, and for a short linger
// after it ends (the child joins its cgroup just after Launch returns);
// KeepFor() keeps them going for a while without a holder (a sandbox that
// was just opened, whose first run is being built). Idle otherwise.
// Nothing happens where this process is in no pids cgroup. Thread-safe.
class CgroupMoveKeeper {
 public:
  class Hold {
   public:
    explicit Hold(CgroupMoveKeeper* keeper);
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    CgroupMoveKeeper* keeper_;
  };

  CgroupMoveKeeper();
  // Stops at once, without the linger.
  ~CgroupMoveKeeper();
  CgroupMoveKeeper(const CgroupMoveKeeper&) = delete;
  CgroupMoveKeeper& operator=(const CgroupMoveKeeper&) = delete;

  void KeepFor(std::chrono::milliseconds duration);
  // How many moves the thread made (for tests).
  uint64_t moves() const { return moves_.load(); }

 private:
  void Loop();
  void Acquire();
  void Release();

  std::mutex mutex_;
  std::condition_variable wake_;
  int holders_ = 0;
  std::chrono::steady_clock::time_point keep_until_;
  bool stopping_ = false;
  std::atomic<uint64_t> moves_{0};
  std::thread thread_;
};

// In a freshly cloned, single-threaded child, before it execs or forks
// anything: joins the cgroup behind `cgroup_join_fd` when it is >= 0, else sets RLIMIT_NPROC
// to `max_processes` (0: no limit). System calls only (safe between
// clone() and exec in a multithreaded host). 0, or -1 with errno set.
int JoinProcessLimit(int cgroup_join_fd, uint64_t max_processes);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_PROCESS_LIMIT_H
