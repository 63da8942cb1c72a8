// cairn/merkle.h — REAPI Directory Merkle trees over any Storage.
//
// A tree is a root Directory message in CAS whose DirectoryNodes name child
// Directory messages by digest. Canonical form (what the REAPI requires, and
// what makes the same directory captured twice give the same digest on any
// machine): each of files, directories and symlinks is sorted by name
// (bytewise UTF-8), no name appears twice across the three lists, and every
// name is a single path component.
//
// Everything here works on Directory messages alone through the Storage
// interface, so it runs against any backend (cas-local, a remote CAS through
// the plugin ABI, a fake in a unit test) and never touches file contents or
// the disk. Functions are thread-safe when the Storage is.
//
//   CAIRN_ASSIGN_OR_RETURN(MergeResult merged, MergeTrees(storage, {base, deps, tools}));
//   for (const std::string& path : merged.overlaps) Warn("overlap: " + path);
//   CAIRN_ASSIGN_OR_RETURN(CollectedTree all, CollectTree(storage, merged.root));
//   CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> missing, remote.FindMissing(all.AllDigests()));
#ifndef CAIRN_MERKLE_H
#define CAIRN_MERKLE_H

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/digest.h"
#include "cairn/directory_rules.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn {

// Directory, DirectoryNode, FileNode and SymlinkNode come with
// cairn/directory_rules.h.
using Tree = build::bazel::remote::execution::v2::Tree;

// kMaxTreeDepth, ValidateName and ValidateDirectory (the rules every
// Directory read here is checked against) are in cairn/directory_rules.h.

// Sorts the three lists by name: the canonical order. Does not deduplicate.
void SortDirectory(Directory* directory);

// Reads and parses one Directory message; DATA_LOSS when the blob does not
// parse, and validated by ValidateDirectory (absolute symlinks allowed).
StatusOr<Directory> ReadDirectory(Storage& storage, const Digest& digest,
                                  std::string_view path = "");

struct MergeResult {
  Digest root;
  // Paths ("usr/bin/tool") where a later tree replaced different content of
  // an earlier one (file by file, symlink, or directory, in either
  // direction). Identical files are not overlaps. Sorted.
  std::vector<std::string> overlaps;
};

// Merges trees into one, later roots winning on conflicts, reading and
// writing Directory messages only (subtrees present in one input are reused
// by digest without being read). The merged Directory messages are written
// to `storage`. An empty list gives the empty directory.
StatusOr<MergeResult> MergeTrees(Storage& storage, const std::vector<Digest>& roots);

// Called once per directory occurrence in pre-order; `path` is "" for the
// root, else "a/b". Returning an error stops the walk with that error.
using TreeVisitor = std::function<Status(const std::string& path, const Digest& digest,
                                         const Directory& directory)>;

// Walks every directory of the tree, validating each.
Status WalkTree(Storage& storage, const Digest& root, const TreeVisitor& visitor);

struct CollectedTree {
  // Every distinct Directory message, root first.
  std::vector<std::pair<Digest, Directory>> directories;
  // Every distinct file digest.
  std::vector<Digest> files;

  // The directories' digests and the files' digests together: what a
  // FindMissing of the whole tree asks for.
  std::vector<Digest> AllDigests() const;
};

// Reads each distinct Directory once (shared subtrees are not re-read).
StatusOr<CollectedTree> CollectTree(Storage& storage, const Digest& root);

// The REAPI Tree of a root: its Directory plus every distinct child.
StatusOr<Tree> BuildTreeMessage(Storage& storage, const Digest& root);

}  // namespace cairn

#endif  // CAIRN_MERKLE_H
