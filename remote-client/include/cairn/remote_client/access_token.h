// cairn/remote_client/access_token.h — a bearer token kept in a file.
//
// The file is looked at (stat) on every call and read again only when its
// modification time, size or inode changed, so a token rotated on disk is
// picked up by the next call without re-reading an unchanged file each
// time. Surrounding whitespace is not part of the token.
//
// Thread-safe.
#ifndef CAIRN_REMOTE_CLIENT_ACCESS_TOKEN_H
#define CAIRN_REMOTE_CLIENT_ACCESS_TOKEN_H

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "cairn/status.h"

namespace cairn::remote_client {

class AccessTokenFile {
 public:
  explicit AccessTokenFile(std::string path) : path_(std::move(path)) {}

  // The current token; UNAUTHENTICATED naming the file when it cannot be
  // read or is empty.
  StatusOr<std::string> Token();

 private:
  std::string path_;
  std::mutex mutex_;
  bool cached_ = false;
  int64_t mtime_ns_ = 0;
  int64_t size_ = 0;
  ino_t inode_ = 0;
  std::string token_;
};

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_ACCESS_TOKEN_H
