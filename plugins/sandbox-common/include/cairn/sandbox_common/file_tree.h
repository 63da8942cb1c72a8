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
Status MakeDirectoriesBelow(const std::string& base, const std::string& relative);

// Copies the tree at `from` (a directory) to `to` (created, must not
// exist) as private files: directories keep their permission bits, symlinks
// their targets, and regular files get a copy of the content and mtime with
// mode 0755 when any execute bit is set and 0644 otherwise (as a stage
// without hardlinks makes them), so writing below `to` can never reach a
// file below `from` or an object in the store it may be hardlinked to.
// Other file types are skipped.
Status CopyTree(const std::string& from, const std::string& to);

// lchown()s `dir` and everything below it.
Status ChownTree(const std::string& dir, uid_t uid, gid_t gid);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_FILE_TREE_H
