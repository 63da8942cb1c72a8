#include "bwrap_command_line.h"

namespace cairn {

std::vector<std::string> BwrapOptions(const LaunchRequest& request, int info_fd) {
  const ActionSpec& spec = *request.spec;
  const StagedRoot& root = *request.root;
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

  if (root.root_is_writable()) {
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
  argv.insert(argv.end(), {"--hostname", kSandboxHostname});
  argv.insert(argv.end(), {"--chdir", root.working_dir_inside()});
  argv.push_back("--clearenv");
  for (const auto& [name, value] : spec.environment) {
    argv.insert(argv.end(), {"--setenv", name, value});
  }
  argv.insert(argv.end(), {"--info-fd", std::to_string(info_fd)});
  return argv;
}

}  // namespace cairn
