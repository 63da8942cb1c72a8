// blob_cache.h — cas-remote's bounded local directory of recent blobs.
//
// Layout (nothing outside this plugin reads it):
//   PATH/objects/ab/abcdef...  one blob per file, named by its SHA-256 (the
//                              first two hex digits are the shard), mode 0444
//   PATH/tmp/                  writes in progress (removed at open)
//
// Bounded: after every insertion the least recently used blobs are removed
// until the cache holds at most `capacity` bytes. "Used" is found present,
// opened or written by this process; the order of blobs already on disk at
// open is their ctime (set when stored or hard-linked; every mtime is
// kReproducibleMtime, which staged hard links show). Removing a blob never
// disturbs a reader: an open descriptor and a hard link keep its bytes.
//
// Pinned: while a Hold is alive on a thread, every blob that thread finds
// present, opens or writes in this cache is kept (the cache may then hold
// more than its capacity), so an operation that downloads a tree and then
// stages it never loses a piece in between. Eviction catches up when the
// Hold ends.
//
// Every blob is verified against its digest before it gets its name; a
// blob is never read back through a name it does not match. Several
// processes may share the directory: each bounds what it knows of, and a
// blob another one removed is simply missing (and fetched again).
//
// Thread-safe. As a Storage it offers the blob operations the remote
// client needs (FindMissing, ReadBlob, WriteBlob, WriteBlobFromPath...).
#ifndef CAIRN_CAS_REMOTE_BLOB_CACHE_H
#define CAIRN_CAS_REMOTE_BLOB_CACHE_H

#include <cstdint>
#include <ctime>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "blob_only_storage.h"
#include "cairn/unique_fd.h"

namespace cairn::cas_remote {

// Every object's mtime, and so every staged file's: 2011-11-11 11:11:11 UTC,
// as in cas-local.
inline constexpr time_t kReproducibleMtime = 1321009871;

class BlobCache : public BlobOnlyStorage {
 public:
  // Creates `path` when absent; INVALID_ARGUMENT for a capacity of 0.
  static StatusOr<std::unique_ptr<BlobCache>> Open(const std::string& path, uint64_t capacity);

  StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& digests) override;
  StatusOr<bool> Contains(const Digest& digest) override;
  StatusOr<std::string> ReadBlob(const Digest& digest, uint64_t offset, uint64_t limit) override;
  StatusOr<Digest> WriteBlob(std::string_view data, const std::optional<Digest>& expected) override;
  StatusOr<Digest> WriteBlobFromFd(int fd, const std::optional<Digest>& expected) override;
  // With `move_source` the file is taken (renamed into the cache when it
  // can be, else copied and removed).
  StatusOr<Digest> WriteBlobFromPath(const std::string& path, bool move_source,
                                     const std::optional<Digest>& expected) override;

  // The blob for reading; NOT_FOUND when the cache lacks it.
  StatusOr<UniqueFd> OpenBlob(const Digest& digest);
  // Where a blob lives (for hard links); valid while it is pinned.
  std::string ObjectPath(const Digest& digest) const;

  // Blobs and bytes held now, and the capacity.
  StorageStats Usage() const;
  const std::string& path() const { return path_; }

  // Pins what the current thread touches in this cache while it lives.
  // Not movable; holds on one thread nest.
  class Hold {
   public:
    explicit Hold(BlobCache& cache);
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    friend class BlobCache;
    BlobCache& cache_;
    Hold* previous_;
    std::vector<std::string> pinned_;
  };

 private:
  struct Entry {
    uint64_t size = 0;
    std::list<std::string>::iterator position;  // in lru_
  };

  BlobCache(std::string path, uint64_t capacity)
      : BlobOnlyStorage("the local blob cache"), path_(std::move(path)), capacity_(capacity) {}
  Status Initialise();
  // Whether the blob is on disk (adopting one another process stored,
  // forgetting one it removed); marks it used and pins it for the
  // thread's Hold.
  bool Lookup(const Digest& digest);
  // Gives a verified temporary file its name and records it.
  Status Adopt(const std::string& temporary, const Digest& digest);
  // Copies `fd` to a temporary file, hashing on the way.
  StatusOr<Digest> CopyIn(int fd, const std::optional<Digest>& expected, const std::string& what);
  // Under mutex_: marks used, pins for the current Hold.
  void TouchLocked(const std::string& hash, uint64_t size);
  void EvictLocked();
  // Drops a blob that is gone from the disk from the index.
  void ForgetLocked(const std::string& hash);
  void Unpin(const std::vector<std::string>& hashes);
  std::string TemporaryPattern() const { return path_ + "/tmp/blob-XXXXXX"; }

  std::string path_;
  uint64_t capacity_;
  mutable std::mutex mutex_;
  std::list<std::string> lru_;  // most recently used first
  std::unordered_map<std::string, Entry> entries_;
  std::unordered_map<std::string, int> pins_;
  uint64_t total_bytes_ = 0;
};

}  // namespace cairn::cas_remote

#endif  // CAIRN_CAS_REMOTE_BLOB_CACHE_H
