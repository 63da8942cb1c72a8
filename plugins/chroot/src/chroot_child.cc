#include "chroot_child.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "cairn/sandbox_common/local_sandbox.h"
#include "cairn/sandbox_common/process_limit.h"

namespace cairn {
namespace {

constexpr int kErrorFd = 3;  // the error pipe inside the child
constexpr const char* kInitName = "cairn-init";

struct DeviceBind {
  std::string host;    // "/dev/null"
  std::string target;  // "<root>/dev/null"
};

struct SymlinkSpec {
  std::string target;  // "/proc/self/fd"
  std::string path;    // "<root>/dev/fd"
};

// Everything the child needs, laid out before clone() so the child only
// reads memory and makes system calls.
struct Prepared {
  const ChrootChildSpec* spec;
  std::string proc_dir, dev_dir, tmp_dir;
  // Parts of the fresh procfs made read-only, as bubblewrap's --proc does:
  // writes there are checked by file owner, so a uid-0 command without any
  // capability could otherwise change host-wide settings (core_pattern,
  // modprobe) or crash the host (sysrq-trigger).
  std::vector<std::string> proc_covers;
  std::vector<std::string> mount_targets;  // where each writable mount goes, below root_dir
  std::vector<DeviceBind> devices;
  std::vector<SymlinkSpec> symlinks;
  std::vector<char*> argv, envp;
  std::vector<std::string> environment;
  std::vector<std::string> arguments;
  // This process's argv strings, overwritten in the child.
  unsigned long arg_start = 0, arg_end = 0;
};

size_t FormatNumber(long value, char* out) {
  char digits[24];
  size_t count = 0;
  unsigned long magnitude =
      value < 0 ? static_cast<unsigned long>(-value) : static_cast<unsigned long>(value);
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  size_t length = 0;
  if (value < 0) out[length++] = '-';
  while (count > 0) out[length++] = digits[--count];
  return length;
}

[[noreturn]] void Fail(const char* step, const char* subject) {
  int error_number = errno;
  char message[512];
  size_t length = FormatNumber(error_number, message);
  message[length++] = ' ';
  for (const char* text : {step, " ", subject}) {
    for (; *text != '\0' && length < sizeof(message) - 1; ++text) message[length++] = *text;
  }
  ssize_t ignored = write(kErrorFd, message, length);
  (void)ignored;
  _exit(127);
}

void CheckCall(long result, const char* step, const char* subject) {
  if (result < 0) Fail(step, subject);
}

void BringLoopbackUp() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail("socket", "for loopback");
  struct ifreq request;
  std::memset(&request, 0, sizeof(request));
  std::memcpy(request.ifr_name, "lo", 3);
  CheckCall(ioctl(fd, SIOCGIFFLAGS, &request), "get flags of", "lo");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP | IFF_RUNNING);
  CheckCall(ioctl(fd, SIOCSIFFLAGS, &request), "bring up", "lo");
  close(fd);
}

void DropPrivileges(const ChrootChildSpec& spec) {
  // The bounding set first (that needs CAP_SETPCAP), so that nothing the
  // command execs can ever regain a capability, even as uid 0.
  for (int capability = 0; capability <= 63; ++capability) {
    if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno != EINVAL) {
      Fail("drop capability bounding set", "");
    }
  }
  // Raw system calls: glibc's setuid() would try to synchronise threads that
  // exist only in the host process this child was cloned from.
  if (spec.gid || spec.uid) CheckCall(syscall(SYS_setgroups, 0, nullptr), "setgroups", "");
  if (spec.gid) CheckCall(syscall(SYS_setgid, *spec.gid), "setgid", "unixGID");
  if (spec.uid) CheckCall(syscall(SYS_setuid, *spec.uid), "setuid", "unixUID");
  struct __user_cap_header_struct header;
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  struct __user_cap_data_struct data[2];
  std::memset(data, 0, sizeof(data));
  CheckCall(syscall(SYS_capset, &header, data), "capset", "");
  CheckCall(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs", "");
}

[[noreturn]] void RunCommand(const Prepared& prepared) {
  const ChrootChildSpec& spec = *prepared.spec;
  if (!spec.interactive) CheckCall(setsid(), "setsid", "");
  for (int signal_number :
       {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU}) {
    signal(signal_number, SIG_DFL);
  }
  DropPrivileges(spec);
  execve(spec.program.c_str(), prepared.argv.data(), prepared.envp.data());
  Fail("execve", spec.program.c_str());
}

