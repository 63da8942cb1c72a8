// cairn/relative_path.h — REAPI relative paths.
//
// Working directories and output paths in a Command are relative to the
// input root (resp. the working directory), use '/' separators and must be
// normalized: no leading or trailing '/', no empty, "." or ".." component.
// ValidateRelativePath() enforces that with INVALID_ARGUMENT naming `what`.
// Shared by the Action builder and validator (common) and the local
// sandboxes' staging and capture. Pure functions, thread-safe.
//
//   CAIRN_RETURN_IF_ERROR(ValidateRelativePath(cwd, "working_directory", true));
#ifndef CAIRN_RELATIVE_PATH_H
#define CAIRN_RELATIVE_PATH_H

#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"

namespace cairn {

// `allow_empty`: whether "" (the root itself) is acceptable.
Status ValidateRelativePath(std::string_view path, std::string_view what, bool allow_empty);

// "a/b/c" -> {"a", "b", "c"}; "" -> {}.
std::vector<std::string> SplitPath(std::string_view path);

// Joins with exactly one '/', skipping empty parts: JoinPath("a", "") == "a".
std::string JoinPath(std::string_view base, std::string_view relative);

// "a/b/c" -> "a/b"; "a" -> "".
std::string ParentPath(std::string_view path);

}  // namespace cairn

#endif  // CAIRN_RELATIVE_PATH_H
