// cairn/sandbox_common/command_resolver.h — finding argv[0] in a staged root.
//
// Per REAPI, argv[0] is an absolute path, a path relative to the working
// directory, or a bare name looked up in the Command's own PATH (never the
// host's; "/bin:/usr/bin" when the Command sets none, as execvp does).
// Resolving it on the host before the sandbox starts turns "not found" into
// a clear error instead of an exit code 127 from inside. Symlinks are
// followed as the sandbox would see them: absolute targets are relative to
// the staged root, and ".." never leaves it.
#ifndef CAIRN_SANDBOX_COMMON_COMMAND_RESOLVER_H
#define CAIRN_SANDBOX_COMMON_COMMAND_RESOLVER_H

#include <string>

#include "cairn/sandbox_common/action_spec.h"
#include "cairn/status.h"

namespace cairn {

// The program's path as seen inside the sandbox ("/bin/sh"), for execve
// after chroot. FAILED_PRECONDITION naming the command and the PATH searched
// when it is missing or not an executable file.
StatusOr<std::string> ResolveProgram(const std::string& root_dir, const ActionSpec& spec);

// The same for a sandbox running the host's own tools, whose "/" is a
// read-only view of the host's filesystem with a private, empty /tmp, and
// whose input root (staged at `root_dir` on the host) is bound at
// `root_inside` (absolute, below /tmp). A bare name is looked up in the
// Command's PATH on that view, a relative path from the working directory
// in the input root. Symlinks of the input root are followed within it
// (an absolute target is relative to the input root, not the host: the
// server refuses such symlinks in this mode anyway); the host's own
// symlinks are followed by the kernel. Returns the program's path inside
// ("/usr/bin/sh", "<root_inside>/sub/tool"); FAILED_PRECONDITION as above.
StatusOr<std::string> ResolveHostToolsProgram(const std::string& root_dir,
                                              const std::string& root_inside,
                                              const ActionSpec& spec);

// The host path that `inside_path` (absolute, or relative to
// `inside_cwd`) designates in the root at `root_dir`, following symlinks
// confined to the root. NOT_FOUND when some component does not exist.
StatusOr<std::string> ResolveInRoot(const std::string& root_dir, const std::string& inside_path,
                                    const std::string& inside_cwd);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_COMMAND_RESOLVER_H
