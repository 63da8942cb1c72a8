// cairn/scheduler/source_trees.h — element sources as trees in the store.
#ifndef CAIRN_SCHEDULER_SOURCE_TREES_H
#define CAIRN_SCHEDULER_SOURCE_TREES_H

#include <map>
#include <mutex>
#include <string>

#include "cairn/digest.h"
#include "cairn/project/project.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::scheduler {

// Source content as trees in the store, each imported once per process.
//
// A local source's tree is also remembered between processes, in
// `memo_directory` (when given), under a fingerprint of what lstat says of
// every entry (path, type, mode, size, inode, mtime, ctime, link target):
// an unchanged directory of 20,000 files is not read and hashed again by
// every `show` and `build`. As git's index does, entries changed within
// the last two seconds make the fingerprint unusable (a file written twice
// in one timestamp tick would otherwise go unnoticed), and a remembered
// tree missing from the store is imported again.
class SourceTrees {
 public:
  explicit SourceTrees(Storage& storage, std::string memo_directory = "")
      : storage_(storage), memo_directory_(std::move(memo_directory)) {}
  // The tree of one source (a local directory or file, a tar archive).
  StatusOr<Digest> Tree(const project::Source& source);
  // What the cache key holds of a source (cairn/project/cache_key.h).
  StatusOr<std::string> Key(const project::Source& source);

 private:
  StatusOr<Digest> LocalTree(const project::Source& source);

  Storage& storage_;
  std::string memo_directory_;
  std::mutex mutex_;
  std::map<std::string, Digest> trees_;  // by kind and path
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_SOURCE_TREES_H
