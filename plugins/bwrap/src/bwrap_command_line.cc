#include "bwrap_command_line.h"

#include "cairn/relative_path.h"

namespace cairn {

std::vector<std::string> BwrapOptions(const LaunchRequest& request, int info_fd,
                                      const std::vector<std::string>& hidden_host_dirs) {
  const ActionSpec& spec = *request.spec;
  const StagedRoot& root = *request.root;
  bool host_tools = request.input_root_inside != "/";
  std::vector<std::string> argv = {"--unshare-all"};
  if (spec.platform.network) argv.push_back("--share-net");
  if (spec.platform.uid || spec.platform.gid) {
    argv.push_back("--unshare-user");
    if (spec.platform.uid) argv.insert(argv.end(), {"--uid", std::to_string(*spec.platform.uid)});
    if (spec.platform.gid) argv.insert(argv.end(), {"--gid", std::to_string(*spec.platform.gid)});
  }
  argv.push_back("--die-with-parent");
  if (!request.interactive) argv.push_back("--new-session");
  argv.insert(argv.end(), {"--cap-drop", "ALL"});

  if (host_tools) {
    // The host's whole filesystem, submounts included, read-only; what
    // follows mounts over parts of it.
    argv.insert(argv.end(), {"--ro-bind", "/", "/"});
  } else if (root.overlay()) {
    // Mounted by the launcher in bwrap's parent mount namespace.
    argv.insert(argv.end(), {"--bind", root.overlay()->merged, "/"});
  } else if (root.root_is_writable()) {
    argv.insert(argv.end(), {"--bind", root.root_dir(), "/"});
  } else {
    argv.insert(argv.end(), {"--ro-bind", root.root_dir(), "/"});
    for (const WritableMount& mount : root.writable_mounts()) {
      argv.insert(argv.end(), {"--bind", mount.host_dir, mount.inside});
    }
  }
  argv.insert(argv.end(), {"--proc", "/proc"});
  // bwrap's own cover of /proc/sys is skipped (access(W_OK) on the sysctl
  // root is always EACCES), and the command runs as uid 0 mapped to the
  // host's root: make the host-wide settings read-only here. /proc/sys
  // shows the reader's namespaces, so the host's copy is equivalent.
  argv.insert(argv.end(), {"--ro-bind", "/proc/sys", "/proc/sys"});
  argv.insert(argv.end(), {"--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger"});
  if (request.interactive) {
    argv.insert(argv.end(), {"--dev", "/dev"});
  } else {
    argv.insert(argv.end(), {"--tmpfs", "/dev"});
    for (const char* device : {"null", "zero", "full", "random", "urandom"}) {
      std::string path = std::string("/dev/") + device;
      argv.insert(argv.end(), {"--dev-bind", path, path});
    }
    argv.insert(argv.end(), {"--symlink", "/proc/self/fd", "/dev/fd"});
    argv.insert(argv.end(), {"--symlink", "/proc/self/fd/0", "/dev/stdin"});
    argv.insert(argv.end(), {"--symlink", "/proc/self/fd/1", "/dev/stdout"});
    argv.insert(argv.end(), {"--symlink", "/proc/self/fd/2", "/dev/stderr"});
  }
  argv.insert(argv.end(), {"--perms", "1777", "--tmpfs", "/tmp"});
  if (host_tools) {
    // Empty over what the action has no business reading or connecting
    // to: other runs' scratch directories, and /run's sockets (a socket on
    // a read-only mount still accepts connections). Sources of the binds
    // are taken from the host, so hiding the scratch directory first is fine.
    for (const std::string& hidden : hidden_host_dirs) {
      argv.insert(argv.end(), {"--tmpfs", hidden});
    }
    argv.insert(argv.end(), {"--bind", root.root_dir(), request.input_root_inside});
  }
  argv.insert(argv.end(), {"--hostname", kSandboxHostname});
  argv.insert(argv.end(),
              {"--chdir", host_tools ? JoinPath(request.input_root_inside, spec.working_directory)
                                     : root.working_dir_inside()});
  argv.push_back("--clearenv");
  for (const auto& [name, value] : spec.environment) {
    argv.insert(argv.end(), {"--setenv", name, value});
  }
  argv.insert(argv.end(), {"--info-fd", std::to_string(info_fd)});
  return argv;
}

}  // namespace cairn
