// cairn/sandbox_common/local_sandbox.h — the shared half of bwrap and chroot.
//
// LocalSandbox implements cairn::Sandbox once for every sandbox that runs
// an Action on this machine: load and validate the Action (action_spec.h),
// stage its input root (staged_root.h), resolve argv[0] in the root
// (command_resolver.h), launch, supervise (process_supervisor.h), capture
// outputs, stdout and stderr into the host's CAS (output_capture.h), fill
// in the exit code and ExecutedActionMetadata, and remove the scratch
// directory on every path (in the background, see scratch_janitor.h) —
// and, when created, the scratch directories of its runs in processes
// that died without removing them (ScratchJanitor::DisposeLeftovers). A
// subclass supplies only Launch(): how to start the sandboxed process tree
// on a staged root, and how to kill it.
//
// Execute stops the command, keeping the output streams so far as a
// partial result, when the Action's timeout passes (DEADLINE_EXCEEDED) or
// when the host or the call's ExecuteOptions::is_cancelled asks
// (CANCELLED). It reports ExecuteOptions::progress on the calling thread:
// kExecuting once the command started, kFetching while its outputs are
// captured, kCompleted at the end (also after a failure, once the command
// started). Time comes from a SupervisionClock, so tests can replace it,
// and the process from Launch (tests return a fake SupervisedProcess).
//
// Because staging, command lookup and capture are shared, the same Action
// gives the same ActionResult (execution_metadata aside) from every local
// sandbox; the parity tests hold the subclasses to the rest.
//
// Thread-safe: Execute may run concurrently; each run has its own scratch
// directory, and shares only read-only roots with other runs.
#ifndef CAIRN_SANDBOX_COMMON_LOCAL_SANDBOX_H
#define CAIRN_SANDBOX_COMMON_LOCAL_SANDBOX_H

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "cairn/host_services.h"
#include "cairn/plugin_options.h"
#include "cairn/sandbox.h"
#include "cairn/sandbox_common/action_spec.h"
#include "cairn/sandbox_common/process_limit.h"
#include "cairn/sandbox_common/process_supervisor.h"
#include "cairn/sandbox_common/scratch_janitor.h"
#include "cairn/sandbox_common/staged_root.h"
#include "cairn/sandbox_common/staged_root_cache.h"

namespace cairn {

// Stdout/stderr of at most this size are also inlined when asked for.
inline constexpr size_t kMaxInlineOutputBytes = size_t{64} * 1024;

// The fixed hostname every local sandbox gives its commands.
inline constexpr const char* kSandboxHostname = "cairn";

struct LaunchRequest {
  const ActionSpec* spec = nullptr;
  const StagedRoot* root = nullptr;
  std::string program;  // argv[0] resolved inside the sandbox ("/bin/sh")
  // Where the input root is inside the sandbox: "/", or the directory
  // LocalSandbox::HostToolsRoot() named. The command starts in its
  // working directory below it.
  std::string input_root_inside = "/";
  bool interactive = false;
  // The child's stdin/stdout/stderr (the launcher dup2()s them to 0, 1, 2).
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // The process limit (process_limit.h): the launcher's first process
  // calls JoinProcessLimit(cgroup_join_fd, max_processes) before it starts
  // anything else (-1 / 0: none).
  int cgroup_join_fd = -1;
  uint64_t max_processes = 0;
};

// What Launch started: a child of this process, supervised through
// AdoptChild, or (for launchers in unit tests) a ready SupervisedProcess.
struct LaunchedProcess {
  pid_t pid = -1;      // waited for by the supervisor; its exit means the tree is gone
  int status_fd = -1;  // optional; see SupervisedChild::status_fd
  std::function<void(const std::string& status_text)> kill;
  std::function<void(const std::string& status_text)> wait_for_tree;  // optional
  // When set, supervised as it is: the fields above are unused, and the
  // command's pipes (live output) are closed unread. (Shared only so that
  // LaunchedProcess stays copyable.)
  std::shared_ptr<SupervisedProcess> process;
};

class LocalSandbox : public Sandbox {
 public:
  StatusOr<SandboxCapabilities> Capabilities() override;
  ExecuteOutcome Execute(const Action& action, const ExecuteOptions& options) override;
  StatusOr<int> RunInteractive(const Action& action, const InteractiveOptions& options) override;

