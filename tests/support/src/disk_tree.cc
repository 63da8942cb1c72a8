#include "disk_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>
#include <vector>

#include "cairn/merkle.h"
#include "cairn/unique_fd.h"

namespace cairn::testing {
namespace {

std::string Join(const std::string& parent, const std::string& name) {
  return parent.empty() ? name : parent + "/" + name;
}

Status TooDeep(const std::string& where) {
  return InvalidArgument("the tree at '" + where + "' nests deeper than " +
                         std::to_string(kMaxTreeDepth) + " directories");
}

StatusOr<std::string> ReadNeeded(const BlobReader& read, const Digest& digest,
                                 const std::string& where) {
  StatusOr<std::string> bytes = read(digest);
  if (bytes.ok() || bytes.status().code() != Code::kNotFound) return bytes;
  return FailedPrecondition("cannot stage '" + where + "': blob " + DigestToString(digest) +
                            " is not in the store");
}

Status StageDirectory(const BlobReader& read, const Digest& digest, const std::string& path,
                      const std::string& where, size_t depth) {
  if (depth > kMaxTreeDepth) return TooDeep(where);
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, ReadNeeded(read, digest, where));
  Directory directory;
  if (!directory.ParseFromString(bytes)) {
    return DataLoss("blob " + DigestToString(digest) + " at '" + where + "' is not a Directory");
  }
  CAIRN_RETURN_IF_ERROR(ValidateDirectory(directory, where));
  for (const FileNode& file : directory.files()) {
    std::string name = Join(where, file.name());
    CAIRN_ASSIGN_OR_RETURN(std::string content, ReadNeeded(read, file.digest(), name));
    CAIRN_RETURN_IF_ERROR(WriteNewFile(path + "/" + file.name(), content, file.is_executable()));
  }
  for (const SymlinkNode& link : directory.symlinks()) {
    std::string target = path + "/" + link.name();
    if (symlink(link.target().c_str(), target.c_str()) != 0) {
      return ErrnoStatus("create symlink", target, errno);
    }
  }
  for (const DirectoryNode& child : directory.directories()) {
    std::string target = path + "/" + child.name();
    if (mkdir(target.c_str(), 0755) != 0) return ErrnoStatus("create directory", target, errno);
    CAIRN_RETURN_IF_ERROR(
        StageDirectory(read, child.digest(), target, Join(where, child.name()), depth + 1));
  }
  return Status::Ok();
}

StatusOr<std::vector<std::string>> SortedNames(const std::string& path) {
  DIR* listing = opendir(path.c_str());
  if (listing == nullptr) return ErrnoStatus("open directory", path, errno);
  std::vector<std::string> names;
  while (dirent* entry = readdir(listing)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(listing);
  std::sort(names.begin(), names.end());
  return names;
}

struct Capture {
  const BlobWriter& write;
  bool store_tree;
  std::vector<std::pair<Digest, Directory>> directories;  // children before parents
};

StatusOr<Digest> CaptureDirectory(Capture& capture, const std::string& path, size_t depth) {
  if (depth > kMaxTreeDepth) return TooDeep(path);
  CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names, SortedNames(path));
  Directory directory;
  for (const std::string& name : names) {
    std::string entry = Join(path, name);
    struct stat info {};
    if (lstat(entry.c_str(), &info) != 0) return ErrnoStatus("stat", entry, errno);
    if (S_ISREG(info.st_mode)) {
      UniqueFd fd(open(entry.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (!fd.valid()) return ErrnoStatus("open", entry, errno);
      CAIRN_ASSIGN_OR_RETURN(std::string content, ReadToEnd(fd.get(), entry));
      FileNode* file = directory.add_files();
      file->set_name(name);
      *file->mutable_digest() = capture.write(content);
      file->set_is_executable((info.st_mode & S_IXUSR) != 0);
    } else if (S_ISDIR(info.st_mode)) {
      DirectoryNode* child = directory.add_directories();
      child->set_name(name);
      CAIRN_ASSIGN_OR_RETURN(*child->mutable_digest(), CaptureDirectory(capture, entry, depth + 1));
    } else if (S_ISLNK(info.st_mode)) {
      std::string target(static_cast<size_t>(info.st_size) + 1, '\0');
      ssize_t length = readlink(entry.c_str(), target.data(), target.size());
      if (length < 0) return ErrnoStatus("read symlink", entry, errno);
      target.resize(static_cast<size_t>(length));
      SymlinkNode* link = directory.add_symlinks();
      link->set_name(name);
      link->set_target(target);
    } else {
      return InvalidArgument("cannot capture " + entry +
                             ": it is not a regular file, directory or symlink");
    }
  }
  Digest digest = capture.write(directory.SerializeAsString());
  if (capture.store_tree) capture.directories.emplace_back(digest, std::move(directory));
  return digest;
}

}  // namespace

Status StageDirectoryTree(const BlobReader& read, const Digest& root, const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return ErrnoStatus("stage into", path, errno);
  if (!S_ISDIR(info.st_mode))
    return FailedPrecondition("cannot stage into " + path + ": not a directory");
  return StageDirectory(read, root, path, "", 0);
}

StatusOr<CapturedTree> CaptureDirectoryTree(const BlobWriter& write, const std::string& path,
                                            bool store_tree) {
  Capture capture{write, store_tree, {}};
  CapturedTree captured;
  CAIRN_ASSIGN_OR_RETURN(captured.root, CaptureDirectory(capture, path, 0));
  if (store_tree) {
    Tree tree;
    *tree.mutable_root() = capture.directories.back().second;
    capture.directories.pop_back();
    std::set<Digest> seen;
    for (auto& [digest, directory] : capture.directories) {
      if (seen.insert(digest).second) *tree.add_children() = std::move(directory);
    }
    captured.tree = write(tree.SerializeAsString());
  }
  return captured;
}

Status WriteNewFile(const std::string& path, std::string_view content, bool executable) {
  mode_t mode = executable ? 0755 : 0644;
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) return ErrnoStatus("create", path, errno);
  size_t done = 0;
  while (done < content.size()) {
    ssize_t written = write(fd.get(), content.data() + done, content.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return ErrnoStatus("write", path, errno);
    done += static_cast<size_t>(written);
  }
  // The umask must not decide whether a file is executable.
  if (fchmod(fd.get(), mode) != 0) return ErrnoStatus("chmod", path, errno);
  return Status::Ok();
}

StatusOr<std::string> ReadToEnd(int fd, const std::string& what) {
  std::string content;
  char buffer[1 << 16];
  for (;;) {
    ssize_t got = read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("read", what, errno);
    if (got == 0) return content;
    content.append(buffer, static_cast<size_t>(got));
  }
}

}  // namespace cairn::testing
