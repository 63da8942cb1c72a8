#include "directory_capture.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "cairn/merkle.h"
#include "cairn/unique_fd.h"

namespace cairn::cas_remote {
namespace {

bool IsUtf8(const std::string& text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t length = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xE  ? 3
                    : (lead >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    }
    i += length;
  }
  return true;
}

struct Walk {
  const std::function<bool()>& cancelled;
  UploadSource* source;
};

StatusOr<std::vector<std::string>> SortedNames(int dir_fd, const std::string& path) {
  UniqueFd listing_fd(::dup(dir_fd));
  if (!listing_fd.valid()) return ErrnoStatus("open directory", path, errno);
  DIR* listing = ::fdopendir(listing_fd.Release());
  if (listing == nullptr) return ErrnoStatus("open directory", path, errno);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int error_number = errno;
  ::closedir(listing);
  if (error_number != 0) return ErrnoStatus("list directory", path, error_number);
  std::sort(names.begin(), names.end());
  return names;
}

StatusOr<Directory> CaptureLevel(Walk& walk, int dir_fd, const std::string& path, size_t depth) {
  if (depth > kMaxTreeDepth) {
    return InvalidArgument("cannot capture " + path + ": it nests deeper than " +
                           std::to_string(kMaxTreeDepth) + " directories");
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, SortedNames(dir_fd, path));
  Directory directory;
  for (const std::string& name : names) {
    if (walk.cancelled && walk.cancelled())
      return Cancelled("capturing " + path + " was cancelled");
    std::string entry = path + "/" + name;
    if (!IsUtf8(name))
      return InvalidArgument("cannot capture " + entry + ": its name is not UTF-8");
    struct stat info {};
    if (::fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      return ErrnoStatus("stat", entry, errno);
    }
    if (S_ISREG(info.st_mode)) {
      UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (!fd.valid()) return ErrnoStatus("open", entry, errno);
      CAIRN_ASSIGN_OR_RETURN(Digest digest, DigestOfFd(fd.get()));
      FileNode* file = directory.add_files();
      file->set_name(name);
      *file->mutable_digest() = digest;
      file->set_is_executable((info.st_mode & S_IXUSR) != 0);
      walk.source->AddFile(digest, entry);
    } else if (S_ISDIR(info.st_mode)) {
      UniqueFd child_fd(
          ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child_fd.valid()) return ErrnoStatus("open directory", entry, errno);
      CAIRN_ASSIGN_OR_RETURN(Directory child, CaptureLevel(walk, child_fd.get(), entry, depth + 1));
      std::string bytes = child.SerializeAsString();
      Digest digest = DigestOfBytes(bytes);
      DirectoryNode* node = directory.add_directories();
      node->set_name(name);
      *node->mutable_digest() = digest;
      walk.source->AddBytes(digest, std::move(bytes));
    } else if (S_ISLNK(info.st_mode)) {
      std::string target(static_cast<size_t>(info.st_size) + 1, '\0');
      ssize_t length = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (length < 0) return ErrnoStatus("read symlink", entry, errno);
      target.resize(static_cast<size_t>(length));
      if (!IsUtf8(target)) {
        return InvalidArgument("cannot capture " + entry + ": its target is not UTF-8");
      }
      SymlinkNode* link = directory.add_symlinks();
      link->set_name(name);
      link->set_target(target);
    } else {
      return InvalidArgument("cannot capture " + entry +
                             ": it is not a regular file, directory or symlink");
    }
  }
  return directory;
}

}  // namespace

StatusOr<CapturedTree> CaptureDirectory(const std::string& path, const CaptureOptions& options,
                                        const std::function<bool()>& cancelled,
                                        UploadSource* source) {
  UniqueFd root_fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return ErrnoStatus("open directory", path, errno);
  Walk walk{cancelled, source};
  CAIRN_ASSIGN_OR_RETURN(Directory root, CaptureLevel(walk, root_fd.get(), path, 0));
  std::string bytes = root.SerializeAsString();
  CapturedTree captured;
  captured.root = DigestOfBytes(bytes);
  source->AddBytes(captured.root, std::move(bytes));
  if (options.store_tree) {
    // Built from the Directory messages the source now holds.
    CAIRN_ASSIGN_OR_RETURN(Tree tree, BuildTreeMessage(*source, captured.root));
    std::string tree_bytes = tree.SerializeAsString();
    captured.tree = DigestOfBytes(tree_bytes);
    source->AddBytes(*captured.tree, std::move(tree_bytes));
  }
  return captured;
}

}  // namespace cairn::cas_remote
