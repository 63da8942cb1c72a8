// cairn/tree_edit.h — edits of REAPI Directory Merkle trees: look up, graft,
// list, filter, and the symlink rules BuildStream applies when it stages.
//
// Like cairn/merkle.h, everything here reads and writes Directory messages
// only (never file contents) through any Storage, and writes each Directory
// it creates to that Storage. A subtree an edit does not touch keeps its
// digest and is not read again. Every Directory read is validated
// (ValidateDirectory); paths are "a/b" with "" for the root, in the
// normalized form of cairn/relative_path.h. Thread-safe when the Storage is.
//
//   CAIRN_ASSIGN_OR_RETURN(Digest src, SubtreeAt(storage, source_root, "foo-1.0"));
//   CAIRN_ASSIGN_OR_RETURN(MergeResult staged, GraftTree(storage, base, "src/foo", src));
//   CAIRN_ASSIGN_OR_RETURN(Digest runtime, FilterTree(storage, staged.root,
//       [](const TreeEntry& e) { return e.path.rfind("usr/include/", 0) != 0; }));
#ifndef CAIRN_TREE_EDIT_H
#define CAIRN_TREE_EDIT_H

#include <functional>
#include <string>
#include <vector>

#include "cairn/digest.h"
#include "cairn/merkle.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn {

// The digest of the directory at `path` of the tree `root` ("" is `root`
// itself). Symlinks are not followed. NOT_FOUND naming the path when
// nothing is there or it is not a directory; INVALID_ARGUMENT when `path`
// is not normalized.
StatusOr<Digest> SubtreeAt(Storage& storage, const Digest& root, const std::string& path);

// `root` with `subtree` placed at `path`: missing directories on the way
// are created, and what is already at `path` is merged with `subtree`, the
// subtree winning, exactly as MergeTrees({root, subtree-at-path}). So a
// file or symlink standing where a directory of the path must go is
// replaced (and reported); a symlink on the way is NOT followed (BuildStream
// would stage through it). `overlaps` are paths from the root of `root`.
StatusOr<MergeResult> GraftTree(Storage& storage, const Digest& root, const std::string& path,
                                const Digest& subtree);

// One entry of a tree. `digest` is the file's blob or the directory's
// Directory message; `target` is a symlink's target.
struct TreeEntry {
  enum class Kind { kFile, kDirectory, kSymlink };
  std::string path;  // "usr/bin/tool"
  Kind kind = Kind::kFile;
  bool executable = false;  // files only
  Digest digest;            // files and directories
  std::string target;       // symlinks only
};

// Every entry below `root` (not the root itself), sorted by path bytewise
// ("a-b" before "a/x").
StatusOr<std::vector<TreeEntry>> ListTree(Storage& storage, const Digest& root);

// `root` keeping only the entries `keep` says yes to. `keep` is asked about
// every entry, directories included, outermost first (a directory's entry
// carries its original digest). A directory stays when `keep` says yes to
// it (emptied of what is not kept: how an empty directory is kept) or when
// anything under it stays. Unchanged subtrees keep their digests.
StatusOr<Digest> FilterTree(Storage& storage, const Digest& root,
                            const std::function<bool(const TreeEntry&)>& keep);

// Rewrites every absolute symlink target relative to the link's directory,
// as BuildStream does when it stages (utils._relative_symlink_target):
// "/usr/lib/libz.so.1" in "usr/lib/x/y" becomes "../libz.so.1"; a target
// naming the link's own directory becomes "."; "." and ".." components and
// repeated or trailing '/' of the target are normalized away first, ".."
// stopping at the root (BuildStream lets "/.." climb above its staging
// directory; here "/" is the root of the tree, as in the sandbox). Relative
// targets are kept as they are.
StatusOr<Digest> RelativizeSymlinks(Storage& storage, const Digest& root);

// FAILED_PRECONDITION naming the first symlink (by path) whose target,
// followed from the link's directory inside the tree, leaves the tree:
//   "symlink 'usr/lib/x' -> '../../../etc' resolves outside the root"
// Resolution follows the symlinks of the tree (at most 40, as the kernel)
// with ".." climbing above the root being the way out; an absolute target
// starts at the root, where "/.." stays (the root is the sandbox's "/").
// Components naming nothing in the tree are taken lexically, like Python's
// os.path.realpath; a symlink loop or a file used as a directory is not
// "outside". (BuildStream 1.6 itself lets such a symlink be; it fails only
// when staging a file through it, with "Destination path resolves to a path
// outside of the staging area".)
Status CheckSymlinksStayInside(Storage& storage, const Digest& root);

// BuildStream's own rule, for staging `layer` over `base` (MergeTrees or
// GraftTree at the root): FAILED_PRECONDITION when a directory of `layer`
// stands where `base` has a symlink that, followed as above, leaves the
// tree, naming the path and the target:
//   "staging directory 'lib' goes through the symlink there, -> '../../x',
//    which resolves outside the root"
// bst follows such a symlink when it stages files below it (utils.py,
// _process_list/_ensure_real_directory) and fails with "Destination path
// resolves to a path outside of the staging area" when it leaves. A symlink
// resolving inside is not an error here; note that bst then stages the
// layer's files into the symlink's target, whereas MergeTrees replaces the
// symlink by the layer's directory.
Status CheckStagingThroughSymlinks(Storage& storage, const Digest& base, const Digest& layer);

// `layer` staged over `base` as BuildStream stages artifacts: where a
// directory of the layer meets a symlink of the base that resolves inside
// the root, the directory's content goes where the symlink leads (the
// symlink stays: a usr-merged /bin -> usr/bin keeps working when a later
// element installs into /bin); a missing destination is created. Then the
// two merge as MergeTrees merges them, the layer winning. A symlink that
// resolves outside the root is FAILED_PRECONDITION as in
// CheckStagingThroughSymlinks.
StatusOr<MergeResult> StageLayer(Storage& storage, const Digest& base, const Digest& layer);

}  // namespace cairn

#endif  // CAIRN_TREE_EDIT_H
