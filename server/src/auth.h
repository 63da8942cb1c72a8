// auth.h — who may do what: bearer tokens and their permissions.
//
// The tokens file (ServerConfig.tokens_file) is YAML:
//
//   tokens:
//     - token: 6f1c...e2          # the bearer token clients send
//       permissions: [read, write, execute]
//       instances: ["", bazel]    # optional: only these instance names
//
// read: FindMissingBlobs, Batch/ByteStream reads, GetTree,
// GetActionResult, Fetch*; write: BatchUpdateBlobs, ByteStream writes,
// UpdateActionResult, Push*; execute: Execute and WaitExecution.
// GetCapabilities needs any valid token.
//
// Clients send `authorization: Bearer TOKEN` metadata. With no tokens file
// everyone may do everything. The file is re-read when its modification
// time, size or inode changes (checked at most once a second); a file that
// became invalid is logged and the last valid tokens stay in force, so a
// bad edit never opens the server or locks everyone out.
//
// Thread-safe.
#ifndef CAIRN_SERVER_AUTH_H
#define CAIRN_SERVER_AUTH_H

#include <sys/types.h>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "cairn/status.h"

namespace cairn::server {

enum class Permission { kRead, kWrite, kExecute };
const char* PermissionName(Permission permission);

struct TokenGrant {
  std::set<Permission> permissions;
  bool all_instances = true;
  std::set<std::string> instances;
};

// Parses a tokens file's text; errors are ConfigErrors at FILE:LINE:COLUMN.
StatusOr<std::map<std::string, TokenGrant>> ParseTokens(const std::string& text,
                                                        const std::string& file);

class Authenticator {
 public:
  // `tokens_file` "" = no authentication.
  explicit Authenticator(std::string tokens_file);

  // Reads the file the first time; an error here stops the server from
  // starting.
  Status Load();

  // `authorization` is the metadata value ("" when absent). OK, or
  // UNAUTHENTICATED (no or unknown token) or PERMISSION_DENIED (the token
  // lacks `permission` for `instance`).
  Status Check(const std::string& authorization, const std::string& instance,
               Permission permission);
  // Only that the token is valid (GetCapabilities).
  Status CheckAny(const std::string& authorization);

  bool enabled() const { return !file_.empty(); }

 private:
  void MaybeReload();
  StatusOr<TokenGrant> Grant(const std::string& authorization);

  std::string file_;
  std::mutex mutex_;
  std::map<std::string, TokenGrant> tokens_;
  std::chrono::steady_clock::time_point next_check_;
  struct FileStamp {
    ino_t inode = 0;
    int64_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const FileStamp& other) const {
      return inode == other.inode && size == other.size && mtime_ns == other.mtime_ns;
    }
  } stamp_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_AUTH_H
