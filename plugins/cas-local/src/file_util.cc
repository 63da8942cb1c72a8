#include "file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

namespace cairn::cas_local {

Status EnsureDirectory(const std::string& path) {
  if (path.empty()) return InvalidArgument("empty directory path");
  // Usually it exists: one call tells, instead of one per component.
  bool parent_missing = false;
  if (::mkdir(path.c_str(), 0755) != 0) {
    if (errno == ENOENT) {
      parent_missing = true;
    } else if (errno != EEXIST) {
      return ErrnoStatus("create directory", path, errno);
    }
  }
  size_t position = parent_missing ? 0 : std::string::npos;
  while (position != std::string::npos) {
    position = path.find('/', position + 1);
    std::string prefix = path.substr(0, position);
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus("create directory", prefix, errno);
    }
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISDIR(st.st_mode)) return FailedPrecondition(path + " exists and is not a directory");
  return Status::Ok();
}

StatusOr<UniqueFd> OpenDirectory(int dir_fd, const std::string& path, bool follow_symlinks) {
  int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow_symlinks ? 0 : O_NOFOLLOW);
  UniqueFd fd(::openat(dir_fd, path.c_str(), flags));
  if (!fd.valid()) return ErrnoStatus("open directory", path, errno);
  return fd;
}

Status WriteAll(int fd, const char* data, size_t size, const std::string& what) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", what, errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

StatusOr<size_t> ReadSome(int fd, char* data, size_t size) {
  for (;;) {
    ssize_t n = ::read(fd, data, size);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) return ErrnoStatus("read", "fd " + std::to_string(fd), errno);
  }
}

StatusOr<std::string> ReadFileAt(int dir_fd, const std::string& path, struct stat* info) {
  UniqueFd fd(::openat(dir_fd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return NotFound(path + " does not exist");
    return ErrnoStatus("open", path, errno);
  }
  if (info != nullptr && ::fstat(fd.get(), info) != 0) return ErrnoStatus("stat", path, errno);
  std::string data;
  char buffer[65536];
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, ReadSome(fd.get(), buffer, sizeof(buffer)));
    if (n == 0) break;
    data.append(buffer, n);
  }
  return data;
}

Status ForEachEntry(int dir_fd,
                    const std::function<void(const char* name, unsigned char type)>& visit) {
  int own = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (own < 0) return ErrnoStatus("open directory", "fd " + std::to_string(dir_fd), errno);
  DIR* dir = ::fdopendir(own);
  if (dir == nullptr) {
    int error = errno;
    ::close(own);
    return ErrnoStatus("read directory", "fd " + std::to_string(dir_fd), error);
  }
  for (;;) {
    errno = 0;
    struct dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    visit(entry->d_name, entry->d_type);
  }
  int error = errno;
  ::closedir(dir);
  if (error != 0) return ErrnoStatus("read directory", "fd " + std::to_string(dir_fd), error);
  return Status::Ok();
}

Status ForEachEntryInShards(int dir_fd,
                            const std::function<void(const std::string& shard, int shard_fd,
                                                     const std::string& name)>& visit) {
  std::vector<std::string> shards;
  CAIRN_RETURN_IF_ERROR(
      ForEachEntry(dir_fd, [&](const char* name, unsigned char) { shards.emplace_back(name); }));
  for (const std::string& shard : shards) {
    StatusOr<UniqueFd> fd = OpenDirectory(dir_fd, shard, false);
    if (!fd.ok()) continue;
    std::vector<std::string> names;
    CAIRN_RETURN_IF_ERROR(ForEachEntry(fd->get(), [&](const char* name, unsigned char) {
      if (name[0] != '.') names.emplace_back(name);
    }));
    for (const std::string& name : names) visit(shard, fd->get(), name);
  }
  return Status::Ok();
}

Status WriteFileAtomically(int dir_fd, const std::string& path, std::string_view data) {
  static std::atomic<uint64_t> counter{0};
  size_t slash = path.rfind('/');
  std::string parent = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  UniqueFd parent_fd(::openat(dir_fd, parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_fd.valid() && errno == ENOENT) {
    // Create the missing components one by one, relative to dir_fd.
    for (size_t p = parent.find('/');; p = parent.find('/', p + 1)) {
      std::string prefix = parent.substr(0, p);
      if (::mkdirat(dir_fd, prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        return ErrnoStatus("create directory", prefix, errno);
      }
      if (p == std::string::npos) break;
    }
    parent_fd = UniqueFd(::openat(dir_fd, parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  if (!parent_fd.valid()) return ErrnoStatus("open directory", parent, errno);
  std::string temp =
      "." + name + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  UniqueFd fd(::openat(parent_fd.get(), temp.c_str(),
                       O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) return ErrnoStatus("create", path, errno);
  Status status = WriteAll(fd.get(), data.data(), data.size(), path);
  if (status.ok() && ::fsync(fd.get()) != 0) status = ErrnoStatus("fsync", path, errno);
  if (status.ok() &&
      ::renameat(parent_fd.get(), temp.c_str(), parent_fd.get(), name.c_str()) != 0) {
    status = ErrnoStatus("rename into place", path, errno);
  }
  if (!status.ok()) {
    ::unlinkat(parent_fd.get(), temp.c_str(), 0);
    return status;
  }
  if (::fsync(parent_fd.get()) != 0) return ErrnoStatus("fsync directory of", path, errno);
  return Status::Ok();
}

Status CopyFd(int in_fd, int out_fd, const std::string& what) {
  bool kernel_copy = true;
  for (;;) {
    if (kernel_copy) {
      ssize_t n = ::copy_file_range(in_fd, nullptr, out_fd, nullptr, 1 << 30, 0);
      if (n > 0) continue;
      if (n == 0) return Status::Ok();
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
        return ErrnoStatus("copy", what, errno);
      }
      kernel_copy = false;
    }
    char buffer[1 << 16];
    CAIRN_ASSIGN_OR_RETURN(size_t n, ReadSome(in_fd, buffer, sizeof(buffer)));
    if (n == 0) return Status::Ok();
    CAIRN_RETURN_IF_ERROR(WriteAll(out_fd, buffer, n, what));
  }
}

}  // namespace cairn::cas_local
