#include "cairn/sandbox_common/command_resolver.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
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

StatusOr<std::string> ResolveProgram(const std::string& root_dir, const ActionSpec& spec) {
  const std::string& program = spec.arguments.front();
  std::string cwd = "/" + spec.working_directory;
  auto executable = [&](const std::string& inside) -> StatusOr<bool> {
    StatusOr<std::string> host = ResolveInRoot(root_dir, inside, cwd);
    if (!host.ok()) {
      if (host.status().code() == Code::kNotFound) return false;
      return host.status();
    }
    struct stat info {};
    if (stat(host->c_str(), &info) != 0) return false;
    return S_ISREG(info.st_mode) && (info.st_mode & 0111) != 0;
  };

  if (program.find('/') != std::string::npos) {
    CAIRN_ASSIGN_OR_RETURN(bool found, executable(program));
    if (!found) {
      return FailedPrecondition("command '" + program +
                                "' was not found in the input root, or is not an executable "
                                "file (relative paths start at the working directory " +
                                cwd + ")");
    }
    return program.front() == '/' ? program : JoinPath(cwd, program);
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
  return FailedPrecondition(
      "command '" + program +
      "' was not found in the input root (searched the Command's PATH=" + search + ")");
}

}  // namespace cairn
