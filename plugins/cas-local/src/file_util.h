// file_util.h — small POSIX helpers shared by the cas-local sources.
//
// Every function returns a Status naming the path and the system error;
// none follows a symlink unless it says so.
#ifndef CAIRN_CAS_LOCAL_FILE_UTIL_H
#define CAIRN_CAS_LOCAL_FILE_UTIL_H

#include <sys/stat.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "cairn/status.h"
#include "cairn/unique_fd.h"

namespace cairn::cas_local {

// mkdir -p (0755).
Status EnsureDirectory(const std::string& path);

// Opens a directory relative to dir_fd (AT_FDCWD for a plain path).
StatusOr<UniqueFd> OpenDirectory(int dir_fd, const std::string& path, bool follow_symlinks = true);

// Writes everything, retrying short writes and EINTR. `what` names the file.
Status WriteAll(int fd, const char* data, size_t size, const std::string& what);

// One read(2), retrying EINTR; 0 at end of file.
StatusOr<size_t> ReadSome(int fd, char* data, size_t size);

// Reads a whole file relative to dir_fd; NOT_FOUND when absent. With
// `info`, also fstat-s the file read.
StatusOr<std::string> ReadFileAt(int dir_fd, const std::string& path, struct stat* info = nullptr);

// Calls visit(name, d_type) for every entry except "." and "..".
Status ForEachEntry(int dir_fd,
                    const std::function<void(const char* name, unsigned char type)>& visit);

// For a directory of shards (ab/cdef...): calls visit(shard, shard_fd, name)
// for every file of every shard whose name does not start with '.'
// (temporaries of WriteFileAtomically).
Status ForEachEntryInShards(int dir_fd,
                            const std::function<void(const std::string& shard, int shard_fd,
                                                     const std::string& name)>& visit);

// Replaces dir_fd/path atomically and durably with `data`: a temp file in
// the same directory, fsync, rename, fsync of the directory. Creates
// missing parent directories.
Status WriteFileAtomically(int dir_fd, const std::string& path, std::string_view data);

// Copies all of in_fd to out_fd in the kernel (copy_file_range, falling
// back to read/write).
Status CopyFd(int in_fd, int out_fd, const std::string& what);

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_FILE_UTIL_H
