// bwrap_command_line.h — the bwrap options for one run.
//
// Built explicitly, option by option, so what the sandbox allows is
// readable in one place:
//   --unshare-all (every namespace; --share-net only for network=on),
//   --unshare-user with --uid/--gid for unixUID/unixGID,
//   --die-with-parent, --new-session (not for interactive runs),
//   --cap-drop ALL (bwrap run as root would otherwise keep every capability),
//   the staged root read-only at / with each writable mount (the working
//   directory, or each output directory when the working directory is the
//   root) bound read-write over it (the whole root read-write for
//   interactive runs and when staged_root.h says so),
//   /proc, a tmpfs /dev holding only null, zero, full, random and urandom
//   (bwrap's full /dev with a tty for interactive runs), a private 1777
//   /tmp, hostname "cairn", the working directory, and exactly the
//   Command's environment (--clearenv, then --setenv per variable) — plus
//   PWD, which bwrap always sets to the working directory (the chroot
//   sandbox mirrors that).
// With host tools (request.input_root_inside is not "/"), the host's "/"
// read-only (--ro-bind / /) takes the staged root's place, with the same
// /proc, /dev and /tmp over it, an empty tmpfs over each of
// `hidden_host_dirs`, and the staged input root, a private writable copy,
// bound at input_root_inside; the command starts in its working directory
// there.
#ifndef CAIRN_PLUGINS_BWRAP_BWRAP_COMMAND_LINE_H
#define CAIRN_PLUGINS_BWRAP_BWRAP_COMMAND_LINE_H

#include <string>
#include <vector>

#include "cairn/sandbox_common/local_sandbox.h"

namespace cairn {

// bwrap's options, without the command. They name host paths (the staged
// root, the working directory), so Launch hands them over through
// `--args FD` rather than on bwrap's command line, which the namespace's
// init keeps and every process inside can read as /proc/1/cmdline.
// `info_fd`: the descriptor number bwrap writes its {"child-pid": N} to.
// `hidden_host_dirs`: host directories (existing, absolute) to cover with
// an empty tmpfs in host-tools mode; unused otherwise.
std::vector<std::string> BwrapOptions(const LaunchRequest& request, int info_fd,
                                      const std::vector<std::string>& hidden_host_dirs);

}  // namespace cairn

#endif  // CAIRN_PLUGINS_BWRAP_BWRAP_COMMAND_LINE_H
