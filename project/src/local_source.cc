#include "cairn/project/local_source.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "cairn/merkle.h"
#include "cairn/relative_path.h"
#include "cairn/tree_edit.h"

namespace cairn::project {
namespace {

std::string KindOf(mode_t mode) {
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a file, directory or symlink";
}

StatusOr<std::string> ReadLink(const std::string& path) {
  std::vector<char> target(256);
  for (;;) {
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoStatus("read symlink", path, errno);
    if (static_cast<size_t>(n) < target.size()) return std::string(target.data(), n);
    target.resize(target.size() * 4);
  }
}

// The slow way, for a store without CaptureTree: every file through
// WriteBlobFromPath, the Directory messages bottom-up.
StatusOr<Digest> CaptureByWalking(Storage& storage, const std::string& path,
                                  const std::string& relative) {
  CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(relative));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(path.c_str()), ::closedir);
  if (!dir) return ErrnoStatus("open directory", path, errno);
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  if (errno != 0) return ErrnoStatus("read directory", path, errno);
  dir.reset();
  std::sort(names.begin(), names.end());
  Directory directory;
  for (const std::string& name : names) {
    std::string child = path + "/" + name;
    struct stat st;
    if (::lstat(child.c_str(), &st) != 0) return ErrnoStatus("stat", child, errno);
    if (S_ISREG(st.st_mode)) {
      StatusOr<Digest> digest = storage.WriteBlobFromPath(child);
      if (!digest.ok()) return digest.status().WithContext("importing " + child);
      FileNode* file = directory.add_files();
      file->set_name(name);
      *file->mutable_digest() = *digest;
      file->set_is_executable((st.st_mode & S_IXUSR) != 0);
    } else if (S_ISDIR(st.st_mode)) {
      CAIRN_ASSIGN_OR_RETURN(Digest digest,
                             CaptureByWalking(storage, child, JoinPath(relative, name)));
      DirectoryNode* node = directory.add_directories();
      node->set_name(name);
      *node->mutable_digest() = digest;
    } else if (S_ISLNK(st.st_mode)) {
      CAIRN_ASSIGN_OR_RETURN(std::string target, ReadLink(child));
      SymlinkNode* link = directory.add_symlinks();
      link->set_name(name);
      link->set_target(std::move(target));
    } else {
      return InvalidArgument("cannot import " + child + ": it is " + KindOf(st.st_mode));
    }
  }
  // Names checked as any captured tree's are (UTF-8 aside, which protobuf
  // would refuse on parsing).
  CAIRN_RETURN_IF_ERROR(ValidateDirectory(directory, relative));
  return storage.WriteMessage(directory);
}

StatusOr<Digest> ImportDirectory(Storage& storage, const std::string& path) {
  StatusOr<CapturedTree> captured = storage.CaptureTree(path, CaptureOptions());
  Digest root;
  if (captured.ok()) {
    root = captured->root;
  } else if (captured.status().code() == Code::kUnimplemented) {
    CAIRN_ASSIGN_OR_RETURN(root, CaptureByWalking(storage, path, ""));
  } else {
    return captured.status().WithContext("importing " + path);
  }
  return RelativizeSymlinks(storage, root);
}

// `path` names the file in the tree; `real` is where it is read.
StatusOr<Digest> ImportFile(Storage& storage, const std::string& path, const std::string& real,
                            const struct stat& st) {
  std::string name = path;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  name = name.substr(name.rfind('/') + 1);
  CAIRN_RETURN_IF_ERROR(ValidateName(name));
  StatusOr<Digest> digest = storage.WriteBlobFromPath(real);
  if (!digest.ok()) return digest.status().WithContext("importing " + path);
  Directory directory;
  FileNode* file = directory.add_files();
  file->set_name(name);
  *file->mutable_digest() = *digest;
  file->set_is_executable((st.st_mode & S_IXUSR) != 0);
  return storage.WriteMessage(directory);
}

}  // namespace

StatusOr<Digest> ImportLocalSource(Storage& storage, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("import local source", path, errno);
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
    return InvalidArgument("cannot import " + path + ": it is " + KindOf(st.st_mode));
  }
  // A symlink given as the path is followed once, here: the store reads
  // the file or captures the directory itself, never through a link.
  std::string real = path;
  struct stat link_st;
  if (::lstat(path.c_str(), &link_st) == 0 && S_ISLNK(link_st.st_mode)) {
    std::unique_ptr<char, void (*)(void*)> resolved(::realpath(path.c_str(), nullptr), ::free);
    if (!resolved) return ErrnoStatus("resolve", path, errno);
    real = resolved.get();
  }
  if (S_ISREG(st.st_mode)) return ImportFile(storage, path, real, st);
  return ImportDirectory(storage, real);
}

}  // namespace cairn::project
