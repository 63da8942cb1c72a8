#include "bwrap_sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "bwrap_command_line.h"
#include "cairn/plugin_options.h"
#include "cairn/plugin_support.h"

extern char** environ;

namespace cairn {
namespace {

constexpr int kInfoFd = 3;  // bwrap's --info-fd inside the spawned process

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

class SpawnAttributes {
 public:
  SpawnAttributes() {
    posix_spawnattr_init(&attr_);
    posix_spawn_file_actions_init(&actions_);
  }
  ~SpawnAttributes() {
    posix_spawnattr_destroy(&attr_);
    posix_spawn_file_actions_destroy(&actions_);
  }
  posix_spawnattr_t attr_;
  posix_spawn_file_actions_t actions_;
};

}  // namespace

BwrapSandbox::BwrapSandbox(HostServices host, std::string scratch_dir, std::string bwrap_path,
                           size_t root_cache_size)
    : LocalSandbox(std::move(host), "bwrap", std::move(scratch_dir),
                   CAIRN_SANDBOX_INTERACTIVE | CAIRN_SANDBOX_NETWORK | CAIRN_SANDBOX_UID_GID,
                   root_cache_size),
      bwrap_path_(std::move(bwrap_path)) {}

StatusOr<std::unique_ptr<Sandbox>> BwrapSandbox::Create(const HostServices& host,
                                                        std::string_view options_yaml) {
  CAIRN_ASSIGN_OR_RETURN(PluginOptions options, PluginOptions::Parse(options_yaml, "bwrap"));
  CAIRN_ASSIGN_OR_RETURN(std::string configured, options.GetString("bwrap-path", "bwrap"));
  CAIRN_ASSIGN_OR_RETURN(std::string scratch_dir,
                         options.GetString("scratch-dir", DefaultScratchDir(host)));
  CAIRN_ASSIGN_OR_RETURN(size_t root_cache_size, RootCacheCapacity(options, "bwrap"));
  CAIRN_RETURN_IF_ERROR(options.Finish());
  if (scratch_dir.empty() || scratch_dir.front() != '/') {
    return InvalidArgument("bwrap: option scratch-dir must be an absolute path, not '" +
                           scratch_dir + "'");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string bwrap_path, FindBwrap(configured));
  return std::unique_ptr<Sandbox>(new BwrapSandbox(host, scratch_dir, bwrap_path, root_cache_size));
}

StatusOr<LaunchedProcess> BwrapSandbox::Launch(const LaunchRequest& request) {
  int info[2];
  if (pipe2(info, O_CLOEXEC) != 0) return ErrnoStatus("pipe", "for bwrap --info-fd", errno);
  std::vector<std::string> arguments = BwrapCommandLine(bwrap_path_, request, kInfoFd);
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  // bwrap's own environment is irrelevant to the command (--clearenv), but
  // keep it minimal anyway.
  char path_variable[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
  char* envp[] = {path_variable, nullptr};

  SpawnAttributes spawn;
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (!request.interactive) {
    // Its own process group, for the last-resort kill.
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&spawn.attr_, 0);
  }
  posix_spawnattr_setflags(&spawn.attr_, flags);
  sigset_t none, defaults;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&spawn.attr_, &none);
  sigemptyset(&defaults);
  for (int signal_number :
       {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU}) {
    sigaddset(&defaults, signal_number);
  }
  posix_spawnattr_setsigdefault(&spawn.attr_, &defaults);
  posix_spawn_file_actions_adddup2(&spawn.actions_, request.stdin_fd, 0);
  posix_spawn_file_actions_adddup2(&spawn.actions_, request.stdout_fd, 1);
  posix_spawn_file_actions_adddup2(&spawn.actions_, request.stderr_fd, 2);
  posix_spawn_file_actions_adddup2(&spawn.actions_, info[1], kInfoFd);
  // Nothing else of the host's leaks into the sandbox.
  posix_spawn_file_actions_addclosefrom_np(&spawn.actions_, kInfoFd + 1);

  pid_t pid = -1;
  int spawned =
      posix_spawn(&pid, bwrap_path_.c_str(), &spawn.actions_, &spawn.attr_, argv.data(), envp);
  close(info[1]);
  if (spawned != 0) {
    close(info[0]);
    return ErrnoStatus("spawn", bwrap_path_, spawned);
  }
  LaunchedProcess launched;
  launched.pid = pid;
  launched.status_fd = info[0];
  launched.kill = [pid](const std::string& status_text) {
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
