#include "cairn/remote_client/access_token.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cairn::remote_client {

StatusOr<std::string> AccessTokenFile::Token() {
  struct stat info {};
  if (stat(path_.c_str(), &info) != 0) {
    return Status(Code::kUnauthenticated,
                  "access-token file " + path_ + ": " + std::strerror(errno));
  }
  const int64_t mtime_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 +
                           static_cast<int64_t>(info.st_mtim.tv_nsec);
  std::lock_guard<std::mutex> lock(mutex_);
  if (cached_ && mtime_ns == mtime_ns_ && info.st_size == size_ && info.st_ino == inode_) {
    return token_;
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in.is_open()) {
    return Status(Code::kUnauthenticated, "access-token file " + path_ + " cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  const char* space = " \t\r\n";
  size_t first = token.find_first_not_of(space);
  if (first == std::string::npos) {
    return Status(Code::kUnauthenticated, "access-token file " + path_ + " is empty");
  }
  token = token.substr(first, token.find_last_not_of(space) - first + 1);
  cached_ = true;
  mtime_ns_ = mtime_ns;
  size_ = info.st_size;
  inode_ = info.st_ino;
  token_ = token;
  return token_;
}

}  // namespace cairn::remote_client