// Nothing of the host's command line (this child's copy of the host's
// memory) stays visible as /proc/1/cmdline or /proc/1/comm. Overwritten in
// place: prctl(PR_SET_MM) would need CAP_SYS_RESOURCE, which a container's
// root often lacks; the kernel shows [arg_start, arg_end) as it is.
void HideHostCommandLine(const Prepared& prepared) {
  // An address the kernel reported for this very memory (see
  // FindArgumentArea), so the cast is the point.
  char* arguments =
      reinterpret_cast<char*>(prepared.arg_start);  // NOLINT(performance-no-int-to-ptr)
  size_t length = prepared.arg_end - prepared.arg_start;
  std::memset(arguments, 0, length);
  for (size_t i = 0; kInitName[i] != '\0' && i + 1 < length; ++i) arguments[i] = kInitName[i];
  CheckCall(prctl(PR_SET_NAME, kInitName, 0, 0, 0), "set the init's name", "");
}

// This process's argument area (fields 48 and 49 of /proc/self/stat).
Status FindArgumentArea(Prepared* prepared) {
  std::ifstream in("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t after_name = stat.rfind(')');
  if (after_name == std::string::npos) return Internal("cannot parse /proc/self/stat");
  std::istringstream fields(stat.substr(after_name + 1));
  std::string field;
  for (int number = 3; fields >> field; ++number) {
    if (number == 48) prepared->arg_start = std::strtoul(field.c_str(), nullptr, 10);
    if (number == 49) prepared->arg_end = std::strtoul(field.c_str(), nullptr, 10);
  }
  if (prepared->arg_end <= prepared->arg_start) {
    return Internal("cannot find this process's command line in /proc/self/stat");
  }
  return Status::Ok();
}

[[noreturn]] void RunInit(const Prepared& prepared, int error_fd) {
  const ChrootChildSpec& spec = *prepared.spec;
  // Descriptors first: 0-2 for the command, 3 for errors, nothing else.
  int in = fcntl(spec.stdin_fd, F_DUPFD, 10);
  int out = fcntl(spec.stdout_fd, F_DUPFD, 10);
  int err = fcntl(spec.stderr_fd, F_DUPFD, 10);
  int report = fcntl(error_fd, F_DUPFD, 10);
  int limit = spec.cgroup_join_fd >= 0 ? fcntl(spec.cgroup_join_fd, F_DUPFD, 10) : -1;
  if (in < 0 || out < 0 || err < 0 || report < 0) _exit(127);
  if (dup2(report, kErrorFd) < 0) _exit(127);
  fcntl(kErrorFd, F_SETFD, FD_CLOEXEC);
  CheckCall(dup2(in, 0), "dup2", "stdin");
  CheckCall(dup2(out, 1), "dup2", "stdout");
  CheckCall(dup2(err, 2), "dup2", "stderr");
  // Before it starts anything, so every process of the run counts.
  CheckCall(JoinProcessLimit(limit, spec.max_processes), "apply", "max-processes");
  CheckCall(syscall(SYS_close_range, kErrorFd + 1, ~0U, 0), "close_range", "");
  // Rooted at the run's cgroup, so the command sees nothing of the host's.
  CheckCall(unshare(CLONE_NEWCGROUP), "unshare", "the cgroup namespace");
  HideHostCommandLine(prepared);

  if (!spec.interactive) setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  const char* root = spec.root_dir.c_str();
  CheckCall(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "make mounts private", "");
  if (spec.overlay) MountOverlayOrExit(*spec.overlay, kErrorFd, 127);
  CheckCall(mount(root, root, nullptr, MS_BIND | MS_REC, nullptr), "bind", root);
  const unsigned long locked = MS_NOSUID | MS_NODEV;
  if (!spec.root_writable) {
    for (size_t i = 0; i < spec.writable_mounts.size(); ++i) {
      const char* writable = spec.writable_mounts[i].host_dir.c_str();
      const char* target = prepared.mount_targets[i].c_str();
      CheckCall(mount(writable, target, nullptr, MS_BIND, nullptr), "bind", writable);
      CheckCall(mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | locked, nullptr), "remount",
                target);
    }
    CheckCall(mount(nullptr, root, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | locked, nullptr),
              "remount read-only", root);
  } else {
    CheckCall(mount(nullptr, root, nullptr, MS_REMOUNT | MS_BIND | locked, nullptr), "remount",
              root);
  }
  CheckCall(
      mount("proc", prepared.proc_dir.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
      "mount proc on", prepared.proc_dir.c_str());
  for (const std::string& cover : prepared.proc_covers) {
    const char* path = cover.c_str();
    if (access(path, F_OK) != 0) {
      if (errno == ENOENT) continue;  // not in this kernel
      Fail("look up", path);
    }
    CheckCall(mount(path, path, nullptr, MS_BIND, nullptr), "bind", path);
    CheckCall(mount(nullptr, path, nullptr,
                    MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
              "remount read-only", path);
  }
  CheckCall(mount("tmpfs", prepared.dev_dir.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755"),
            "mount tmpfs on", prepared.dev_dir.c_str());
  for (const DeviceBind& device : prepared.devices) {
    int fd = open(device.target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) Fail("create", device.target.c_str());
    close(fd);
    CheckCall(mount(device.host.c_str(), device.target.c_str(), nullptr, MS_BIND, nullptr), "bind",
              device.host.c_str());
  }
  for (const SymlinkSpec& link : prepared.symlinks) {
    CheckCall(symlink(link.target.c_str(), link.path.c_str()), "symlink", link.path.c_str());
  }
  CheckCall(mount("tmpfs", prepared.tmp_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"),
            "mount tmpfs on", prepared.tmp_dir.c_str());
  CheckCall(sethostname(kSandboxHostname, std::strlen(kSandboxHostname)), "sethostname", "");
  if (!spec.network) BringLoopbackUp();
  CheckCall(chroot(root), "chroot", root);
  CheckCall(chdir(spec.working_inside.c_str()), "chdir", spec.working_inside.c_str());

  long command = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (command < 0) Fail("fork", "the command");
  if (command == 0) RunCommand(prepared);
  close(kErrorFd);
  while (true) {
    int status = 0;
    pid_t done = waitpid(-1, &status, 0);
    if (done < 0) {
      if (errno == EINTR) continue;
      _exit(127);
    }
    if (done != command) continue;  // an orphan re-parented to us
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    _exit(128 + WTERMSIG(status));
  }
}

}  // namespace

StatusOr<pid_t> StartChrootChild(const ChrootChildSpec& spec, int error_fd) {
  Prepared prepared;
  prepared.spec = &spec;
  CAIRN_RETURN_IF_ERROR(FindArgumentArea(&prepared));
  prepared.proc_dir = spec.root_dir + "/proc";
  for (const char* cover : {"sys", "sysrq-trigger", "irq", "bus"}) {
    prepared.proc_covers.push_back(prepared.proc_dir + "/" + cover);
  }
  prepared.dev_dir = spec.root_dir + "/dev";
  prepared.tmp_dir = spec.root_dir + "/tmp";
  for (const WritableMount& writable : spec.writable_mounts) {
    prepared.mount_targets.push_back(spec.root_dir + writable.inside);
  }
  std::vector<const char*> devices = {"null", "zero", "full", "random", "urandom"};
  if (spec.interactive && access("/dev/tty", F_OK) == 0) devices.push_back("tty");
  for (const char* device : devices) {
    prepared.devices.push_back({std::string("/dev/") + device, prepared.dev_dir + "/" + device});
  }
  prepared.symlinks = {{"/proc/self/fd", prepared.dev_dir + "/fd"},
                       {"/proc/self/fd/0", prepared.dev_dir + "/stdin"},
                       {"/proc/self/fd/1", prepared.dev_dir + "/stdout"},
                       {"/proc/self/fd/2", prepared.dev_dir + "/stderr"}};
  prepared.arguments = spec.arguments;
  prepared.environment = spec.environment;
  for (std::string& argument : prepared.arguments) prepared.argv.push_back(argument.data());
  prepared.argv.push_back(nullptr);
  for (std::string& variable : prepared.environment) prepared.envp.push_back(variable.data());
  prepared.envp.push_back(nullptr);

  unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
  if (!spec.network) flags |= CLONE_NEWNET;
  long pid = syscall(SYS_clone, flags, 0, 0, 0, 0);
  if (pid < 0) {
    return ErrnoStatus("clone", "new mount, PID, network, UTS and IPC namespaces", errno)
        .WithContext("the chroot sandbox could not start (it needs root with CAP_SYS_ADMIN)");
  }
  if (pid == 0) RunInit(prepared, error_fd);
  return static_cast<pid_t>(pid);
}

std::string DescribeChildError(const std::string& report) {
  char* end = nullptr;
  long error_number = std::strtol(report.c_str(), &end, 10);
  std::string step = end != nullptr && *end == ' ' ? std::string(end + 1) : report;
  while (!step.empty() && step.back() == ' ') step.pop_back();
  return step + ": " + std::strerror(static_cast<int>(error_number));
}

}  // namespace cairn
