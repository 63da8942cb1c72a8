#include "cairn/sandbox_common/local_sandbox.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "cairn/action_rules.h"
#include "cairn/sandbox_common/command_resolver.h"
#include "cairn/sandbox_common/output_capture.h"
#include "cairn/sandbox_common/overlay_mount.h"
#include "cairn/sandbox_common/platform_requirements.h"
#include "cairn/unique_fd.h"

namespace cairn {
namespace {

using Timestamp = google::protobuf::Timestamp;

Timestamp Now() {
  auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  Timestamp timestamp;
  timestamp.set_seconds(seconds.count());
  timestamp.set_nanos(static_cast<int32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds).count()));
  return timestamp;
}

StatusOr<UniqueFd> OpenFile(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  return UniqueFd(fd);
}

Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", "for the command's output", errno);
  *read_end = UniqueFd(fds[0]);
  *write_end = UniqueFd(fds[1]);
  return Status::Ok();
}

StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("open", path, errno);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// Stores a stream file (moving it into the store) and fills digest/raw.
Status StoreStream(Storage& cas, const std::string& path, bool inline_small, Digest* digest,
                   std::string* raw) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    // The command's stream went straight to a file that was never created:
    // it produced nothing.
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return ErrnoStatus("create", path, errno);
    close(fd);
    info.st_size = 0;
  }
  if (inline_small && static_cast<size_t>(info.st_size) <= kMaxInlineOutputBytes) {
    CAIRN_ASSIGN_OR_RETURN(*raw, ReadSmallFile(path));
  }
  CAIRN_ASSIGN_OR_RETURN(*digest, cas.WriteBlobFromPath(path, true, std::nullopt));
  return Status::Ok();
}

// The process the supervisor drives: the launcher's own, or its child
// with the command's pipes (live output).
std::shared_ptr<SupervisedProcess> Supervisable(LaunchedProcess launched, UniqueFd stdout_pipe,
                                                UniqueFd stderr_pipe) {
  if (launched.process) return launched.process;
  SupervisedChild child;
  child.pid = launched.pid;
  child.kill = std::move(launched.kill);
  child.wait_for_tree = std::move(launched.wait_for_tree);
  child.status_fd = launched.status_fd;
  child.stdout_pipe = stdout_pipe.Release();
  child.stderr_pipe = stderr_pipe.Release();
  return AdoptChild(std::move(child));
}

std::string FormatSeconds(std::chrono::milliseconds duration) {
  std::string text = std::to_string(duration.count() / 1000);
  if (duration.count() % 1000 != 0) {
    std::string millis = std::to_string(duration.count() % 1000);
    text += "." + std::string(3 - millis.size(), '0') + millis;
  }
  return text + " s";
}

std::string Millis(const Timestamp& from, const Timestamp& to) {
  double ms = static_cast<double>(to.seconds() - from.seconds()) * 1e3 +
              static_cast<double>(to.nanos() - from.nanos()) / 1e6;
  return std::to_string(ms) + " ms";
}

// The StagingPlan of what a run of `action` at the root would need, as far
// as TakesOverlayRoot asks, from its Command as it stands (before
// validation: a Command that does not validate gets a plan taking none).
StagingPlan PlanAtTheRoot(const Action& action, const Command& command, bool overlay_allowed,
                          bool chowns_writable_parts) {
  StagingPlan plan;
  StatusOr<std::vector<std::string>> outputs =
      ValidateCommandMessage(command, OrderRule::kAcceptUnsorted);
  StatusOr<Platform> platform = EffectivePlatform(action, command);
  plan.overlay_allowed = overlay_allowed && outputs.ok() && platform.ok();
  if (!plan.overlay_allowed) return plan;
  plan.output_paths = *outputs;
  for (const auto& property : platform->properties()) {
    bool sets_user = property.name() == "unixUID" || property.name() == "unixGID";
    if (sets_user && chowns_writable_parts) plan.owner_uid = 0;  // someone, as far as it matters
  }
  return plan;
}

}  // namespace

