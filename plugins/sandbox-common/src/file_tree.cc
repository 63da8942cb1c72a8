#include "cairn/sandbox_common/file_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <vector>

#include "cairn/relative_path.h"
#include "cairn/unique_fd.h"

namespace cairn {
namespace {

// The names in the directory open at `dir_fd` (which stays open).
StatusOr<std::vector<std::string>> ListNames(int dir_fd, const std::string& path) {
  int copy = dup(dir_fd);
  if (copy < 0) return ErrnoStatus("dup", path, errno);
  DIR* dir = fdopendir(copy);
  if (dir == nullptr) {
    int error = errno;
    close(copy);
    return ErrnoStatus("opendir", path, error);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(dir);
  return names;
}

// Calls `visit(parent_fd, name, stat, path)` for every entry below the
// directory open at `dir_fd`, children of a directory before the directory
// itself when `post_order`.
Status Walk(int dir_fd, const std::string& path, bool post_order,
            const std::function<Status(int, const std::string&, const struct stat&,
                                       const std::string&)>& visit) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(dir_fd, path));
  for (const std::string& name : names) {
    std::string child_path = JoinPath(path, name);
    struct stat info {};
    if (fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;
      return ErrnoStatus("lstat", child_path, errno);
    }
    if (!post_order) CAIRN_RETURN_IF_ERROR(visit(dir_fd, name, info, child_path));
    if (S_ISDIR(info.st_mode)) {
      int child = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0 && errno == EACCES) {
        // A directory the command left unreadable: reopen it after chmod.
        fchmodat(dir_fd, name.c_str(), 0700, 0);
        child = openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      }
      if (child < 0) return ErrnoStatus("open", child_path, errno);
      UniqueFd closer(child);
      CAIRN_RETURN_IF_ERROR(Walk(child, child_path, post_order, visit));
    }
    if (post_order) CAIRN_RETURN_IF_ERROR(visit(dir_fd, name, info, child_path));
  }
  return Status::Ok();
}

Status WalkPath(const std::string& dir, bool post_order,
                const std::function<Status(int, const std::string&, const struct stat&,
                                           const std::string&)>& visit) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", dir, errno);
  UniqueFd closer(fd);
  return Walk(fd, dir, post_order, visit);
}

Status CopyContent(int from, int to, const std::string& path) {
  while (true) {
    ssize_t copied = copy_file_range(from, nullptr, to, nullptr, 1 << 30, 0);
    if (copied == 0) return Status::Ok();
    if (copied > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
      return ErrnoStatus("copy", path, errno);
    }
    // Fall back to plain reads and writes.
    char buffer[1 << 16];
    while (true) {
      ssize_t got = read(from, buffer, sizeof(buffer));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return ErrnoStatus("read", path, errno);
      if (got == 0) return Status::Ok();
      for (ssize_t done = 0; done < got;) {
        ssize_t put = write(to, buffer + done, static_cast<size_t>(got - done));
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) return ErrnoStatus("write", path, errno);
        done += put;
      }
    }
  }
}

