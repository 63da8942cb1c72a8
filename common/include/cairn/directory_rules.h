// cairn/directory_rules.h — the REAPI rules for one Directory message.
//
// The single place where a Directory is judged, used by every tree walk in
// cairn/merkle.h (so by cas-local's staging and `cairn cas`) and by the
// ActionValidator (cairn/action_validator.h) that checks a whole input root
// for the sandboxes and the server:
//   - every name is one path component: not empty, not "." or "..", no '/'
//     and no NUL (the spec's rule made strict, as Buildbarn does);
//   - each of files, directories and symlinks is sorted by name (bytewise)
//     and no name appears twice across the three lists;
//   - every digest is well formed;
//   - a symlink target is not empty and has no NUL; an absolute target only
//     when the rules allow it (REAPI's symlink_absolute_path_strategy);
//   - a tree nests at most kMaxTreeDepth directories.
//
// Errors are INVALID_ARGUMENT with a google.rpc.BadRequest (see
// cairn/status_details.h) whose field is the place in the tree, prefixed by
// DirectoryRules::field_prefix: "input_root/usr/bin" for a directory,
// "input_root/usr/bin/cc" for an entry. Pure functions, thread-safe.
//
//   DirectoryRules rules;
//   rules.allow_absolute_symlinks = false;
//   rules.field_prefix = "input_root";
//   CAIRN_RETURN_IF_ERROR(ValidateDirectory(directory, "usr/bin", rules));
#ifndef CAIRN_DIRECTORY_RULES_H
#define CAIRN_DIRECTORY_RULES_H

#include <cstddef>
#include <string>
#include <string_view>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/status.h"

namespace cairn {

using Directory = build::bazel::remote::execution::v2::Directory;
using DirectoryNode = build::bazel::remote::execution::v2::DirectoryNode;
using FileNode = build::bazel::remote::execution::v2::FileNode;
using SymlinkNode = build::bazel::remote::execution::v2::SymlinkNode;

// Trees nested deeper than this are refused with INVALID_ARGUMENT by every
// walk, merge, stage and validation: no real build nests a thousand
// directories, and a hostile tree must not exhaust the stack or the file
// descriptors.
inline constexpr size_t kMaxTreeDepth = 1000;

struct DirectoryRules {
  // Whether a symlink may point to an absolute path. The local sandboxes
  // allow it (the input root is the sandbox's "/"); a server follows its
  // configured symlink_absolute_path_strategy.
  bool allow_absolute_symlinks = true;
  // What the tree is, for the BadRequest field: "input_root" gives
  // "input_root/usr/bin". Empty: the path alone ("." for the root).
  std::string field_prefix;
};

// INVALID_ARGUMENT "invalid name '...': ..." when the name is empty, ".",
// "..", or contains '/' or NUL: such a name could address something outside
// its directory.
Status ValidateName(std::string_view name);

// Checks one Directory found at `path` ("" for the root, else "a/b") of its
// tree against every rule above except the depth.
Status ValidateDirectory(const Directory& directory, std::string_view path = "",
                         const DirectoryRules& rules = DirectoryRules());

// Checks that a directory at `path` ("" for the root) is at most
// kMaxTreeDepth levels below the root.
Status ValidateTreeDepth(std::string_view path, const DirectoryRules& rules = DirectoryRules());

// The BadRequest field naming `path` of a tree: "input_root/a/b", or "."
// for the root of a tree without a prefix.
std::string TreeField(std::string_view path, const DirectoryRules& rules);

}  // namespace cairn

#endif  // CAIRN_DIRECTORY_RULES_H