struct LocalSandbox::Run {
  ActionSpec spec;
  std::unique_ptr<StagedRoot> root;
  std::string program;
  std::string input_root_inside = "/";
  // From the start of staging until the command was launched (it then
  // joins its pids cgroup at once; process_limit.h).
  std::unique_ptr<CgroupMoveKeeper::Hold> keep_moves_cheap;
};

std::string DefaultScratchDir(const HostServices& host) {
  // The host's scratch directory shares a filesystem with its store, so the
  // read-only part of a root can be hardlinked instead of copied.
  std::string from_host = host.scratch_dir();
  if (!from_host.empty()) return from_host + "/sandbox";
  const char* tmpdir = std::getenv("TMPDIR");
  std::string base = tmpdir != nullptr && tmpdir[0] == '/' ? tmpdir : "/tmp";
  return base + "/cairn-sandbox";
}

StatusOr<size_t> RootCacheCapacity(PluginOptions& options, const std::string& sandbox) {
  CAIRN_ASSIGN_OR_RETURN(
      int64_t capacity,
      options.GetInt("root-cache-size", static_cast<int64_t>(kDefaultStagedRootCacheCapacity)));
  if (capacity < 0) {
    return InvalidArgument(sandbox + ": option root-cache-size must be 0 or more, not " +
                           std::to_string(capacity));
  }
  return static_cast<size_t>(capacity);
}

LocalSandbox::LocalSandbox(HostServices host, std::string name, std::string scratch_dir,
                           uint32_t flags, size_t root_cache_capacity,
                           std::shared_ptr<SupervisionClock> clock, uint64_t max_processes)
    : host_(std::move(host)),
      name_(std::move(name)),
      scratch_dir_(std::move(scratch_dir)),
      flags_(flags),
      clock_(clock ? std::move(clock) : std::make_shared<SteadyClock>()),
      max_processes_(max_processes),
      janitor_(std::make_unique<ScratchJanitor>()),
      roots_(std::make_unique<StagedRootCache>(scratch_dir_, name_ + "-", root_cache_capacity,
                                               janitor_.get())) {
  if (max_processes_ > 0) {
    PidsCgroup::RemoveLeftovers("cairn-" + name_ + "-");
    if (PidsCgroup::JoinWaitsForGracePeriod()) {
      // The host builds the first Action (capturing its root, say) now.
      cgroup_keeper_ = std::make_unique<CgroupMoveKeeper>();
      cgroup_keeper_->KeepFor(std::chrono::seconds(1));
    }
  }
  size_t leftovers = janitor_->DisposeLeftovers(scratch_dir_, name_ + "-");
  if (leftovers > 0) {
    host_.Info(name_ + ": removing " + std::to_string(leftovers) + " scratch director" +
               (leftovers == 1 ? "y" : "ies") + " left in " + scratch_dir_ +
               " by runs whose process is gone");
  }
}

StatusOr<SandboxCapabilities> LocalSandbox::Capabilities() { return LocalCapabilities(flags_); }

StatusOr<LocalSandbox::Run> LocalSandbox::Prepare(const Action& action, bool interactive) {
  Storage* cas = host_.cas();
  if (cas == nullptr) {
    return FailedPrecondition("the " + name_ + " sandbox needs the host's CAS, and none was given");
  }
  Run run;
  run.keep_moves_cheap = std::make_unique<CgroupMoveKeeper::Hold>(cgroup_keeper_.get());
  // Only a run certain to use the staged read-only root (a working
  // directory below the root, or the root as an overlay's lower layer; see
  // staged_root.h) may skip looking for the root's files in the store: the
  // others stage a private copy from it.
  std::function<bool(const Action&, const Command&)> staged;
  if (!interactive && HostToolsRoot().empty()) {
    staged = [this](const Action& action, const Command& command) {
      const std::string& working_directory = command.working_directory();
      if (!working_directory.empty()) {
        return roots_->Holds(action.input_root_digest(), working_directory);
      }
      StagingPlan plan = PlanAtTheRoot(action, command, OverlaysAllowed(), ChownsWritableParts());
      return TakesOverlayRoot(plan, scratch_dir_) && roots_->Holds(action.input_root_digest(), "");
    };
  }
  CAIRN_ASSIGN_OR_RETURN(run.spec,
                         LoadActionSpec(*cas, action, LocalCapabilities(flags_), name_, staged));
  StagingPlan plan;
  plan.input_root = run.spec.input_root;
  plan.working_directory = run.spec.working_directory;
  plan.output_paths = run.spec.output_paths;
  std::string host_tools_root = HostToolsRoot();
  // With host tools the action writes where it likes in its input root, as
  // on Buildbarn's and buildbox's workers: a private copy, never the store.
  plan.writable_root = interactive || !host_tools_root.empty();
  plan.host_tools = !host_tools_root.empty();
  plan.overlay_allowed = OverlaysAllowed();
  if (ChownsWritableParts()) {
    plan.owner_uid = run.spec.platform.uid;
    plan.owner_gid = run.spec.platform.gid;
  }
  CAIRN_ASSIGN_OR_RETURN(
      run.root, StagedRoot::Stage(*cas, scratch_dir_, name_ + "-", plan, *roots_, janitor_.get()));
  if (host_tools_root.empty()) {
    CAIRN_ASSIGN_OR_RETURN(run.program, ResolveProgram(run.root->root_dir(), run.spec));
  } else {
    CAIRN_ASSIGN_OR_RETURN(
        run.program, ResolveHostToolsProgram(run.root->root_dir(), host_tools_root, run.spec));
    run.input_root_inside = host_tools_root;
  }
  return run;
}

