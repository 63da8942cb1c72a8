#include "cairn/sandbox_common/file_tree.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "cairn/relative_path.h"
#include "cairn/sandbox_common/tree_walker.h"
#include "cairn/unique_fd.h"

namespace cairn {
namespace {

constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

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

// Copies what it visits below the directory open at `to` (a cursor that
// follows the walk down and back up), so it holds one descriptor on each
// side whatever the depth.
class CopyVisitor : public TreeVisitor {
 public:
  explicit CopyVisitor(UniqueFd to) : to_(std::move(to)) {}

  Status Visit(const TreeEntry& entry) override {
    if (S_ISREG(entry.info.st_mode)) {
      return CopyFile(entry.parent_fd, to_.get(), entry.name, entry.info,
                      ShortenedPath(entry.path));
    }
    if (S_ISLNK(entry.info.st_mode)) {
      return CopySymlink(entry.parent_fd, to_.get(), entry.name, entry.info,
                         ShortenedPath(entry.path));
    }
    if (!S_ISDIR(entry.info.st_mode)) return Status::Ok();
    if (mkdirat(to_.get(), entry.name.c_str(), 0700) != 0) {
      return ErrnoStatus("create a copy of directory", ShortenedPath(entry.path), errno);
    }
    UniqueFd child(openat(to_.get(), entry.name.c_str(), kDirectoryFlags));
    if (!child.valid()) return ErrnoStatus("open the copy of", ShortenedPath(entry.path), errno);
    to_ = std::move(child);
    return Status::Ok();
  }

  Status Leave(const TreeEntry& entry, int) override {
    // Its own permissions last, so a read-only directory is still filled.
    if (fchmod(to_.get(), entry.info.st_mode & 07777) != 0) {
      return ErrnoStatus("chmod", ShortenedPath(entry.path), errno);
    }
    UniqueFd parent(openat(to_.get(), "..", kDirectoryFlags));
    if (!parent.valid()) {
      return ErrnoStatus("open the parent of the copy of", ShortenedPath(entry.path), errno);
    }
    to_ = std::move(parent);
    return Status::Ok();
  }

 private:
  UniqueFd to_;
};

// Removes what it visits: files at once, directories (made writable and
// searchable before the walk enters them) once they are empty.
class RemoveVisitor : public TreeVisitor {
 public:
  Status Visit(const TreeEntry& entry) override {
    if (S_ISDIR(entry.info.st_mode)) {
      if ((entry.info.st_mode & 0700) != 0700)
        fchmodat(entry.parent_fd, entry.name.c_str(), 0700, 0);
      return Status::Ok();
    }
    return Unlink(entry, 0);
  }
  Status Leave(const TreeEntry& entry, int) override { return Unlink(entry, AT_REMOVEDIR); }

 private:
  static Status Unlink(const TreeEntry& entry, int flags) {
    if (unlinkat(entry.parent_fd, entry.name.c_str(), flags) != 0 && errno != ENOENT) {
      return ErrnoStatus("remove", ShortenedPath(entry.path), errno);
    }
    return Status::Ok();
  }
};

class ChownVisitor : public TreeVisitor {
 public:
  ChownVisitor(uid_t uid, gid_t gid) : uid_(uid), gid_(gid) {}
  Status Visit(const TreeEntry& entry) override {
    if (fchownat(entry.parent_fd, entry.name.c_str(), uid_, gid_, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus("chown", ShortenedPath(entry.path), errno);
    }
    return Status::Ok();
  }

 private:
  uid_t uid_;
  gid_t gid_;
};

}  // namespace

Status RemoveTree(const std::string& path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) {
    return errno == ENOENT ? Status::Ok() : ErrnoStatus("lstat", path, errno);
  }
  if (S_ISDIR(info.st_mode)) {
    if ((info.st_mode & 0700) != 0700) chmod(path.c_str(), 0700);
    RemoveVisitor remover;
    CAIRN_RETURN_IF_ERROR(WalkTree(path, remover));
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
  if (mkdir(to.c_str(), 0700) != 0) return ErrnoStatus("mkdir", to, errno);
  UniqueFd to_fd(open(to.c_str(), kDirectoryFlags));
  if (!to_fd.valid()) return ErrnoStatus("open", to, errno);
  UniqueFd cursor(dup(to_fd.get()));
  if (!cursor.valid()) return ErrnoStatus("dup", to, errno);
  CopyVisitor copier(std::move(cursor));
  CAIRN_RETURN_IF_ERROR(WalkTree(from, copier));
  if (fchmod(to_fd.get(), info.st_mode & 07777) != 0) return ErrnoStatus("chmod", to, errno);
  return Status::Ok();
}

Status ChownTree(const std::string& dir, uid_t uid, gid_t gid) {
  if (lchown(dir.c_str(), uid, gid) != 0) return ErrnoStatus("chown", dir, errno);
  ChownVisitor chowner(uid, gid);
  return WalkTree(dir, chowner);
}

}  // namespace cairn
