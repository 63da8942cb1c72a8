#include "cairn/sandbox_common/command_resolver.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "cairn/relative_path.h"

namespace cairn {
namespace {

constexpr int kMaxSymlinks = 40;  // as the kernel's ELOOP limit

std::deque<std::string> Components(const std::string& path) {
  std::deque<std::string> components;
  for (std::string& component : SplitPath(path)) {
    if (!component.empty() && component != ".") components.push_back(std::move(component));
  }
  return components;
}

std::string Render(const std::vector<std::string>& components) {
  std::string path;
  for (const std::string& component : components) path += "/" + component;
  return path;
}

}  // namespace

StatusOr<std::string> ResolveInRoot(const std::string& root_dir, const std::string& inside_path,
                                    const std::string& inside_cwd) {
  std::string absolute = inside_path.front() == '/' ? inside_path : inside_cwd + "/" + inside_path;
  std::deque<std::string> pending = Components(absolute);
  std::vector<std::string> resolved;
  int symlinks = 0;
  while (!pending.empty()) {
    std::string component = std::move(pending.front());
    pending.pop_front();
    if (component == "..") {
      if (!resolved.empty()) resolved.pop_back();
      continue;
    }
    resolved.push_back(component);
    std::string host = root_dir + Render(resolved);
    struct stat info {};
    if (lstat(host.c_str(), &info) != 0) {
      if (errno == ENOENT || errno == ENOTDIR)
        return NotFound(Render(resolved) + " does not exist");
      return ErrnoStatus("lstat", host, errno);
    }
    if (!S_ISLNK(info.st_mode)) continue;
    if (++symlinks > kMaxSymlinks) return NotFound(inside_path + ": too many levels of symlinks");
    std::vector<char> target(static_cast<size_t>(info.st_size) + 1);
    ssize_t length = readlink(host.c_str(), target.data(), target.size());
    if (length < 0) return ErrnoStatus("readlink", host, errno);
    std::string text(target.data(), static_cast<size_t>(length));
    resolved.pop_back();
    if (!text.empty() && text.front() == '/') resolved.clear();
    std::deque<std::string> expansion = Components(text);
    pending.insert(pending.begin(), expansion.begin(), expansion.end());
  }
  return root_dir + Render(resolved);
}

namespace {

// argv[0] as a sandbox would find it: `executable` says whether a path
// inside the sandbox names an executable file; `where` says where the
// sandbox's files are, for the messages.
StatusOr<std::string> FindProgram(
    const ActionSpec& spec, const std::string& cwd,
    const std::function<StatusOr<bool>(const std::string& inside)>& executable,
    const std::string& where) {
  const std::string& program = spec.arguments.front();
  if (program.find('/') != std::string::npos) {
    std::string inside = program.front() == '/' ? program : JoinPath(cwd, program);
    CAIRN_ASSIGN_OR_RETURN(bool found, executable(inside));
    if (!found) {
      return FailedPrecondition("command '" + program + "' was not found " + where +
                                ", or is not an executable file (relative paths start at the "
                                "working directory " +
                                cwd + ")");
    }
    return inside;
  }
  std::string search = spec.Env("PATH").value_or("/bin:/usr/bin");
  std::vector<std::string> directories;  // PATH splits on ':'
  size_t start = 0;
  while (true) {
    size_t colon = search.find(':', start);
    directories.push_back(search.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  for (const std::string& directory : directories) {
    std::string candidate = (directory.empty() ? cwd : directory) + "/" + program;
    if (candidate.front() != '/') candidate = JoinPath(cwd, candidate);
    CAIRN_ASSIGN_OR_RETURN(bool found, executable(candidate));
    if (found) return candidate;
  }
  return FailedPrecondition("command '" + program + "' was not found " + where +
                            " (searched the Command's PATH=" + search + ")");
}

bool IsExecutableFile(const std::string& host_path) {
  struct stat info {};
  if (stat(host_path.c_str(), &info) != 0) return false;
  return S_ISREG(info.st_mode) && (info.st_mode & 0111) != 0;
}

// The part of `path` below `directory` ("" for the directory itself), or
// nothing when `path` is elsewhere. Both absolute.
std::optional<std::string> Below(const std::string& path, const std::string& directory) {
  if (path.compare(0, directory.size(), directory) != 0) return std::nullopt;
  if (path.size() == directory.size()) return std::string();
  if (path[directory.size()] != '/') return std::nullopt;
  return path.substr(directory.size() + 1);
}

}  // namespace

StatusOr<std::string> ResolveProgram(const std::string& root_dir, const ActionSpec& spec) {
  std::string cwd = "/" + spec.working_directory;
  auto executable = [&](const std::string& inside) -> StatusOr<bool> {
    StatusOr<std::string> host = ResolveInRoot(root_dir, inside, cwd);
    if (!host.ok()) {
      if (host.status().code() == Code::kNotFound) return false;
      return host.status();
    }
    return IsExecutableFile(*host);
  };
  return FindProgram(spec, cwd, executable, "in the input root");
}

StatusOr<std::string> ResolveHostToolsProgram(const std::string& root_dir,
                                              const std::string& root_inside,
                                              const ActionSpec& spec) {
  std::string cwd = JoinPath(root_inside, spec.working_directory);
  auto executable = [&](const std::string& inside) -> StatusOr<bool> {
    // Normalized first, so "sub/../../x" cannot slip past the input root's
    // directory into the host's files under the same name.
    std::vector<std::string> normalized;
    for (const std::string& component : SplitPath(inside)) {
      if (component.empty() || component == ".") continue;
      if (component == "..") {
        if (!normalized.empty()) normalized.pop_back();
        continue;
      }
      normalized.push_back(component);
    }
    std::string path;
    for (const std::string& component : normalized) path += "/" + component;
    if (path.empty()) path = "/";
    if (std::optional<std::string> relative = Below(path, root_inside)) {
      StatusOr<std::string> host = ResolveInRoot(root_dir, "/" + *relative, "/");
      if (!host.ok()) {
        if (host.status().code() == Code::kNotFound) return false;
        return host.status();
      }
      return IsExecutableFile(*host);
    }
    // The sandbox's /tmp is private: nothing of the host's is there.
    if (Below(path, "/tmp")) return false;
    return IsExecutableFile(path);
  };
  return FindProgram(spec, cwd, executable, "on the host or in the input root");
}

}  // namespace cairn
