// cache_stage.h — materialising a tree whose blobs are in the local cache.
//
// The caller downloads the tree into the cache first (and holds it there
// with a BlobCache::Hold). Staging then reads and validates every
// Directory before it creates anything (a hostile name, an unsorted list
// or a tree nested too deep is INVALID_ARGUMENT naming the place, and
// leaves the target untouched), and creates entries only relative to
// directory descriptors opened with O_NOFOLLOW, exclusively: a symlink in
// the tree or already in the target is never followed, and an entry that
// already exists is ALREADY_EXISTS naming it.
//
// As cas-local does: with StageOptions::hardlinks, non-executable files
// are hard links to the cache's objects (0444, read-only use; a cache on
// another filesystem means copies); executables and every other file are
// copies, 0755 or 0644. Every staged file, symlink and directory gets mtime
// kReproducibleMtime (2011-11-11 11:11:11 UTC).
#ifndef CAIRN_CAS_REMOTE_CACHE_STAGE_H
#define CAIRN_CAS_REMOTE_CACHE_STAGE_H

#include <functional>
#include <string>

#include "blob_cache.h"
#include "cairn/storage.h"

namespace cairn::cas_remote {

// Brings a file's blob back into the cache when another process sharing
// it removed the blob after the download.
using Refetch = std::function<Status(const Digest&)>;

// `path` must be an existing directory. `cancelled` is polled between
// entries.
Status StageFromCache(BlobCache& cache, const Digest& root, const std::string& path,
                      const StageOptions& options, const Refetch& refetch,
                      const std::function<bool()>& cancelled);

}  // namespace cairn::cas_remote

#endif  // CAIRN_CAS_REMOTE_CACHE_STAGE_H