ExecuteOutcome LocalSandbox::Execute(const Action& action, const ExecuteOptions& options) {
  bool started = false;
  StageReporter report = [&](ExecuteStage stage, const std::string& message) {
    started = true;
    if (options.progress) options.progress(ExecuteProgress{stage, "", message});
  };
  ExecuteOutcome outcome = ExecuteAndReport(action, options, report);
  if (started) {
    report(ExecuteStage::kCompleted,
           outcome.status.ok() && outcome.result
               ? "exit code " + std::to_string(outcome.result->exit_code())
               : outcome.status.ToString());
  }
  return outcome;
}

ExecuteOutcome LocalSandbox::ExecuteAndReport(const Action& action, const ExecuteOptions& options,
                                              const StageReporter& report) {
  ExecuteOutcome outcome;
  ActionResult result;
  auto* metadata = result.mutable_execution_metadata();
  metadata->set_worker("cairn-" + name_);
  *metadata->mutable_worker_start_timestamp() = Now();
  *metadata->mutable_input_fetch_start_timestamp() = Now();

  StatusOr<Run> prepared = Prepare(action, /*interactive=*/false);
  if (!prepared.ok()) {
    outcome.status = prepared.status();
    return outcome;
  }
  Run& run = *prepared;
  *metadata->mutable_input_fetch_completed_timestamp() = Now();
  Storage& cas = *host_.cas();
  auto fail = [&](Status status) {
    outcome.status = std::move(status);
    return outcome;
  };

  StatusOr<SupervisionResult> supervised = RunCommand(run, options, report, &result);
  if (!supervised.ok()) return fail(supervised.status());
  if (OverlayFailed(*supervised, *run.root)) {
    run.root.reset();
    return ExecuteAndReport(action, options, report);  // on a copy: the command never started
  }
  if (!supervised->timed_out && !supervised->cancelled) {
    Status setup = CheckSetup(*supervised, *run.root, /*interactive=*/false);
    if (!setup.ok()) return fail(setup);
  }

  report(ExecuteStage::kFetching, "capturing the command's outputs");
  *metadata->mutable_output_upload_start_timestamp() = Now();
  result.set_exit_code(supervised->ExitCode());
  Status stored = StoreStream(cas, run.root->stdout_path(), options.inline_stdout,
                              result.mutable_stdout_digest(), result.mutable_stdout_raw());
  if (stored.ok()) {
    stored = StoreStream(cas, run.root->stderr_path(), options.inline_stderr,
                         result.mutable_stderr_digest(), result.mutable_stderr_raw());
  }
  if (!stored.ok()) return fail(stored.WithContext("storing the command's output streams"));

  if (supervised->timed_out || supervised->cancelled) {
    // A partial result: the streams so far, no outputs.
    *metadata->mutable_output_upload_completed_timestamp() = Now();
    *metadata->mutable_worker_completed_timestamp() = Now();
    outcome.result = std::move(result);
    if (supervised->timed_out) {
      outcome.status = DeadlineExceeded("the action exceeded its timeout of " +
                                        FormatSeconds(*run.spec.timeout) + " in the " + name_ +
                                        " sandbox; every process it started was killed");
    } else {
      outcome.status = Cancelled("the action was cancelled; every process it started was killed");
    }
    return outcome;
  }

  Status captured = CaptureOutputs(cas, run.root->output_dirs(), run.spec.output_paths, &result);
  if (!captured.ok()) return fail(captured.WithContext("capturing the action's outputs"));
  *metadata->mutable_output_upload_completed_timestamp() = Now();
  auto cleanup_start = std::chrono::steady_clock::now();
  run.root.reset();
  auto cleanup = std::chrono::steady_clock::now() - cleanup_start;
  *metadata->mutable_worker_completed_timestamp() = Now();
  host_.Debug(
      name_ + ": staged in " +
      Millis(metadata->input_fetch_start_timestamp(), metadata->input_fetch_completed_timestamp()) +
      ", ran in " +
      Millis(metadata->execution_start_timestamp(), metadata->execution_completed_timestamp()) +
      ", captured in " +
      Millis(metadata->output_upload_start_timestamp(),
             metadata->output_upload_completed_timestamp()) +
      ", cleaned up in " +
      std::to_string(static_cast<double>(
                         std::chrono::duration_cast<std::chrono::microseconds>(cleanup).count()) /
                     1000.0) +
      " ms");
  outcome.result = std::move(result);
  return outcome;
}

