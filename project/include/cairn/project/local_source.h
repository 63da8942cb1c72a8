// cairn/project/local_source.h — a project's files imported into the store,
// as BuildStream's `local` source stages them.
//
//   CAIRN_ASSIGN_OR_RETURN(Digest files, ImportLocalSource(storage, project_dir + "/files"));
//   CAIRN_ASSIGN_OR_RETURN(MergeResult staged, GraftTree(storage, build_root, directory, files));
#ifndef CAIRN_PROJECT_LOCAL_SOURCE_H
#define CAIRN_PROJECT_LOCAL_SOURCE_H

#include <string>

#include "cairn/digest.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::project {

// The Directory tree of what a `local` source with `path` stages (the path
// already resolved against the project directory by the caller):
//   - a directory gives its contents, empty directories included; a file
//     gives a tree holding that one file under its own name (bst stages
//     `basename(path)`). `path` itself may be a symlink to either: it is
//     followed, as bst does.
//   - of the modes only the owner's executable bit is kept (bst restages
//     files 0755 or 0644).
//   - symlinks inside are kept, except that an absolute target is made
//     relative to the link's directory within the imported tree, as bst's
//     copy does (utils._relative_symlink_target with the source's staging
//     directory as the root): "/etc/passwd" in "sub/abs" becomes
//     "../etc/passwd". Relative targets are kept even when they climb out.
//   - sockets, FIFOs and devices are INVALID_ARGUMENT naming the file (bst
//     fails on sockets and FIFOs, and its CAS cannot hold devices).
// NOT_FOUND when `path` does not exist. Directories go through
// Storage::CaptureTree (parallel, and cached by cas-local); a store without
// it (UNIMPLEMENTED) gets each file written with WriteBlobFromPath.
// Thread-safe when the Storage is; `path` must not change meanwhile.
StatusOr<Digest> ImportLocalSource(Storage& storage, const std::string& path);

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_LOCAL_SOURCE_H