Status CopyFile(int from_dir, int to_dir, const std::string& name, const struct stat& info,
                const std::string& path) {
  int from = openat(from_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (from < 0) return ErrnoStatus("open", path, errno);
  UniqueFd close_from(from);
  // Writable like a copy staged without hardlinks: objects in the store are
  // read-only, their private copies are not.
  mode_t mode = (info.st_mode & 0111) != 0 ? 0755 : 0644;
  int to = openat(to_dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (to < 0) return ErrnoStatus("create a copy of", path, errno);
  UniqueFd close_to(to);
  CAIRN_RETURN_IF_ERROR(CopyContent(from, to, path));
  // The umask may have narrowed the mode given to openat.
  if (fchmod(to, mode) != 0) return ErrnoStatus("chmod", path, errno);
  const struct timespec times[2] = {info.st_atim, info.st_mtim};
  if (futimens(to, times) != 0) return ErrnoStatus("utimens", path, errno);
  return Status::Ok();
}

Status CopySymlink(int from_dir, int to_dir, const std::string& name, const struct stat& info,
                   const std::string& path) {
  std::vector<char> target(static_cast<size_t>(info.st_size) + 1);
  ssize_t length = readlinkat(from_dir, name.c_str(), target.data(), target.size());
  if (length < 0) return ErrnoStatus("readlink", path, errno);
  target[static_cast<size_t>(length)] = '\0';
  if (symlinkat(target.data(), to_dir, name.c_str()) != 0) {
    return ErrnoStatus("create a copy of symlink", path, errno);
  }
  return Status::Ok();
}

Status CopyDirectory(int from_dir, int to_dir, const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames(from_dir, path));
  for (const std::string& name : names) {
    std::string child_path = JoinPath(path, name);
    struct stat info {};
    if (fstatat(from_dir, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus("lstat", child_path, errno);
    }
    if (S_ISREG(info.st_mode)) {
      CAIRN_RETURN_IF_ERROR(CopyFile(from_dir, to_dir, name, info, child_path));
    } else if (S_ISLNK(info.st_mode)) {
      CAIRN_RETURN_IF_ERROR(CopySymlink(from_dir, to_dir, name, info, child_path));
    } else if (S_ISDIR(info.st_mode)) {
      if (mkdirat(to_dir, name.c_str(), 0700) != 0) {
        return ErrnoStatus("create a copy of directory", child_path, errno);
      }
      int from = openat(from_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (from < 0) return ErrnoStatus("open", child_path, errno);
      UniqueFd close_from(from);
      int to = openat(to_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (to < 0) return ErrnoStatus("open the copy of", child_path, errno);
      UniqueFd close_to(to);
      CAIRN_RETURN_IF_ERROR(CopyDirectory(from, to, child_path));
      // Its own permissions last, so a read-only directory is still filled.
      if (fchmod(to, info.st_mode & 07777) != 0) return ErrnoStatus("chmod", child_path, errno);
    }
  }
  return Status::Ok();
}

}  // namespace

Status RemoveTree(const std::string& path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) {
    return errno == ENOENT ? Status::Ok() : ErrnoStatus("lstat", path, errno);
  }
  if (S_ISDIR(info.st_mode)) {
    if ((info.st_mode & 0700) != 0700) chmod(path.c_str(), 0700);
    CAIRN_RETURN_IF_ERROR(WalkPath(
        path, /*post_order=*/false,
        [](int dir_fd, const std::string& name, const struct stat& entry, const std::string&) {
          // Make directories writable before descending, so their entries
          // can be removed on the way back up.
          if (S_ISDIR(entry.st_mode) && (entry.st_mode & 0700) != 0700) {
            fchmodat(dir_fd, name.c_str(), 0700, 0);
          }
          return Status::Ok();
        }));
    CAIRN_RETURN_IF_ERROR(WalkPath(path, /*post_order=*/true,
                                   [](int dir_fd, const std::string& name, const struct stat& entry,
                                      const std::string& child_path) {
                                     int flags = S_ISDIR(entry.st_mode) ? AT_REMOVEDIR : 0;
                                     if (unlinkat(dir_fd, name.c_str(), flags) != 0 &&
                                         errno != ENOENT) {
                                       return ErrnoStatus("remove", child_path, errno);
                                     }
                                     return Status::Ok();
                                   }));
    if (rmdir(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("rmdir", path, errno);
    return Status::Ok();
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink", path, errno);
  return Status::Ok();
}

Status MakeDirectoriesBelow(const std::string& base, const std::string& relative) {
  std::string path = base;
  for (const std::string& component : SplitPath(relative)) {
    path = JoinPath(path, component);
    struct stat info {};
    if (lstat(path.c_str(), &info) == 0) {
      if (!S_ISDIR(info.st_mode)) {
        return FailedPrecondition(path + " must be a directory, but it is " +
                                  (S_ISLNK(info.st_mode) ? "a symlink" : "not a directory"));
      }
      continue;
    }
    if (errno != ENOENT) return ErrnoStatus("lstat", path, errno);
    if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("mkdir", path, errno);
    }
  }
  return Status::Ok();
}

Status CopyTree(const std::string& from, const std::string& to) {
  struct stat info {};
  if (lstat(from.c_str(), &info) != 0) return ErrnoStatus("lstat", from, errno);
  if (!S_ISDIR(info.st_mode)) return FailedPrecondition(from + " must be a directory to be copied");
  int from_fd = open(from.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (from_fd < 0) return ErrnoStatus("open", from, errno);
  UniqueFd close_from(from_fd);
  if (mkdir(to.c_str(), 0700) != 0) return ErrnoStatus("mkdir", to, errno);
  int to_fd = open(to.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (to_fd < 0) return ErrnoStatus("open", to, errno);
  UniqueFd close_to(to_fd);
  CAIRN_RETURN_IF_ERROR(CopyDirectory(from_fd, to_fd, from));
  if (fchmod(to_fd, info.st_mode & 07777) != 0) return ErrnoStatus("chmod", to, errno);
  return Status::Ok();
}

Status ChownTree(const std::string& dir, uid_t uid, gid_t gid) {
  if (lchown(dir.c_str(), uid, gid) != 0) return ErrnoStatus("chown", dir, errno);
  return WalkPath(
      dir, /*post_order=*/false,
      [uid, gid](int dir_fd, const std::string& name, const struct stat&, const std::string& path) {
        if (fchownat(dir_fd, name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
          return ErrnoStatus("chown", path, errno);
        }
        return Status::Ok();
      });
}

}  // namespace cairn