 protected:
  // `name` names the sandbox in messages and scratch directories; `flags`
  // are its CAIRN_SANDBOX_* capabilities; `root_cache_capacity` is how many
  // staged read-only roots are kept on disk for reuse, by this process and
  // others on the same scratch directory (0: none; staged_root_cache.h);
  // `clock` decides timeouts (a SteadyClock when null); `max_processes`
  // bounds each run's processes (0: no bound; see process_limit.h).
  LocalSandbox(HostServices host, std::string name, std::string scratch_dir, uint32_t flags,
               size_t root_cache_capacity = kDefaultStagedRootCacheCapacity,
               std::shared_ptr<SupervisionClock> clock = nullptr, uint64_t max_processes = 0);

  // Empty (the default) when the input root is the sandbox's "/": Cairn's
  // and BuildStream's actions carry a whole system. Otherwise the sandbox
  // runs the host's own tools, as Bazel's and recc's actions expect (they
  // carry only their declared inputs): its "/" is a read-only view of the
  // host, and the input root, staged as a private writable copy, is bound
  // at this absolute path (below the sandbox's private /tmp, so it never
  // hides a host path). argv[0] is then looked up on that view
  // (ResolveHostToolsProgram); staging, output capture, limits,
  // supervision and cancellation are the same in both modes.
  virtual std::string HostToolsRoot() const { return ""; }
  // Whether the writable parts must be chowned to unixUID/unixGID (true
  // when the sandbox really switches user rather than mapping it).
  virtual bool ChownsWritableParts() const { return false; }
  // Whether Launch mounts a StagedRoot::overlay() (overlay_mount.h) in its
  // child, writing kOverlayFailedStatus to its status descriptor when that
  // fails.
  virtual bool MountsOverlayRoots() const { return false; }
  // Starts the sandboxed process tree. Descriptors in `request` are
  // borrowed; the caller closes its copies after Launch returns.
  virtual StatusOr<LaunchedProcess> Launch(const LaunchRequest& request) = 0;
  // Non-OK when the sandbox itself failed to set up (as opposed to the
  // command exiting non-zero), with a message naming the cause.
  virtual Status CheckSetup(const SupervisionResult& result, const StagedRoot& root,
                            bool interactive) = 0;

  const HostServices& host() const { return host_; }
  const std::string& name() const { return name_; }

 private:
  struct Run;
  StatusOr<Run> Prepare(const Action& action, bool interactive);
  using StageReporter = std::function<void(ExecuteStage stage, const std::string& message)>;
  // Execute, but for the final kCompleted report.
  ExecuteOutcome ExecuteAndReport(const Action& action, const ExecuteOptions& options,
                                  const StageReporter& report);
  // A pids cgroup for one run, or null with `request` set for RLIMIT_NPROC
  // (process_limit.h); logs which applies.
  std::unique_ptr<PidsCgroup> LimitProcesses(LaunchRequest& request);
  // Whether `result` says the overlay root of `root` could not be mounted
  // (the command never started); from then on this sandbox copies.
  bool OverlayFailed(const SupervisionResult& result, const StagedRoot& root);
  bool OverlaysAllowed() const { return MountsOverlayRoots() && !overlays_failed_.load(); }
  // Launches and supervises the command of a prepared run.
  StatusOr<SupervisionResult> RunCommand(Run& run, const ExecuteOptions& options,
                                         const StageReporter& report, ActionResult* result);

  HostServices host_;
  std::string name_;
  std::string scratch_dir_;
  uint32_t flags_;
  std::shared_ptr<SupervisionClock> clock_;
  uint64_t max_processes_;
  std::atomic<bool> told_about_rlimit_{false};
  // An overlay root failed to mount here: copies from now on.
  std::atomic<bool> overlays_failed_{false};
  std::unique_ptr<CgroupMoveKeeper> cgroup_keeper_;  // with max_processes_
  // Destroyed after the cache, finishing every pending removal (the cached
  // roots' included).
  std::unique_ptr<ScratchJanitor> janitor_;
  std::unique_ptr<StagedRootCache> roots_;
};

// The `root-cache-size` option every local sandbox takes: how many staged
// read-only roots to keep on disk, shared by every process using the same
// scratch directory (default kDefaultStagedRootCacheCapacity; 0
// turns reuse off). INVALID_ARGUMENT for a negative or non-numeric value.
StatusOr<size_t> RootCacheCapacity(PluginOptions& options, const std::string& sandbox);

// The default scratch directory: <host scratch dir>/sandbox when the host
// gives one, else $TMPDIR/cairn-sandbox (or /tmp/...).
std::string DefaultScratchDir(const HostServices& host);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_LOCAL_SANDBOX_H
