// tree_stage.h — materialising a Merkle tree into a directory.
//
// Stage reads and validates every Directory of the tree before it creates
// anything, so a hostile tree (a name that is empty, ".", "..", or contains
// '/' or NUL; duplicates; unsorted lists) is rejected with INVALID_ARGUMENT
// naming the entry and leaves the target untouched. It then creates the
// directories, then fills them on `threads` threads, then fixes directory
// times bottom-up.
//
// Nothing is ever written outside the target: every operation is relative
// to a directory descriptor opened with O_NOFOLLOW, names are single
// components, and files, links and directories are created exclusively
// (O_EXCL, linkat, symlinkat, mkdirat never follow or replace), so a symlink
// in the tree, or one already in the target, is never followed. An entry
// that already exists in the target is ALREADY_EXISTS naming it.
//
// Files: with StageOptions::hardlinks, files are hard links to the store's
// objects (mode 0444, or 0555 for executables, which link to the object's
// executable variant; read-only use); files on another filesystem are
// copied. Copies are 0644, or 0755 when executable. Every staged file,
// symlink and directory gets mtime 1321009871 (2011-11-11 11:11:11 UTC).
//
// Every file is checked as it is staged (see object_stager.h): a link for
// its size, mode and mtime (and its bytes with `verify`), a copy for its
// bytes. A corrupt object is removed and the stage fails with NOT_FOUND
// naming its digest, as does a file whose digest states another size than
// the object's.
#ifndef CAIRN_CAS_LOCAL_TREE_STAGE_H
#define CAIRN_CAS_LOCAL_TREE_STAGE_H

#include <functional>
#include <string>

#include "cairn/storage.h"
#include "object_stager.h"
#include "object_store.h"

namespace cairn::cas_local {

class TreeStage {
 public:
  // `directories` reads Directory messages (the store itself); `verify`
  // hashes hardlinked files too; `cancelled` is polled between batches.
  TreeStage(Storage& directories, ObjectStore& objects, bool verify, int threads,
            std::function<bool()> cancelled)
      : directories_(directories),
        stager_(objects, verify),
        threads_(threads),
        cancelled_(std::move(cancelled)) {}

  Status Stage(const Digest& root, const std::string& path, const StageOptions& options);

 private:
  Storage& directories_;
  ObjectStager stager_;
  int threads_;
  std::function<bool()> cancelled_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_TREE_STAGE_H
