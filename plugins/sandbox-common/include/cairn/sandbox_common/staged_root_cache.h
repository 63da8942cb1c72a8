// cairn/sandbox_common/staged_root_cache.h — read-only input roots staged
// once and shared by every run of the same root.
//
// Staging an input root (a hardlink per file, a directory per directory)
// is most of what a short action costs, and a build runs many actions on
// the same root. A SharedRoot is that staged tree, hardlinked into the
// store, plus the mount points every local sandbox needs (/proc, /dev,
// /tmp) and the Command's working directory (an empty mount point for the
// run's private copy). It is never written after Stage() returns: the
// sandboxes mount it read-only, and give each run its own writable working
// directory and /tmp (see staged_root.h), so one run can neither change
// what the next one sees nor reach an object in the store.
//
// StagedRootCache keeps staged roots on disk, shared by every process
// whose sandbox uses the same scratch directory, so a whole `cairn run` of a
// root staged before costs a few system calls instead of a staging. They
// live in `scratch_parent`/`prefix`roots/KEY, KEY the SHA-256 of (input
// root digest, working directory), each holding:
//   root/      the staged tree (regular files without write permission)
//   lease      locked shared (flock) by every run using the root, its mtime
//              the last time one did (LRU)
//   complete   written last: a directory without it is never used
// A root is staged into a private directory named for this process
// (OwnedScratchPrefix), completed, leased, then published with one
// rename(); a process that loses a race for the name removes its copy and
// uses the winner's, and one that dies mid-staging leaves a directory the
// ScratchJanitor removes as a leftover. Published roots are never written.
// At most `capacity` roots are kept: whenever there are more, the least
// recently used are removed, skipping any whose lease is held (locked
// exclusively, without waiting, to be removed), so a root in use is never
// removed under its run; it goes once it is idle and the oldest. Roots are
// hardlinks into the store, so a root whose objects the store's GC removed
// keeps their bytes and stays usable.
//
// Thread-safe: Acquire may run concurrently, in one process or many.
// Acquires of the same key in one process share one SharedRoot while any
// holds it.
//
//   StagedRootCache roots(scratch_dir, "bwrap-", 8, &janitor);
//   CAIRN_ASSIGN_OR_RETURN(auto shared, roots.Acquire(cas, root_digest, "build"));
//   // mount shared->root_dir() read-only at /
#ifndef CAIRN_SANDBOX_COMMON_STAGED_ROOT_CACHE_H
#define CAIRN_SANDBOX_COMMON_STAGED_ROOT_CACHE_H

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "cairn/digest.h"
#include "cairn/sandbox_common/scratch_janitor.h"
#include "cairn/storage.h"
#include "cairn/unique_fd.h"

namespace cairn {

struct StagedRootStore;

// Staged roots a local sandbox keeps on disk by default.
inline constexpr size_t kDefaultStagedRootCacheCapacity = 8;

class SharedRoot {
 public:
  ~SharedRoot();
  SharedRoot(const SharedRoot&) = delete;
  SharedRoot& operator=(const SharedRoot&) = delete;

  // The staged tree, to be mounted read-only at /.
  const std::string& root_dir() const { return root_dir_; }

 private:
  friend class StagedRootCache;
  SharedRoot() = default;

  ScratchJanitor* janitor_ = nullptr;
  // Private roots (capacity 0): removed with the SharedRoot.
  std::string private_dir_;
  std::string root_dir_;
  UniqueFd lease_;  // LOCK_SH held while this SharedRoot lives
  // Published roots: trimmed to capacity once this lease is gone.
  std::shared_ptr<StagedRootStore> store_;
};

class StagedRootCache {
 public:
  // `scratch_parent` is created when missing; roots are staged in a
  // private directory named `prefix` + pid + "-root-XXXXXX" in it (see
  // OwnedScratchPrefix) and published in `prefix` + "roots". `capacity` 0
  // keeps nothing (every run stages its own root, removed after it).
  // `janitor` (optional) must outlive the cache and every SharedRoot it
  // hands out.
  StagedRootCache(std::string scratch_parent, std::string prefix, size_t capacity,
                  ScratchJanitor* janitor);
  StagedRootCache(const StagedRootCache&) = delete;
  StagedRootCache& operator=(const StagedRootCache&) = delete;

  // The shared root for `input_root` with `working_directory` (relative;
  // "" = the root, when only existing output directories are bound over
  // it) as a mount point, staged now unless cached. A root digest
  // missing from the store is FAILED_PRECONDITION naming it.
  StatusOr<std::shared_ptr<const SharedRoot>> Acquire(Storage& cas, const Digest& input_root,
                                                      const std::string& working_directory);

  // Whether the root for (`input_root`, `working_directory`) is published
  // on disk now (it may be evicted before an Acquire).
  bool Holds(const Digest& input_root, const std::string& working_directory) const;

  // Where published roots are kept.
  const std::string& shared_dir() const;
  // How many roots this cache staged itself (not found on disk).
  size_t roots_staged() const { return roots_staged_.load(); }

 private:
  // Stages a root into a new private directory (holding root/), made
  // read-only; returns that directory.
  StatusOr<std::string> StageInto(Storage& cas, const Digest& input_root,
                                  const std::string& working_directory);
  StatusOr<std::shared_ptr<SharedRoot>> AcquireOnDisk(Storage& cas, const Digest& input_root,
                                                      const std::string& working_directory,
                                                      const std::string& key);

  const std::string scratch_parent_;
  const std::string prefix_;
  const size_t capacity_;
  ScratchJanitor* const janitor_;
  std::shared_ptr<StagedRootStore> store_;
  std::atomic<size_t> roots_staged_{0};
  std::mutex mutex_;
  // This process's SharedRoots in use, by key.
  std::map<std::string, std::weak_ptr<SharedRoot>> in_use_;
};

// Stages `input_root` into the existing, empty `root_dir` (hardlinked into
// the store, or copied) and, with `mount_points` (a root that becomes the
// sandbox's "/"), makes /proc, /dev and /tmp directories there for the
// sandboxes' mounts. FAILED_PRECONDITION names a root digest missing from
// the store, or a root holding a non-directory at /proc, /dev or /tmp.
Status StageInputRoot(Storage& cas, const Digest& input_root, const std::string& root_dir,
                      bool hardlinks, bool mount_points = true);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_STAGED_ROOT_CACHE_H
