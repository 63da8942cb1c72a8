// tree_capture.h — storing a directory on disk as a canonical Merkle tree.
//
// Capture walks the directory (without following symlinks below it),
// imports every regular file into the ObjectStore in one read pass (hash
// while reading; a small file already present costs no write), and writes
// one Directory message per directory, bottom-up. Files are imported on
// `threads` threads, one file per work item, so hashing and I/O overlap
// across cores even when a few large files share one directory.
//
// A file whose inode, size, mode, mtime and ctime are what the previous
// capture of the same directory recorded, and whose object is still in the
// store, is not read again (capture_index.h): an unchanged tree costs one
// stat per entry.
//
// What is recorded (and nothing else, so the digest is the same on every
// machine and equals what any REAPI implementation computes): names sorted
// bytewise, regular files with their executable bit (owner x), symlinks with
// their raw target, empty directories. Owners, hardlinks, xattrs and times
// are not recorded. A socket, FIFO or device, or a name that is not UTF-8
// (protobuf strings must be), is INVALID_ARGUMENT naming the path.
#ifndef CAIRN_CAS_LOCAL_TREE_CAPTURE_H
#define CAIRN_CAS_LOCAL_TREE_CAPTURE_H

#include <functional>
#include <string>

#include "cairn/storage.h"
#include "object_store.h"

namespace cairn::cas_local {

class TreeCapture {
 public:
  // `root` is the store's directory (for its capture index); `cancelled` is
  // polled between files; CANCELLED when it returns true.
  TreeCapture(std::string root, ObjectStore& objects, int threads, std::function<bool()> cancelled)
      : root_(std::move(root)),
        objects_(objects),
        threads_(threads),
        cancelled_(std::move(cancelled)) {}

  StatusOr<CapturedTree> Capture(const std::string& path, const CaptureOptions& options);

 private:
  std::string root_;
  ObjectStore& objects_;
  int threads_;
  std::function<bool()> cancelled_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_TREE_CAPTURE_H
