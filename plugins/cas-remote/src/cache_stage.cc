#include "cache_stage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "cairn/merkle.h"
#include "cairn/unique_fd.h"

namespace cairn::cas_remote {
namespace {

Status AlreadyExists(const std::string& where) {
  return Status(Code::kAlreadyExists, where + " already exists in the staging target");
}

Status CopyFd(int from, int to, const std::string& where) {
  std::string buffer(1 << 16, '\0');
  for (;;) {
    ssize_t got = ::read(from, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("read the cached blob of", where, errno);
    if (got == 0) return Status::Ok();
    size_t done = 0;
    while (done < static_cast<size_t>(got)) {
      ssize_t written = ::write(to, buffer.data() + done, static_cast<size_t>(got) - done);
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) return ErrnoStatus("write", where, errno);
      done += static_cast<size_t>(written);
    }
  }
}

class Stager {
 public:
  Stager(BlobCache& cache, const std::map<Digest, Directory>& directories,
         const StageOptions& options, const Refetch& refetch,
         const std::function<bool()>& cancelled)
      : cache_(cache),
        directories_(directories),
        link_(options.hardlinks),
        refetch_(refetch),
        cancelled_(cancelled) {
    times_[0].tv_sec = kReproducibleMtime;
    times_[0].tv_nsec = 0;
    times_[1] = times_[0];
  }

  Status StageLevel(int dir_fd, const Digest& digest, const std::string& where) {
    const Directory& directory = directories_.at(digest);
    for (const FileNode& file : directory.files()) {
      if (cancelled_ && cancelled_()) return Cancelled("staging into " + where + " was cancelled");
      CAIRN_RETURN_IF_ERROR(StageFile(dir_fd, file, where + "/" + file.name()));
    }
    for (const SymlinkNode& link : directory.symlinks()) {
      std::string entry = where + "/" + link.name();
      if (::symlinkat(link.target().c_str(), dir_fd, link.name().c_str()) != 0) {
        if (errno == EEXIST) return AlreadyExists(entry);
        return ErrnoStatus("create symlink", entry, errno);
      }
      if (::utimensat(dir_fd, link.name().c_str(), times_, AT_SYMLINK_NOFOLLOW) != 0) {
        return ErrnoStatus("set times of", entry, errno);
      }
    }
    for (const DirectoryNode& child : directory.directories()) {
      std::string entry = where + "/" + child.name();
      if (::mkdirat(dir_fd, child.name().c_str(), 0755) != 0) {
        if (errno == EEXIST) return AlreadyExists(entry);
        return ErrnoStatus("create directory", entry, errno);
      }
      UniqueFd child_fd(
          ::openat(dir_fd, child.name().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child_fd.valid()) return ErrnoStatus("open directory", entry, errno);
      CAIRN_RETURN_IF_ERROR(StageLevel(child_fd.get(), child.digest(), entry));
      // Last: creating its entries changed its times.
      if (::futimens(child_fd.get(), times_) != 0) {
        return ErrnoStatus("set times of", entry, errno);
      }
    }
    return Status::Ok();
  }

 private:
  Status StageFile(int dir_fd, const FileNode& file, const std::string& where) {
    // An object's mode is 0444: only a read-only, non-executable file can
    // share its inode.
    if (link_ && !file.is_executable()) {
      if (::linkat(AT_FDCWD, cache_.ObjectPath(file.digest()).c_str(), dir_fd, file.name().c_str(),
                   0) == 0) {
        return Status::Ok();
      }
      if (errno == EEXIST) return AlreadyExists(where);
      if (errno == EXDEV) {
        link_ = false;  // another filesystem: copy from now on
      } else if (errno != EMLINK && errno != ENOENT && errno != EPERM) {
        return ErrnoStatus("hard-link the cached blob to", where, errno);
      }
    }
    StatusOr<UniqueFd> in = cache_.OpenBlob(file.digest());
    if (!in.ok() && in.status().code() == Code::kNotFound) {
      CAIRN_RETURN_IF_ERROR(refetch_(file.digest()).WithContext("staging " + where));
      in = cache_.OpenBlob(file.digest());
    }
    if (!in.ok()) return in.status().WithContext("staging " + where);
    mode_t mode = file.is_executable() ? 0755 : 0644;
    UniqueFd out(::openat(dir_fd, file.name().c_str(),
                          O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!out.valid()) {
      if (errno == EEXIST) return AlreadyExists(where);
      return ErrnoStatus("create", where, errno);
    }
    Status copied = CopyFd(in->get(), out.get(), where);
    if (copied.ok() && ::fchmod(out.get(), mode) != 0) copied = ErrnoStatus("chmod", where, errno);
    if (copied.ok() && ::futimens(out.get(), times_) != 0) {
      copied = ErrnoStatus("set times of", where, errno);
    }
    if (!copied.ok()) ::unlinkat(dir_fd, file.name().c_str(), 0);
    return copied;
  }

  BlobCache& cache_;
  const std::map<Digest, Directory>& directories_;
  bool link_;
  const Refetch& refetch_;
  const std::function<bool()>& cancelled_;
  struct timespec times_[2];
};

}  // namespace

Status StageFromCache(BlobCache& cache, const Digest& root, const std::string& path,
                      const StageOptions& options, const Refetch& refetch,
                      const std::function<bool()>& cancelled) {
  // Every Directory read and validated before anything is created.
  std::map<Digest, Directory> directories;
  CAIRN_RETURN_IF_ERROR(
      WalkTree(cache, root,
               [&](const std::string&, const Digest& digest, const Directory& directory) -> Status {
                 directories.emplace(digest, directory);
                 return Status::Ok();
               }));
  UniqueFd root_fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return ErrnoStatus("open the staging target", path, errno);
  Stager stager(cache, directories, options, refetch, cancelled);
  CAIRN_RETURN_IF_ERROR(stager.StageLevel(root_fd.get(), root, path));
  struct timespec times[2];
  times[0].tv_sec = kReproducibleMtime;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  if (::futimens(root_fd.get(), times) != 0) return ErrnoStatus("set times of", path, errno);
  return Status::Ok();
}

}  // namespace cairn::cas_remote
