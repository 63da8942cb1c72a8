#include "tree_stage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "cairn/merkle.h"
#include "cairn/parallel.h"
#include "file_util.h"

namespace cairn::cas_local {
namespace {

constexpr size_t kEntriesPerBatch = 64;

Status AlreadyExists(const std::string& message) { return Status(Code::kAlreadyExists, message); }

struct StagedDirectory {
  std::string path;  // relative to the target; "" for the root
  Directory directory;
  std::vector<size_t> children;  // indices, in the order of directory.directories()
};

struct Batch {
  size_t directory;
  size_t begin;  // index over files then symlinks
  size_t end;
};

void SetReproducibleTimes(struct timespec times[2]) {
  times[0].tv_sec = kReproducibleMtime;
  times[0].tv_nsec = 0;
  times[1] = times[0];
}

std::string Where(const std::string& target, const std::string& relative) {
  return relative.empty() ? target : target + "/" + relative;
}

std::string Join(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "/" + name;
}

// Opens target/relative one component at a time, never following a symlink.
StatusOr<UniqueFd> OpenBeneath(int root_fd, const std::string& relative,
                               const std::string& target) {
  UniqueFd current(::dup(root_fd));
  size_t start = 0;
  while (start < relative.size()) {
    size_t end = relative.find('/', start);
    if (end == std::string::npos) end = relative.size();
    std::string component = relative.substr(start, end - start);
    UniqueFd next(::openat(current.get(), component.c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) return ErrnoStatus("open directory", Where(target, relative), errno);
    current = std::move(next);
    start = end + 1;
  }
  return current;
}

// Creates the children of `index` (recursively), each opened with
// O_NOFOLLOW right after mkdirat, so a symlink already in the target at
// that name makes mkdirat fail rather than redirect us.
Status CreateDirectories(int dir_fd, size_t index, std::vector<StagedDirectory>& all,
                         const std::string& target) {
  const StagedDirectory& staged = all[index];
  for (size_t child : staged.children) {
    const std::string& name = all[child].path.substr(all[child].path.rfind('/') + 1);
    std::string where = Where(target, all[child].path);
    if (::mkdirat(dir_fd, name.c_str(), 0755) != 0) {
      if (errno == EEXIST) return AlreadyExists(where + " already exists in the staging target");
      return ErrnoStatus("create directory", where, errno);
    }
    UniqueFd child_fd(
        ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child_fd.valid()) return ErrnoStatus("open directory", where, errno);
    CAIRN_RETURN_IF_ERROR(CreateDirectories(child_fd.get(), child, all, target));
  }
  return Status::Ok();
}

// Post-order: a directory's time is set after everything inside it exists.
Status SetDirectoryTimes(int dir_fd, size_t index, std::vector<StagedDirectory>& all,
                         const std::string& target) {
  for (size_t child : all[index].children) {
    const std::string name = all[child].path.substr(all[child].path.rfind('/') + 1);
    UniqueFd child_fd(
        ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child_fd.valid())
      return ErrnoStatus("open directory", Where(target, all[child].path), errno);
    CAIRN_RETURN_IF_ERROR(SetDirectoryTimes(child_fd.get(), child, all, target));
  }
  struct timespec times[2];
  SetReproducibleTimes(times);
  if (::futimens(dir_fd, times) != 0) {
    return ErrnoStatus("set times of", Where(target, all[index].path), errno);
  }
  return Status::Ok();
}

}  // namespace

Status TreeStage::Stage(const Digest& root, const std::string& path, const StageOptions& options) {
  // 1. Read and validate the whole tree first.
  std::vector<StagedDirectory> all;
  std::vector<size_t> stack;  // indices of the current path, for parent links
  CAIRN_RETURN_IF_ERROR(WalkTree(
      directories_, root,
      [&](const std::string& relative, const Digest&, const Directory& directory) -> Status {
        // Pre-order: the parent is the deepest entry on the stack that is a prefix.
        while (!stack.empty()) {
          const std::string& top = all[stack.back()].path;
          if (top.empty() || relative.compare(0, top.size() + 1, top + "/") == 0) break;
          stack.pop_back();
        }
        if (!stack.empty()) all[stack.back()].children.push_back(all.size());
        stack.push_back(all.size());
        all.push_back(StagedDirectory{relative, directory, {}});
        return Status::Ok();
      }));

  CAIRN_ASSIGN_OR_RETURN(UniqueFd root_fd, OpenDirectory(AT_FDCWD, path));

  // 2. The directory skeleton.
  CAIRN_RETURN_IF_ERROR(CreateDirectories(root_fd.get(), 0, all, path));

  // 3. Files and symlinks, in parallel batches.
  // The first batch of every directory, then the second of every one...:
  // threads taking consecutive batches then mostly fill different
  // directories, instead of queueing on one directory's lock.
  std::vector<Batch> batches;
  for (size_t d = 0; d < all.size(); ++d) {
    size_t count = static_cast<size_t>(all[d].directory.files_size()) +
                   static_cast<size_t>(all[d].directory.symlinks_size());
    for (size_t begin = 0; begin < count; begin += kEntriesPerBatch) {
      batches.push_back({d, begin, std::min(begin + kEntriesPerBatch, count)});
    }
  }
  std::stable_sort(batches.begin(), batches.end(),
                   [](const Batch& a, const Batch& b) { return a.begin < b.begin; });
  std::atomic<bool> link_possible{options.hardlinks};
  CAIRN_RETURN_IF_ERROR(ParallelFor(batches.size(), threads_, [&](size_t b) -> Status {
    if (cancelled_ && cancelled_()) return Cancelled("staging into " + path + " was cancelled");
    const StagedDirectory& staged = all[batches[b].directory];
    CAIRN_ASSIGN_OR_RETURN(UniqueFd dir_fd, OpenBeneath(root_fd.get(), staged.path, path));
    struct timespec times[2];
    SetReproducibleTimes(times);
    size_t file_count = static_cast<size_t>(staged.directory.files_size());
    for (size_t i = batches[b].begin; i < batches[b].end; ++i) {
      if (i >= file_count) {
        const SymlinkNode& link = staged.directory.symlinks(static_cast<int>(i - file_count));
        std::string where = Where(path, Join(staged.path, link.name()));
        if (::symlinkat(link.target().c_str(), dir_fd.get(), link.name().c_str()) != 0) {
          if (errno == EEXIST)
            return AlreadyExists(where + " already exists in the staging target");
          return ErrnoStatus("create symlink", where, errno);
        }
        if (::utimensat(dir_fd.get(), link.name().c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
          return ErrnoStatus("set times of", where, errno);
        }
        continue;
      }
      const FileNode& file = staged.directory.files(static_cast<int>(i));
      std::string where = Where(path, Join(staged.path, file.name()));
      if (link_possible.load(std::memory_order_relaxed)) {
        int error_number = 0;
        Status linked = stager_.Link(file.digest(), file.is_executable(), dir_fd.get(),
                                     file.name().c_str(), &error_number);
        if (linked.ok()) continue;
        if (error_number == EEXIST)
          return AlreadyExists(where + " already exists in the staging target");
        if (error_number == EXDEV) {
          link_possible = false;  // another filesystem: copy from now on
        } else if (error_number != EMLINK) {
          return linked.WithContext("staging " + where);
        }
      }
      mode_t mode = file.is_executable() ? 0755 : 0644;
      UniqueFd out(::openat(dir_fd.get(), file.name().c_str(),
                            O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode));
      if (!out.valid()) {
        if (errno == EEXIST) return AlreadyExists(where + " already exists in the staging target");
        return ErrnoStatus("create", where, errno);
      }
      Status copied = stager_.Copy(file.digest(), out.get(), where);
      if (!copied.ok()) {
        ::unlinkat(dir_fd.get(), file.name().c_str(), 0);
        return copied.WithContext("staging " + where);
      }
      if (::fchmod(out.get(), mode) != 0) return ErrnoStatus("chmod", where, errno);
      if (::futimens(out.get(), times) != 0) return ErrnoStatus("set times of", where, errno);
    }
    return Status::Ok();
  }));

  // 4. Directory times last: creating entries changed them.
  return SetDirectoryTimes(root_fd.get(), 0, all, path);
}

}  // namespace cairn::cas_local
