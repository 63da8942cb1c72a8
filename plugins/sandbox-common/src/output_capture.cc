#include "cairn/sandbox_common/output_capture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "cairn/relative_path.h"

namespace cairn {
namespace {

// OK when every parent of `relative` below `base` is a real directory;
// NOT_FOUND when one is missing (the output is then absent). `output`
// names the output path in errors.
Status CheckParents(const std::string& base, const std::string& relative,
                    const std::string& output) {
  std::string path = base;
  std::vector<std::string> components = SplitPath(relative);
  if (components.empty()) return Status::Ok();  // `base` itself
  components.pop_back();
  for (const std::string& component : components) {
    path = JoinPath(path, component);
    struct stat info {};
    if (lstat(path.c_str(), &info) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return NotFound(path);
      return ErrnoStatus("lstat", path, errno);
    }
    if (!S_ISDIR(info.st_mode)) {
      return InvalidArgument("output path " + output + " cannot be captured: its parent " +
                             component + " was replaced by " +
                             (S_ISLNK(info.st_mode) ? "a symlink" : "a non-directory"));
    }
  }
  return Status::Ok();
}

}  // namespace

std::optional<OutputLocation> LocateOutput(const std::vector<OutputHostDir>& dirs,
                                           const std::string& output) {
  const OutputHostDir* best = nullptr;
  for (const OutputHostDir& dir : dirs) {
    const std::string& prefix = dir.prefix;
    bool covers = prefix.empty() || output == prefix ||
                  (output.size() > prefix.size() && output.compare(0, prefix.size(), prefix) == 0 &&
                   output[prefix.size()] == '/');
    if (covers && (best == nullptr || prefix.size() > best->prefix.size())) best = &dir;
  }
  if (best == nullptr) return std::nullopt;
  std::string relative = best->prefix.empty()     ? output
                         : output == best->prefix ? std::string()
                                                  : output.substr(best->prefix.size() + 1);
  return OutputLocation{best->host_dir, std::move(relative)};
}

Status CaptureOutputs(Storage& cas, const std::vector<OutputHostDir>& dirs,
                      const std::vector<std::string>& output_paths, ActionResult* result) {
  for (const std::string& output : output_paths) {
    std::optional<OutputLocation> location = LocateOutput(dirs, output);
    if (!location) return Internal("no host directory holds output path " + output);
    Status parents = CheckParents(location->base, location->relative, output);
    if (parents.code() == Code::kNotFound) continue;
    CAIRN_RETURN_IF_ERROR(parents);
    std::string path = JoinPath(location->base, location->relative);
    struct stat info {};
    if (lstat(path.c_str(), &info) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return ErrnoStatus("lstat", path, errno);
    }
    if (S_ISREG(info.st_mode)) {
      CAIRN_ASSIGN_OR_RETURN(Digest digest, cas.WriteBlobFromPath(path, false, std::nullopt));
      auto* file = result->add_output_files();
      file->set_path(output);
      *file->mutable_digest() = digest;
      file->set_is_executable((info.st_mode & S_IXUSR) != 0);
    } else if (S_ISDIR(info.st_mode)) {
      CaptureOptions options;
      options.store_tree = true;
      StatusOr<CapturedTree> tree = cas.CaptureTree(path, options);
      if (!tree.ok()) return tree.status().WithContext("capturing output directory " + output);
      auto* directory = result->add_output_directories();
      directory->set_path(output);
      if (tree->tree) *directory->mutable_tree_digest() = *tree->tree;
      *directory->mutable_root_directory_digest() = tree->root;
    } else if (S_ISLNK(info.st_mode)) {
      std::vector<char> target(static_cast<size_t>(info.st_size) + 1);
      ssize_t length = readlink(path.c_str(), target.data(), target.size());
      if (length < 0) return ErrnoStatus("readlink", path, errno);
      auto* symlink = result->add_output_symlinks();
      symlink->set_path(output);
      symlink->set_target(std::string(target.data(), static_cast<size_t>(length)));
    } else {
      return InvalidArgument("output path " + output +
                             " is neither a file, a directory nor a symlink");
    }
  }
  return Status::Ok();
}

}  // namespace cairn
