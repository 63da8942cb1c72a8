// cairn/sandbox_common/overlay_mount.h — mounting a run's overlay root
// (staged_root.h) in the sandbox's first process.
//
// The plan is made in the host; the freshly cloned child mounts it with
// system calls only (the host is multithreaded), in a mount namespace of
// its own so that the mount goes with the run's last process and never
// shows on the host. The chroot sandbox's child has that namespace
// already; bwrap's launcher makes one first (with a user namespace
// mapping the host's user to itself when the host is not root, as the
// kernel allows unprivileged overlay mounts only there).
//
// Where overlayfs is missing or refuses the layers (an upper layer on
// another overlayfs, an old kernel, user namespaces disabled), the child
// writes kOverlayFailedStatus to its status descriptor and exits; the
// LocalSandbox then stops using overlays and runs the action again on a
// copied root (the command had not started).
#ifndef CAIRN_SANDBOX_COMMON_OVERLAY_MOUNT_H
#define CAIRN_SANDBOX_COMMON_OVERLAY_MOUNT_H

#include <string>

#include "cairn/sandbox_common/staged_root.h"

namespace cairn {

inline constexpr char kOverlayFailedStatus[] = "cairn: the overlay root could not be mounted\n";

struct OverlayMountPlan {
  std::string merged;  // where it is mounted
  std::string data;    // mount(2)'s options
  // Make the mount namespace first (else the caller's is used).
  bool new_mount_namespace = false;
  // And a user namespace mapping this user to itself (a host that is not
  // root), with these contents for /proc/self/uid_map and gid_map.
  bool new_user_namespace = false;
  std::string uid_map;
  std::string gid_map;
};

// In the host. `new_mount_namespace`: the child has none of its own yet.
OverlayMountPlan PlanOverlayMount(const OverlayRoot& overlay, bool new_mount_namespace);

// In the child: 0, or -1 with errno set. System calls only.
int MountOverlay(const OverlayMountPlan& plan);

// In the child: MountOverlay, or, when it fails, kOverlayFailedStatus
// written to `status_fd` and _exit(`exit_code`), so that the host runs the
// action again on a copied root. System calls only.
void MountOverlayOrExit(const OverlayMountPlan& plan, int status_fd, int exit_code);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_OVERLAY_MOUNT_H
