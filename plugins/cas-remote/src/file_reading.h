// file_reading.h — how cas-remote reads the files it caches and uploads.
//
// The cache and the store take in a caller's file the same careful way,
// and the cache and an upload source read a range of a file the same way:
// the two steps, written once. Errors name the path and carry the code of
// the errno.
#ifndef CAIRN_CAS_REMOTE_FILE_READING_H
#define CAIRN_CAS_REMOTE_FILE_READING_H

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

#include "cairn/status.h"
#include "cairn/unique_fd.h"

namespace cairn::cas_remote {

// Opens `path` for reading if it is a regular file, and fills `info` with
// its fstat. A symbolic link is never followed (the path names a file the
// caller chose, not wherever a link points): it is INVALID_ARGUMENT, as is
// any file that is not regular.
inline StatusOr<UniqueFd> OpenRegularFile(const std::string& path, struct stat* info) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    int error_number = errno;
    struct stat link {};
    if (error_number == ELOOP && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
      return InvalidArgument(path + " is a symbolic link, not a regular file");
    }
    return ErrnoStatus("open", path, error_number);
  }
  if (::fstat(fd.get(), info) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(info->st_mode)) return InvalidArgument(path + " is not a regular file");
  return fd;
}

// The `length` bytes of `fd` from `offset` on, fewer only where the file
// ends sooner: the caller says what a short file means. `path` names the
// file in errors.
inline StatusOr<std::string> ReadRange(int fd, uint64_t offset, uint64_t length,
                                       const std::string& path) {
  std::string data(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ssize_t got = ::pread(fd, data.data() + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("read", path, errno);
    if (got == 0) break;
    done += static_cast<uint64_t>(got);
  }
  data.resize(done);
  return data;
}

}  // namespace cairn::cas_remote

#endif  // CAIRN_CAS_REMOTE_FILE_READING_H
