// object_store.h — the blobs of a cas-local store: sharded, immutable files.
//
// An object is the file objects/<first 2 hex>/<other 62 hex> holding exactly
// the bytes whose SHA-256 is its name. Objects are created complete or not
// at all: the bytes go to an anonymous O_TMPFILE (or, where the filesystem
// lacks it, a named file in tmp/) on the same filesystem, are hashed as they
// are written, and the file is linked under its final name only when the
// hash is known and matches what the caller expected. A process killed at
// any point therefore leaves either nothing or the whole object.
//
// Objects are mode 0444 and their mtime is 1321009871 (2011-11-11 11:11:11
// UTC), the mtime of every staged file, so a hardlinked stage needs no
// utimensat per file. Least-recent use is therefore tracked with the other
// two timestamps: LastUse() = max(atime, ctime). A hardlink bumps ctime by
// itself; other uses (reads, copies, a write that finds the object present)
// set atime explicitly, which does not depend on the mount's atime policy.
// The explicit touch is skipped when the object was already touched since
// this process's lease started (lease_manager.h): the garbage collector
// protects exactly those objects, so one touch per object per busy period
// suffices. Contains touches before it answers "present", and fails to
// when a collection has moved the object aside meanwhile (then it answers
// "absent"), which closes the race with a collection in another process
// (garbage_collector.h).
//
// Thread-safe; several processes may share one store (creation is
// link-or-EEXIST; the only overwrite is an atomic rename over a damaged
// object, one of the wrong size that a crash can leave because objects are
// made durable by a batched syncfs, not one fsync each).
#ifndef CAIRN_CAS_LOCAL_OBJECT_STORE_H
#define CAIRN_CAS_LOCAL_OBJECT_STORE_H

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/digest.h"
#include "cairn/status.h"
#include "cairn/unique_fd.h"

namespace cairn::cas_local {

// 2011-11-11 11:11:11 UTC: the mtime of every object and staged file.
inline constexpr time_t kReproducibleMtime = 1321009871;

struct ObjectInfo {
  std::string hash;
  uint64_t size = 0;
  time_t last_use = 0;
};

// max(atime, ctime) in seconds.
time_t LastUse(const struct stat& st);

class ObjectStore {
 public:
  // `root` is the store directory; objects/ and tmp/ are created under it.
  static StatusOr<std::unique_ptr<ObjectStore>> Open(const std::string& root);

  int objects_fd() const { return objects_fd_.get(); }
  int tmp_fd() const { return tmp_fd_.get(); }

  // "ab/cdef..." below objects/.
  static std::string RelativePath(const std::string& hash);
  // "ab/cdef....x": the executable variant (mode 0555) of the object, made
  // and checked by ObjectStager; ForEachObject does not list it.
  static std::string ExecutablePath(const std::string& hash);
  // A fresh name for a temporary in tmp/.
  static std::string UniqueTempName();

  // Present with the digest's size (an object of another size is a
  // truncated or mismatched one and counts as missing). Refreshes the LRU
  // signal when it predates the lease start, or always with `force_touch`.
  StatusOr<bool> Contains(const Digest& digest, bool force_touch = false);

  // Opens an object for reading (and refreshes its LRU signal). NOT_FOUND
  // naming the digest when absent or of another size.
  StatusOr<UniqueFd> OpenObject(const Digest& digest);

  // Stores bytes; INVALID_ARGUMENT naming both digests when `expected` is
  // given and does not match (size or hash).
  StatusOr<Digest> WriteBytes(std::string_view data, const std::optional<Digest>& expected);

  // Stores everything readable from `fd` in one pass (read, hash, write).
  // `size_hint` (the file's size when known, else -1) lets a small file be
  // read whole and skipped without any write when already present.
  StatusOr<Digest> WriteFromFd(int fd, const std::optional<Digest>& expected,
                               int64_t size_hint = -1);

  // Moves the regular file at `path`, open as `fd` and hashing to `digest`,
  // into the store under the digest's name (made read-only, like every
  // object). False, with the file left at `path`, when it cannot be moved
  // (another filesystem) or `path` no longer names the file open as `fd`:
  // the caller then copies from `fd`.
  StatusOr<bool> AdoptFile(int fd, const std::string& path, const Digest& digest);

  // Unlinks an object and its executable variant (absent is fine).
  Status RemoveObject(const std::string& hash);
  // Unlinks the executable variant alone (absent is fine).
  Status RemoveExecutableVariant(const std::string& hash);

  // Visits every object (not in any particular order); an object's size
  // includes its executable variant's, its last use the later of the two.
  Status ForEachObject(const std::function<void(const ObjectInfo&)>& visit) const;

  // Makes every object written so far durable (one syncfs for the batch).
  Status SyncToDisk();

  // Called with the size of every object this process adds, for quota
  // accounting. Set once, before concurrent use.
  void SetAddedCallback(std::function<void(uint64_t)> callback) { on_added_ = std::move(callback); }
  // Reports bytes added beside the objects (an executable variant) to
  // the same callback.
  void CountAdded(uint64_t size) const {
    if (on_added_) on_added_(size);
  }

  // The start of this process's lease (seconds); uses older than it are
  // refreshed. Set once, before concurrent use; without it every use is.
  void SetLeaseStart(const std::atomic<time_t>* lease_start) { lease_start_ = lease_start; }

 private:
  struct TempFile;

  ObjectStore() = default;
  StatusOr<TempFile> CreateTemp();
  // Links a complete temp file under the digest's name. An object already
  // there with the right size is kept (another writer's); a damaged one (of
  // another size, or not a regular file) is replaced.
  Status Commit(TempFile& temp, const Digest& digest);
  // Puts tmp/<temp_name>, complete and verified, under the digest's name:
  // linked when absent, renamed over a damaged object, dropped when an
  // intact one is there. Consumes tmp/<temp_name> in every case.
  Status Install(const std::string& temp_name, const Digest& digest);
  StatusOr<Digest> StreamRest(int fd, Sha256& hasher, TempFile& temp,
                              const std::optional<Digest>& expected);
  // False when the file is gone (a garbage collection took it).
  bool Touch(int dir_fd, const char* path, const struct stat& st, bool force);

  std::string root_;
  UniqueFd objects_fd_;
  UniqueFd tmp_fd_;
  bool anonymous_temp_ = false;  // O_TMPFILE + linkat via /proc/self/fd works here
  std::function<void(uint64_t)> on_added_;
  const std::atomic<time_t>* lease_start_ = nullptr;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_OBJECT_STORE_H
