#include "bwrap_sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include "bwrap_command_line.h"
#include "cairn/plugin_options.h"
#include "cairn/plugin_support.h"
#include "cairn/sandbox_common/overlay_mount.h"
#include "cairn/unique_fd.h"

namespace cairn {
namespace {

constexpr int kInfoFd = 3;  // bwrap's --info-fd inside the spawned process
constexpr int kArgsFd = 4;  // bwrap's --args
constexpr size_t kChildStackBytes = 64 * 1024;

// Where host-tools mode binds the input root: one fixed path for every run,
// so paths the tools record (debug info, __FILE__, depfiles) do not vary
// from run to run, on the private /tmp, so it never hides a host path.
constexpr const char* kHostToolsInputRoot = "/tmp/cairn-exec/root";

bool IsDirectory(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// What host-tools mode covers with an empty tmpfs: the scratch directory
// (other runs' inputs and outputs; under /tmp it is hidden already) and
// /run, whose sockets (the container runtime's, D-Bus) accept connections
// even on a read-only mount and are not network-namespaced.
std::vector<std::string> HiddenHostDirs(const std::string& scratch_dir) {
  std::vector<std::string> hidden;
  if (IsDirectory("/run")) hidden.push_back("/run");
  bool under_tmp = scratch_dir == "/tmp" || scratch_dir.rfind("/tmp/", 0) == 0;
  bool under_run = scratch_dir == "/run" || scratch_dir.rfind("/run/", 0) == 0;
  if (scratch_dir != "/" && !under_tmp && !under_run) hidden.push_back(scratch_dir);
  return hidden;
}

bool IsExecutableFile(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(path.c_str(), X_OK) == 0;
}

StatusOr<std::string> FindBwrap(const std::string& configured) {
  if (configured.find('/') != std::string::npos) {
    if (IsExecutableFile(configured)) return configured;
    return FailedPrecondition("the bwrap sandbox cannot run: bwrap-path '" + configured +
                              "' is not an executable file (install Debian's bubblewrap "
                              "package, or set the bwrap sandbox's bwrap-path option)");
  }
  const char* path = std::getenv("PATH");
  std::string search = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (true) {
    size_t colon = search.find(':', start);
    std::string directory =
        search.substr(start, colon == std::string::npos ? colon : colon - start);
    if (!directory.empty() && IsExecutableFile(directory + "/" + configured)) {
      return directory + "/" + configured;
    }
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return FailedPrecondition("the bwrap sandbox cannot run: '" + configured +
                            "' was not found on PATH=" + search +
                            " (install Debian's bubblewrap package, or set the bwrap sandbox's "
                            "bwrap-path option)");
}

// The namespace init's pid from bwrap's --info-fd JSON, or -1.
pid_t ChildPid(const std::string& info) {
  size_t key = info.find("\"child-pid\"");
  if (key == std::string::npos) return -1;
  size_t colon = info.find(':', key);
  if (colon == std::string::npos) return -1;
  char* end = nullptr;
  long pid = std::strtol(info.c_str() + colon + 1, &end, 10);
  return pid > 0 ? static_cast<pid_t>(pid) : -1;
}

// bwrap's options as NUL-terminated strings in an anonymous file, for
// `--args`.
StatusOr<UniqueFd> OptionsFile(const std::vector<std::string>& options) {
  UniqueFd file(memfd_create("bwrap-args", MFD_CLOEXEC));
  if (!file.valid()) return ErrnoStatus("memfd_create", "for bwrap --args", errno);
  std::string data;
  for (const std::string& option : options) data.append(option).push_back('\0');
  for (size_t done = 0; done < data.size();) {
    ssize_t written = write(file.get(), data.data() + done, data.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return ErrnoStatus("write", "bwrap's options", errno);
    done += static_cast<size_t>(written);
  }
  if (lseek(file.get(), 0, SEEK_SET) != 0) return ErrnoStatus("seek", "bwrap's options", errno);
  return file;
}

// What the child between clone() and execve() needs, prepared beforehand:
// it may only make system calls (the host is multithreaded).
struct SpawnPlan {
  const char* path;
  char* const* argv;
  char* const* envp;
  int fds[5];  // become 0, 1, 2, kInfoFd, kArgsFd
  bool own_group;
  int cgroup_join_fd;
  uint64_t max_processes;
  const OverlayMountPlan* overlay;  // null: no overlay root
};

[[noreturn]] void Die(int stderr_fd, const char* message) {
  ssize_t ignored = write(stderr_fd, message, std::strlen(message));
  (void)ignored;
  _exit(1);  // with "bwrap: ..." on stderr, as bwrap's own setup failures
}

[[noreturn]] void ExecBwrap(const SpawnPlan& plan) {
  if (JoinProcessLimit(plan.cgroup_join_fd, plan.max_processes) != 0) {
    Die(plan.fds[2], "bwrap: cairn could not apply max-processes to the sandbox\n");
  }
  if (plan.overlay != nullptr) MountOverlayOrExit(*plan.overlay, plan.fds[3], 1);
  // Its own process group, for the last-resort kill.
  if (plan.own_group) setpgid(0, 0);
  // The host's handlers go before any signal is let in (see Launch).
  for (int signal_number :
       {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU}) {
    signal(signal_number, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Out of the way of 0..kArgsFd first, then into place.
  int moved[5];
  for (int i = 0; i < 5; ++i) {
    moved[i] = fcntl(plan.fds[i], F_DUPFD, kArgsFd + 1);
    if (moved[i] < 0) _exit(127);
  }
  for (int i = 0; i < 5; ++i) {
    if (dup2(moved[i], i) < 0) _exit(127);
  }
  // Nothing else of the host's leaks into the sandbox.
  syscall(SYS_close_range, kArgsFd + 1, ~0U, 0);
  execve(plan.path, plan.argv, plan.envp);
  Die(2, "bwrap: cairn could not execute bwrap\n");
}

int SpawnBwrap(void* plan) { ExecBwrap(*static_cast<const SpawnPlan*>(plan)); }

}  // namespace

BwrapSandbox::BwrapSandbox(HostServices host, const std::string& scratch_dir,
                           std::string bwrap_path, size_t root_cache_size, uint64_t max_processes,
                           bool host_tools)
    : LocalSandbox(std::move(host), "bwrap", scratch_dir,
                   CAIRN_SANDBOX_INTERACTIVE | CAIRN_SANDBOX_NETWORK | CAIRN_SANDBOX_UID_GID,
                   root_cache_size, nullptr, max_processes),
      bwrap_path_(std::move(bwrap_path)),
      host_tools_(host_tools) {
  if (host_tools_) hidden_host_dirs_ = HiddenHostDirs(scratch_dir);
}

bool BwrapSandbox::MountsOverlayRoots() const { return true; }

std::string BwrapSandbox::HostToolsRoot() const { return host_tools_ ? kHostToolsInputRoot : ""; }

StatusOr<std::unique_ptr<Sandbox>> BwrapSandbox::Create(const HostServices& host,
                                                        std::string_view options_yaml) {
  CAIRN_ASSIGN_OR_RETURN(PluginOptions options, PluginOptions::Parse(options_yaml, "bwrap"));
  CAIRN_ASSIGN_OR_RETURN(std::string configured, options.GetString("bwrap-path", "bwrap"));
  CAIRN_ASSIGN_OR_RETURN(std::string scratch_dir,
                         options.GetString("scratch-dir", DefaultScratchDir(host)));
  CAIRN_ASSIGN_OR_RETURN(size_t root_cache_size, RootCacheCapacity(options, "bwrap"));
  CAIRN_ASSIGN_OR_RETURN(uint64_t max_processes, MaxProcesses(options, "bwrap"));
  CAIRN_ASSIGN_OR_RETURN(bool host_tools, options.GetBool("host-tools", false));
  CAIRN_RETURN_IF_ERROR(options.Finish());
  if (scratch_dir.empty() || scratch_dir.front() != '/') {
    return InvalidArgument("bwrap: option scratch-dir must be an absolute path, not '" +
                           scratch_dir + "'");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string bwrap_path, FindBwrap(configured));
  return std::unique_ptr<Sandbox>(
      new BwrapSandbox(host, scratch_dir, bwrap_path, root_cache_size, max_processes, host_tools));
}

StatusOr<LaunchedProcess> BwrapSandbox::Launch(const LaunchRequest& request) {
  CAIRN_ASSIGN_OR_RETURN(UniqueFd options,
                         OptionsFile(BwrapOptions(request, kInfoFd, hidden_host_dirs_)));
  // Only what the command itself shows: the host's paths went to --args.
  std::vector<std::string> arguments = {"bwrap", "--args", std::to_string(kArgsFd), "--"};
  // bwrap execvp()s argv[0] with the Command's PATH (it is bwrap's own
  // environment after --clearenv/--setenv), which finds the program that
  // ResolveProgram found; argv[0] itself stays as the Command gave it.
  arguments.insert(arguments.end(), request.spec->arguments.begin(), request.spec->arguments.end());
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  // bwrap's own environment is irrelevant to the command (--clearenv), but
  // keep it minimal anyway.
  char path_variable[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_variable, nullptr};

  std::optional<OverlayMountPlan> overlay;
  if (request.root->overlay()) {
    overlay = PlanOverlayMount(*request.root->overlay(), /*new_mount_namespace=*/true);
  }
  int info[2];
  if (pipe2(info, O_CLOEXEC) != 0) return ErrnoStatus("pipe", "for bwrap --info-fd", errno);
  SpawnPlan plan{bwrap_path_.c_str(),
                 argv.data(),
                 envp,
                 {request.stdin_fd, request.stdout_fd, request.stderr_fd, info[1], options.get()},
                 !request.interactive,
                 request.cgroup_join_fd,
                 request.max_processes,
                 overlay ? &*overlay : nullptr};
  // The child shares this process's memory until it execs (CLONE_VM |
  // CLONE_VFORK, as posix_spawn does), on a stack of its own, while this
  // thread waits: copying the host's page tables for a child that execs at
  // once cost about 1.4 ms a run. It runs no library code (no atfork
  // handlers), and every signal stays blocked until it has reset the
  // host's handlers, so none of them runs in it.
  std::vector<char> child_stack(kChildStackBytes);
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int pid = clone(&SpawnBwrap, child_stack.data() + child_stack.size(),
                  CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  int error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  close(info[1]);
  if (pid < 0) {
    close(info[0]);
    return ErrnoStatus("fork", "for " + bwrap_path_, error);
  }
  LaunchedProcess launched;
  launched.pid = static_cast<pid_t>(pid);
  launched.status_fd = info[0];
  launched.kill = [pid = launched.pid](const std::string& status_text) {
    pid_t init = ChildPid(status_text);
    // Killing the namespace's init kills everything in it; bwrap then
    // notices and exits. Without its pid, the process group is all we have.
    if (init > 0) {
      kill(init, SIGKILL);
    } else {
      kill(-pid, SIGKILL);
    }
  };
  // bwrap's init reports the command's exit to bwrap before it exits
  // itself, so bwrap can be gone while the kernel is still killing the rest
  // of the namespace. The init's pidfd becomes readable only after that.
  launched.wait_for_tree = [](const std::string& status_text) {
    pid_t init = ChildPid(status_text);
    if (init <= 0) return;
    int pidfd = PidfdOpen(init);
    if (pidfd < 0) return;  // ESRCH: already gone and reaped
    pollfd exited{pidfd, POLLIN, 0};
    while (poll(&exited, 1, 10000) < 0 && errno == EINTR) {
    }
    close(pidfd);
  };
  return launched;
}

Status BwrapSandbox::CheckSetup(const SupervisionResult& result, const StagedRoot& root,
                                bool interactive) {
  if (interactive || result.ExitCode() != 1) return Status::Ok();
  // bwrap reports its own failures (mounts, namespaces, exec) as exit code 1
  // with "bwrap: ..." on stderr; the command has not run then.
  std::ifstream in(root.stderr_path());
  std::string first_line;
  std::getline(in, first_line);
  if (first_line.rfind("bwrap: ", 0) != 0) return Status::Ok();
  return FailedPrecondition("the bwrap sandbox could not start the command: " + first_line);
}

}  // namespace cairn

CAIRN_DEFINE_SANDBOX_PLUGIN(cairn::BwrapSandbox, "bwrap", "1.0.0",
                            "Runs actions in a bubblewrap (bwrap) sandbox on a staged input root")
