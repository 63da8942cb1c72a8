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
// StagedRootCache keeps the `capacity` most recently used SharedRoots,
// keyed by (input root digest, working directory). A root evicted while a
// run still uses it lives until that run ends; the last owner hands its
// directory to the ScratchJanitor. Destroying the cache releases every
// root it holds, so nothing outlives the sandbox.
//
// Thread-safe: Acquire may run concurrently. Two runs missing the same key
// at once each stage a copy; one is kept, the other removed after its run.
//
//   StagedRootCache roots(scratch_dir, "bwrap-", 8, &janitor);
//   CAIRN_ASSIGN_OR_RETURN(auto shared, roots.Acquire(cas, root_digest, "build"));
//   // mount shared->root_dir() read-only at /
#ifndef CAIRN_SANDBOX_COMMON_STAGED_ROOT_CACHE_H
#define CAIRN_SANDBOX_COMMON_STAGED_ROOT_CACHE_H

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "cairn/digest.h"
#include "cairn/sandbox_common/scratch_janitor.h"
#include "cairn/storage.h"

namespace cairn {

// Idle staged roots a local sandbox keeps by default.
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
  std::string container_dir_;  // private (0700), holds root/
  std::string root_dir_;
};

class StagedRootCache {
 public:
  // `scratch_parent` is created when missing; each root gets a private
  // directory named `prefix` + pid + "-root-XXXXXX" in it (see
  // OwnedScratchPrefix). `capacity` 0 keeps
  // nothing (every run stages its own root). `janitor` (optional) must
  // outlive the cache and every SharedRoot it hands out.
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

 private:
  StatusOr<std::shared_ptr<SharedRoot>> Stage(Storage& cas, const Digest& input_root,
                                              const std::string& working_directory);

  const std::string scratch_parent_;
  const std::string prefix_;
  const size_t capacity_;
  ScratchJanitor* const janitor_;
  std::mutex mutex_;
  // Most recently used first.
  std::list<std::pair<std::string, std::shared_ptr<SharedRoot>>> entries_;
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
