#include "cairn/sandbox_common/overlay_mount.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>

namespace cairn {
namespace {

int WriteFile(const char* path, const std::string& text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t written = write(fd, text.data(), text.size());
  int error = errno;
  close(fd);
  if (written == static_cast<ssize_t>(text.size())) return 0;
  errno = written < 0 ? error : EIO;
  return -1;
}

}  // namespace

OverlayMountPlan PlanOverlayMount(const OverlayRoot& overlay, bool new_mount_namespace) {
  OverlayMountPlan plan;
  plan.merged = overlay.merged;
  plan.data = overlay.MountData();
  plan.new_mount_namespace = new_mount_namespace;
  plan.new_user_namespace = new_mount_namespace && geteuid() != 0;
  if (plan.new_user_namespace) {
    plan.uid_map = std::to_string(geteuid()) + " " + std::to_string(geteuid()) + " 1\n";
    plan.gid_map = std::to_string(getegid()) + " " + std::to_string(getegid()) + " 1\n";
  }
  return plan;
}

int MountOverlay(const OverlayMountPlan& plan) {
  if (plan.new_mount_namespace) {
    int flags = CLONE_NEWNS | (plan.new_user_namespace ? CLONE_NEWUSER : 0);
    if (unshare(flags) != 0) return -1;
    if (plan.new_user_namespace) {
      // setgroups must be denied before an unprivileged gid_map is written.
      if (WriteFile("/proc/self/setgroups", "deny") != 0) return -1;
      if (WriteFile("/proc/self/uid_map", plan.uid_map) != 0) return -1;
      if (WriteFile("/proc/self/gid_map", plan.gid_map) != 0) return -1;
    }
    // The host's mounts may propagate both ways (systemd makes / shared):
    // nothing mounted here may reach the host.
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return -1;
  }
  return mount("overlay", plan.merged.c_str(), "overlay", 0, plan.data.c_str());
}

void MountOverlayOrExit(const OverlayMountPlan& plan, int status_fd, int exit_code) {
  if (MountOverlay(plan) == 0) return;
  ssize_t ignored = write(status_fd, kOverlayFailedStatus, std::strlen(kOverlayFailedStatus));
  (void)ignored;
  _exit(exit_code);
}

}  // namespace cairn
