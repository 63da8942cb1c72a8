#include "cairn/sandbox_common/tree_walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "cairn/unique_fd.h"

namespace cairn {
namespace {

constexpr size_t kMaxPathInMessages = 240;
constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// The names in the directory open at `dir_fd` (which stays open), read
// whole so that no directory stream stays open while walking below it.
StatusOr<std::vector<std::string>> ListNames(int dir_fd, const std::string& path) {
  int copy = dup(dir_fd);
  if (copy < 0) return ErrnoStatus("dup", ShortenedPath(path), errno);
  DIR* dir = fdopendir(copy);
  if (dir == nullptr) {
    int error = errno;
    close(copy);
    return ErrnoStatus("opendir", ShortenedPath(path), error);
  }
  std::vector<std::string> names;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(dir);
  return names;
}

// One directory on the way down from the root.
struct Level {
  std::string name;     // in its parent ("" for the root)
  struct stat info {};  // as visited
  std::vector<std::string> names;
  size_t next = 0;
  size_t path_length = 0;  // of its parent's path
};

bool SameInode(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace

std::string ShortenedPath(const std::string& path) {
  if (path.size() <= kMaxPathInMessages) return path;
  return "..." + path.substr(path.size() - kMaxPathInMessages);
}

Status WalkTree(const std::string& root, TreeVisitor& visitor) {
  UniqueFd current(open(root.c_str(), kDirectoryFlags));
  if (!current.valid()) return ErrnoStatus("open", ShortenedPath(root), errno);
  std::vector<Level> stack(1);
  if (fstat(current.get(), &stack[0].info) != 0) return ErrnoStatus("stat", root, errno);
  CAIRN_ASSIGN_OR_RETURN(stack[0].names, ListNames(current.get(), root));
  std::string path = root;

  while (true) {
    Level& top = stack.back();
    if (top.next < top.names.size()) {
      std::string name = std::move(top.names[top.next++]);
      size_t parent_length = path.size();
      path += "/" + name;
      struct stat info {};
      if (fstatat(current.get(), name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) return ErrnoStatus("lstat", ShortenedPath(path), errno);
        path.resize(parent_length);
        continue;
      }
      CAIRN_RETURN_IF_ERROR(visitor.Visit(TreeEntry{current.get(), name, info, path}));
      if (!S_ISDIR(info.st_mode)) {
        path.resize(parent_length);
        continue;
      }
      UniqueFd child(openat(current.get(), name.c_str(), kDirectoryFlags));
      // Visited, so Leave is owed: a directory that vanished now is an error.
      if (!child.valid()) return ErrnoStatus("open", ShortenedPath(path), errno);
      Level level;
      if (fstat(child.get(), &level.info) != 0) {
        return ErrnoStatus("stat", ShortenedPath(path), errno);
      }
      if (!SameInode(level.info, info)) {
        return Status(Code::kAborted,
                      ShortenedPath(path) + " was replaced while the tree was walked");
      }
      CAIRN_ASSIGN_OR_RETURN(level.names, ListNames(child.get(), path));
      level.name = std::move(name);
      level.path_length = parent_length;
      current = std::move(child);
      stack.push_back(std::move(level));
      continue;
    }
    if (stack.size() == 1) return Status::Ok();
    // Back up through "..", which must be the directory we came down from.
    Level done = std::move(stack.back());
    stack.pop_back();
    UniqueFd parent(openat(current.get(), "..", kDirectoryFlags));
    if (!parent.valid()) return ErrnoStatus("open the parent of", ShortenedPath(path), errno);
    struct stat parent_info {};
    if (fstat(parent.get(), &parent_info) != 0) {
      return ErrnoStatus("stat the parent of", ShortenedPath(path), errno);
    }
    if (!SameInode(parent_info, stack.back().info)) {
      return Status(Code::kAborted, ShortenedPath(path) + " was moved while the tree was walked");
    }
    CAIRN_RETURN_IF_ERROR(
        visitor.Leave(TreeEntry{parent.get(), done.name, done.info, path}, current.get()));
    path.resize(done.path_length);
    current = std::move(parent);
  }
}

}  // namespace cairn
