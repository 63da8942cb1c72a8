// capture_index.h — what the last capture of a directory found, so that a
// file unchanged since is not read and hashed again (git's index does the
// same for `git status`).
//
// For every regular file of a captured directory it records the device and
// inode, size, mtime and ctime (nanoseconds), executable bit and digest, in
// capture-index/<SHA-256 of the directory's real path> in the store. A file
// whose stat still shows all of these gets its recorded digest back. The
// ctime moves with every write, chmod, rename or link, and no user can set
// it back, so a changed file always misses. Timestamps are coarse (a write
// in the same clock tick as the capture keeps them), so a file changed less
// than a second before the capture started is not recorded: it is hashed
// again next time. The caller reuses a digest only while its object is in the
// store.
//
// The index is a cache: one that is absent, unreadable or malformed is
// empty, and concurrent captures of one directory may replace each other's
// index (every version is correct). Find is thread-safe; Load and Save are
// not to be called concurrently with it.
#ifndef CAIRN_CAS_LOCAL_CAPTURE_INDEX_H
#define CAIRN_CAS_LOCAL_CAPTURE_INDEX_H

#include <sys/stat.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <unordered_map>
#include <vector>

#include "cairn/digest.h"
#include "cairn/status.h"

namespace cairn::cas_local {

class CaptureIndex {
 public:
  // The index of the directory at `path` in the store at `root` (empty when
  // there is none, or `path` cannot be resolved).
  static CaptureIndex Load(const std::string& root, const std::string& path);

  // The digest recorded for a file with this stat, or nullptr.
  const Digest* Find(const struct stat& st) const;

  // Records one captured file (its stat when it was read, and its digest).
  void Add(const struct stat& st, const Digest& digest);

  // Writes the files added since Load (and only those) as the index;
  // `started` is when the capture began (CLOCK_REALTIME).
  Status Save(const struct timespec& started);

 private:
  struct Entry {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    uint32_t mode = 0;
    Digest digest;
  };
  struct Key {
    uint64_t device;
    uint64_t inode;
    bool operator==(const Key& other) const {
      return device == other.device && inode == other.inode;
    }
  };
  struct KeyHash {
    size_t operator()(const Key& key) const { return key.inode * 1000003u ^ key.device; }
  };

  std::string file_;  // empty: not saved
  std::unordered_map<Key, Entry, KeyHash> loaded_;
  std::vector<std::pair<Key, Entry>> added_;
  // The file as loaded: a capture that changed nothing does not rewrite
  // (and sync) it.
  std::string loaded_text_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_CAPTURE_INDEX_H
