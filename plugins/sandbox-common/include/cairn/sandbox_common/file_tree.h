// cairn/sandbox_common/file_tree.h — filesystem operations on staged trees.
//
// Every function works on host paths the sandbox owns (its scratch
// directory) and never follows a symbolic link: a sandboxed command may have
// left symlinks pointing anywhere, and the host must not act through them.
// Errors are ErrnoStatus values naming the path.
#ifndef CAIRN_SANDBOX_COMMON_FILE_TREE_H
#define CAIRN_SANDBOX_COMMON_FILE_TREE_H

#include <sys/types.h>

#include <string>

#include "cairn/status.h"

namespace cairn {

// Removes `path` and everything below it, making directories writable
// first when needed. A missing path is OK.
Status RemoveTree(const std::string& path);

// Creates `base`/`relative` and any missing parents (mode 0755). Existing
// components must be real directories, not symlinks: FAILED_PRECONDITION
// naming the component otherwise.
Status MakeDirectories(const std::string& base, const std::string& relative);

// Replaces every regular file below `dir` that has more than one link (a
// hardlink into the store, typically) with a private copy of the same
// content and mtime, mode 0755 when any execute bit is set and 0644
// otherwise (as a stage without hardlinks makes them), so writing to it can
// never reach the original.
Status ReplaceHardlinksWithCopies(const std::string& dir);

// lchown()s `dir` and everything below it.
Status ChownTree(const std::string& dir, uid_t uid, gid_t gid);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_FILE_TREE_H
