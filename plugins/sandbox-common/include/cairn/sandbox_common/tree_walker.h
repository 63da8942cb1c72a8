// cairn/sandbox_common/tree_walker.h — an iterative walk over a directory
// tree that a sandboxed command may have written.
//
// A command controls the shape of what it writes: a chain of 50,000 nested
// directories must not exhaust the host's stack or its descriptors. So
// WalkTree() keeps an explicit stack instead of recursing, and holds one
// descriptor for the directory it is in (plus two while listing one): it
// reads a directory's names whole, then moves down with openat() and back
// up with openat("..") — checking that ".." is the directory it came from
// (same device and inode), so a tree changed during the walk is an error,
// never a walk somewhere else. Memory grows with the depth and with the
// names still to visit along the current path, not with the tree's size.
// Symbolic links are never followed.
//
//   class Counter : public TreeVisitor {
//     Status Visit(const TreeEntry& entry) override { ++count; return Status::Ok(); }
//   };
//   Counter counter;
//   CAIRN_RETURN_IF_ERROR(WalkTree("/scratch/run", counter));
//
// Errors: a visitor's Status ends the walk and is returned as is; failing
// system calls are ErrnoStatus values naming the path (shortened from the
// front when very long). Entries that vanish during the walk are skipped.
// Not thread-safe for one visitor; walks of distinct trees may run
// concurrently.
#ifndef CAIRN_SANDBOX_COMMON_TREE_WALKER_H
#define CAIRN_SANDBOX_COMMON_TREE_WALKER_H

#include <sys/stat.h>

#include <string>

#include "cairn/status.h"

namespace cairn {

struct TreeEntry {
  int parent_fd;            // the directory holding the entry, open
  const std::string& name;  // its name there
  const struct stat& info;  // lstat() of the entry before Visit
  const std::string& path;  // for messages only: `root`/relative path
};

class TreeVisitor {
 public:
  virtual ~TreeVisitor() = default;
  // Every entry below the root, a directory before its entries. A
  // directory is opened after this returns, so Visit may make it readable.
  virtual Status Visit(const TreeEntry& entry) = 0;
  // A directory once all of its entries were visited (with Leave called for
  // its subdirectories), `dir_fd` open on it.
  virtual Status Leave(const TreeEntry& entry, int dir_fd) {
    (void)entry;
    (void)dir_fd;
    return Status::Ok();
  }
};

// Walks everything below the directory `root` (not `root` itself).
Status WalkTree(const std::string& root, TreeVisitor& visitor);

// `path` for an error message: at most a few hundred characters, cut at
// the front ("...") when longer.
std::string ShortenedPath(const std::string& path);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_TREE_WALKER_H
