#include "chroot_sandbox.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "cairn/plugin_options.h"
#include "cairn/plugin_support.h"
#include "chroot_child.h"

namespace cairn {

ChrootSandbox::ChrootSandbox(HostServices host, std::string scratch_dir, size_t root_cache_size,
                             uint64_t max_processes)
    : LocalSandbox(std::move(host), "chroot", std::move(scratch_dir),
                   CAIRN_SANDBOX_INTERACTIVE | CAIRN_SANDBOX_NETWORK | CAIRN_SANDBOX_UID_GID,
                   root_cache_size, nullptr, max_processes) {}

StatusOr<std::unique_ptr<Sandbox>> ChrootSandbox::Create(const HostServices& host,
                                                         std::string_view options_yaml) {
  CAIRN_ASSIGN_OR_RETURN(PluginOptions options, PluginOptions::Parse(options_yaml, "chroot"));
  CAIRN_ASSIGN_OR_RETURN(std::string scratch_dir,
                         options.GetString("scratch-dir", DefaultScratchDir(host)));
  CAIRN_ASSIGN_OR_RETURN(size_t root_cache_size, RootCacheCapacity(options, "chroot"));
  CAIRN_ASSIGN_OR_RETURN(uint64_t max_processes, MaxProcesses(options, "chroot"));
  CAIRN_RETURN_IF_ERROR(options.Finish());
  if (scratch_dir.empty() || scratch_dir.front() != '/') {
    return InvalidArgument("chroot: option scratch-dir must be an absolute path, not '" +
                           scratch_dir + "'");
  }
  if (geteuid() != 0) {
    return FailedPrecondition("the chroot sandbox needs root (running as uid " +
                              std::to_string(geteuid()) +
                              "); use the bwrap sandbox, or run as root");
  }
  return std::unique_ptr<Sandbox>(
      new ChrootSandbox(host, scratch_dir, root_cache_size, max_processes));
}

StatusOr<LaunchedProcess> ChrootSandbox::Launch(const LaunchRequest& request) {
  const ActionSpec& spec = *request.spec;
  ChrootChildSpec child;
  child.root_dir = request.root->root_dir();
  child.root_writable = request.root->root_is_writable();
  if (request.root->overlay()) {
    child.root_dir = request.root->overlay()->merged;
    child.overlay = PlanOverlayMount(*request.root->overlay(), /*new_mount_namespace=*/false);
  }
  child.writable_mounts = request.root->writable_mounts();
  child.working_inside = request.root->working_dir_inside();
  child.program = request.program;
  child.arguments = spec.arguments;
  // bwrap always sets PWD to the working directory after applying the
  // Command's environment (in place, or appended last); the chroot sandbox
  // does exactly the same, so the two give one result. Every other variable
  // is exactly the Command's, in its sorted order.
  bool has_pwd = false;
  std::string pwd = "PWD=" + request.root->working_dir_inside();
  for (const auto& [name, value] : spec.environment) {
    has_pwd |= name == "PWD";
    child.environment.push_back(name == "PWD" ? pwd : name + "=" + value);
  }
  if (!has_pwd) child.environment.push_back(pwd);
  child.uid = spec.platform.uid;
  child.gid = spec.platform.gid;
  child.network = spec.platform.network;
  child.interactive = request.interactive;
  child.stdin_fd = request.stdin_fd;
  child.stdout_fd = request.stdout_fd;
  child.stderr_fd = request.stderr_fd;
  child.cgroup_join_fd = request.cgroup_join_fd;
  child.max_processes = request.max_processes;

  int errors[2];
  if (pipe2(errors, O_CLOEXEC) != 0) return ErrnoStatus("pipe", "for setup errors", errno);
  StatusOr<pid_t> pid = StartChrootChild(child, errors[1]);
  close(errors[1]);
  if (!pid.ok()) {
    close(errors[0]);
    return pid.status();
  }
  LaunchedProcess launched;
  launched.pid = *pid;
  launched.status_fd = errors[0];
  pid_t init = *pid;
  // PID 1 of the namespace: killing it kills every process in it.
  launched.kill = [init](const std::string&) { kill(init, SIGKILL); };
  return launched;
}

Status ChrootSandbox::CheckSetup(const SupervisionResult& result, const StagedRoot&, bool) {
  if (result.status_text.empty()) return Status::Ok();
  return FailedPrecondition("the chroot sandbox could not start the command: " +
                            DescribeChildError(result.status_text));
}

}  // namespace cairn

CAIRN_DEFINE_SANDBOX_PLUGIN(cairn::ChrootSandbox, "chroot", "1.0.0",
                            "Runs actions with chroot(2) in private namespaces (root only)")