StatusOr<SupervisionResult> LocalSandbox::RunCommand(Run& run, const ExecuteOptions& options,
                                                     const StageReporter& report,
                                                     ActionResult* result) {
  // Either the host or this one call can stop the run.
  HostServices host = host_;
  std::function<bool()> call_cancelled = options.is_cancelled;
  auto cancelled = [host, call_cancelled]() {
    return host.IsCancelled() || (call_cancelled && call_cancelled());
  };
  if (cancelled()) return Cancelled("the action was cancelled before it started");

  // Without live output the command writes its files directly; with it,
  // through pipes the supervisor copies.
  UniqueFd child_stdout, child_stderr, stdout_pipe, stderr_pipe;
  CAIRN_ASSIGN_OR_RETURN(UniqueFd dev_null, OpenFile("/dev/null", O_RDONLY));
  if (options.live_output_fd >= 0) {
    CAIRN_RETURN_IF_ERROR(MakePipe(&stdout_pipe, &child_stdout));
    CAIRN_RETURN_IF_ERROR(MakePipe(&stderr_pipe, &child_stderr));
  } else {
    CAIRN_ASSIGN_OR_RETURN(child_stdout,
                           OpenFile(run.root->stdout_path(), O_WRONLY | O_CREAT | O_TRUNC));
    CAIRN_ASSIGN_OR_RETURN(child_stderr,
                           OpenFile(run.root->stderr_path(), O_WRONLY | O_CREAT | O_TRUNC));
  }
  LaunchRequest request;
  request.spec = &run.spec;
  request.root = run.root.get();
  request.program = run.program;
  request.input_root_inside = run.input_root_inside;
  request.stdin_fd = dev_null.get();
  request.stdout_fd = child_stdout.get();
  request.stderr_fd = child_stderr.get();

  SupervisionOptions supervision;
  if (run.spec.timeout) supervision.deadline = clock_->Now() + *run.spec.timeout;
  supervision.is_cancelled = cancelled;
  supervision.stdout_path = run.root->stdout_path();
  supervision.stderr_path = run.root->stderr_path();
  supervision.live_output_fd = options.live_output_fd;

  std::unique_ptr<PidsCgroup> cgroup = LimitProcesses(request);
  auto* metadata = result->mutable_execution_metadata();
  *metadata->mutable_execution_start_timestamp() = Now();
  StatusOr<LaunchedProcess> launched = Launch(request);
  run.keep_moves_cheap.reset();
  dev_null.Reset();
  child_stdout.Reset();
  child_stderr.Reset();
  if (!launched.ok()) return launched.status();
  report(ExecuteStage::kExecuting, "running " + run.program + " in the " + name_ + " sandbox");
  std::shared_ptr<SupervisedProcess> process =
      Supervisable(std::move(*launched), std::move(stdout_pipe), std::move(stderr_pipe));
  StatusOr<SupervisionResult> supervised = Supervise(*process, *clock_, supervision);
  *metadata->mutable_execution_completed_timestamp() = Now();
  if (supervised.ok() && supervised->escalated) {
    host_.Warn(name_ +
               ": the action's processes survived being killed; its process group "
               "was sent SIGKILL");
  }
  if (cgroup && cgroup->LimitReached()) {
    host_.Warn(name_ + ": the action reached its limit of " + std::to_string(max_processes_) +
               " processes (max-processes, enforced by the pids cgroup " + cgroup->path() +
               "): its forks past the limit failed");
  }
  return supervised;
}

