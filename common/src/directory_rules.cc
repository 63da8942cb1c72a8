#include "cairn/directory_rules.h"

#include <algorithm>
#include <set>

#include "cairn/digest.h"
#include "cairn/relative_path.h"
#include "cairn/status_details.h"

namespace cairn {
namespace {

// A name as it can be printed: NUL shown as \0.
std::string Quote(std::string_view name) {
  std::string quoted = "'";
  for (char c : name) {
    if (c == '\0') {
      quoted += "\\0";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

template <typename Node>
Status CheckSorted(const google::protobuf::RepeatedPtrField<Node>& nodes, const char* kind,
                   std::string_view path, const DirectoryRules& rules) {
  for (int i = 1; i < nodes.size(); ++i) {
    if (!(nodes[i - 1].name() < nodes[i].name())) {
      return BadRequestError(TreeField(path, rules),
                             std::string(kind) + " are not canonical: " +
                                 Quote(nodes[i - 1].name()) + " is not sorted before " +
                                 Quote(nodes[i].name()) + " (names must be sorted and unique)");
    }
  }
  return Status::Ok();
}

Status CheckSymlinkTarget(const SymlinkNode& link, std::string_view path,
                          const DirectoryRules& rules) {
  const std::string& target = link.target();
  std::string field = TreeField(JoinPath(path, link.name()), rules);
  if (target.empty()) return BadRequestError(field, "the symlink has an empty target");
  if (target.find('\0') != std::string::npos) {
    return BadRequestError(field, "the symlink has a target containing NUL");
  }
  if (target.front() == '/' && !rules.allow_absolute_symlinks) {
    return BadRequestError(field, "the symlink's target " + Quote(target) +
                                      " is absolute, and absolute symlinks are not allowed here");
  }
  return Status::Ok();
}

}  // namespace

std::string TreeField(std::string_view path, const DirectoryRules& rules) {
  std::string field = JoinPath(rules.field_prefix, path);
  return field.empty() ? std::string(".") : field;
}

Status ValidateName(std::string_view name) {
  if (name.empty()) return InvalidArgument("invalid name '': a name must not be empty");
  if (name == "." || name == "..") {
    return InvalidArgument("invalid name " + Quote(name) + ": '.' and '..' are not allowed");
  }
  if (name.find('/') != std::string_view::npos) {
    return InvalidArgument("invalid name " + Quote(name) + ": a name must not contain '/'");
  }
  if (name.find('\0') != std::string_view::npos) {
    return InvalidArgument("invalid name " + Quote(name) + ": a name must not contain NUL");
  }
  return Status::Ok();
}

Status ValidateDirectory(const Directory& directory, std::string_view path,
                         const DirectoryRules& rules) {
  std::set<std::string_view> names;
  // An invalid name is reported at its directory: the name cannot be
  // joined into a path that means anything.
  auto check_name = [&](const std::string& name) -> Status {
    Status valid = ValidateName(name);
    if (!valid.ok()) return BadRequestError(TreeField(path, rules), valid.message());
    if (!names.insert(name).second) {
      return BadRequestError(TreeField(JoinPath(path, name), rules),
                             "duplicate name " + Quote(name) +
                                 ": a name may appear once across files, directories and symlinks");
    }
    return Status::Ok();
  };
  auto check_digest = [&](const std::string& name, const Digest& digest) -> Status {
    Status valid = ValidateDigest(digest);
    if (valid.ok()) return valid;
    return BadRequestError(TreeField(JoinPath(path, name), rules), valid.message());
  };
  for (const FileNode& file : directory.files()) {
    CAIRN_RETURN_IF_ERROR(check_name(file.name()));
    CAIRN_RETURN_IF_ERROR(check_digest(file.name(), file.digest()));
  }
  for (const DirectoryNode& child : directory.directories()) {
    CAIRN_RETURN_IF_ERROR(check_name(child.name()));
    CAIRN_RETURN_IF_ERROR(check_digest(child.name(), child.digest()));
  }
  for (const SymlinkNode& link : directory.symlinks()) {
    CAIRN_RETURN_IF_ERROR(check_name(link.name()));
    CAIRN_RETURN_IF_ERROR(CheckSymlinkTarget(link, path, rules));
  }
  CAIRN_RETURN_IF_ERROR(CheckSorted(directory.files(), "files", path, rules));
  CAIRN_RETURN_IF_ERROR(CheckSorted(directory.directories(), "directories", path, rules));
  CAIRN_RETURN_IF_ERROR(CheckSorted(directory.symlinks(), "symlinks", path, rules));
  return Status::Ok();
}

Status ValidateTreeDepth(std::string_view path, const DirectoryRules& rules) {
  size_t depth =
      path.empty() ? 0 : 1 + static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
  if (depth <= kMaxTreeDepth) return Status::Ok();
  // The path of a too deep directory is thousands of characters: name its start.
  return BadRequestError(
      TreeField(path.substr(0, 200), rules) + "...",
      "the tree nests deeper than " + std::to_string(kMaxTreeDepth) + " directories");
}

}  // namespace cairn