bool LocalSandbox::OverlayFailed(const SupervisionResult& result, const StagedRoot& root) {
  if (!root.overlay() || result.status_text.find(kOverlayFailedStatus) == std::string::npos) {
    return false;
  }
  if (!overlays_failed_.exchange(true)) {
    host_.Debug(name_ + ": overlayfs could not mount a writable root over " + root.root_dir() +
                " here; writable roots are copied from now on");
  }
  return true;
}

std::unique_ptr<PidsCgroup> LocalSandbox::LimitProcesses(LaunchRequest& request) {
  if (max_processes_ == 0) return nullptr;
  StatusOr<std::unique_ptr<PidsCgroup>> cgroup =
      PidsCgroup::Create(OwnedScratchPrefix("cairn-" + name_ + "-") + "run", max_processes_);
  if (cgroup.ok()) {
    request.cgroup_join_fd = (*cgroup)->join_fd();
    host_.Debug(name_ + ": at most " + std::to_string(max_processes_) +
                " processes (max-processes), enforced by the pids cgroup " + (*cgroup)->path());
    return std::move(*cgroup);
  }
  request.max_processes = max_processes_;
  if (!told_about_rlimit_.exchange(true)) {
    std::string why = "no pids cgroup can be made here (" + cgroup.status().message() + ")";
    if (geteuid() == 0) {
      // The kernel exempts the host's root from RLIMIT_NPROC: only a
      // command run as another user (unixUID, chroot) is bound.
      host_.Warn(name_ + ": max-processes (" + std::to_string(max_processes_) +
                 ") is not enforced for commands running as root: " + why +
                 ", and RLIMIT_NPROC does not bind root");
    } else {
      host_.Debug(name_ + ": at most " + std::to_string(max_processes_) +
                  " processes (max-processes) per user, enforced with RLIMIT_NPROC: " + why);
    }
  }
  return nullptr;
}

StatusOr<int> LocalSandbox::RunInteractive(const Action& action,
                                           const InteractiveOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(Run run, Prepare(action, /*interactive=*/true));
  LaunchRequest request;
  request.spec = &run.spec;
  request.root = run.root.get();
  request.program = run.program;
  request.input_root_inside = run.input_root_inside;
  request.interactive = true;
  request.stdin_fd = options.stdin_fd;
  request.stdout_fd = options.stdout_fd;
  request.stderr_fd = options.stderr_fd;
  std::unique_ptr<PidsCgroup> cgroup = LimitProcesses(request);
  CAIRN_ASSIGN_OR_RETURN(LaunchedProcess launched, Launch(request));
  run.keep_moves_cheap.reset();

  // The terminal's Ctrl-C belongs to the interactive command, so the host's
  // cancellation flag is not polled here; the timeout does not apply either.
  std::shared_ptr<SupervisedProcess> process = Supervisable(std::move(launched), {}, {});
  CAIRN_ASSIGN_OR_RETURN(SupervisionResult supervised, Supervise(*process, *clock_, {}));
  if (OverlayFailed(supervised, *run.root)) {
    run.root.reset();
    return RunInteractive(action, options);  // on a copy: the command never started
  }
  CAIRN_RETURN_IF_ERROR(CheckSetup(supervised, *run.root, /*interactive=*/true));
  return supervised.ExitCode();
}

}  // namespace cairn
