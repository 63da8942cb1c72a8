// cairn/project/archive.h — tar archives into and out of the store.
//
// ImportTarArchive is the staging half of BuildStream's `tar` source: the
// archive becomes a Directory tree in CAS instead of files on disk.
// WriteTreeAsTar is `bst checkout --tar`: a tree written as a deterministic
// tar stream. Both use libarchive; both are thread-safe when the Storage is.
//
//   CAIRN_ASSIGN_OR_RETURN(Digest source,
//       ImportTarArchive(storage, mirror_file, ref, "*"));  // base-dir default
//   CAIRN_RETURN_IF_ERROR(WriteTreeAsTar(storage, artifact_root, STDOUT_FILENO));
#ifndef CAIRN_PROJECT_ARCHIVE_H
#define CAIRN_PROJECT_ARCHIVE_H

#include <string>

#include "cairn/digest.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::project {

// Lowercase hex SHA-256 of a file's bytes (a tar source's ref).
// NOT_FOUND / PERMISSION_DENIED ... from errno, naming the file.
StatusOr<std::string> Sha256OfFile(const std::string& path);

// Reads the tar archive at `archive_path` (plain, or compressed in any way
// libarchive recognises: gzip, bzip2, xz, lzip, zstd, ...) into `storage`
// and returns the root Directory of what BuildStream's tar source stages:
//
//   - First the archive's SHA-256 must equal `expected_sha256` (hex, any
//     case): INVALID_ARGUMENT naming the archive and both sums otherwise.
//   - `base_dir` chooses the directory whose contents are the result, as
//     the source's `base-dir`: a glob of BuildStream's kind ('*' and '?'
//     never match '/', '**' does, [a-z] and [!a-z] classes) matched against
//     every directory of the archive (listed or implied by a deeper entry);
//     the first match in sorted order wins. So the default "*" is the first
//     top-level directory by name, and files beside it are not staged.
//     "" stages the whole archive. No match: NOT_FOUND naming the pattern.
//   - Entry paths lose leading "./"; an absolute path or a ".." component is
//     INVALID_ARGUMENT naming the entry (BuildStream 1.6 would write outside
//     its staging directory). An entry below a file or a symlink of the
//     archive is INVALID_ARGUMENT too.
//   - A hard link becomes a copy of the file (or symlink) it links to, which
//     must come earlier in the archive; it may lie outside `base_dir`.
//   - Symlink targets are kept as they are, absolute or not.
//   - Of the mode only the owner's executable bit is kept; owners and times
//     are dropped (a REAPI tree has no place for them).
//   - Devices, FIFOs and sockets are INVALID_ARGUMENT naming the entry.
//   - A later entry of the same path replaces an earlier one; two
//     directories of one path are merged.
// Names must be UTF-8 (INVALID_ARGUMENT otherwise). Every file blob of the
// archive is written, including those outside `base_dir`.
StatusOr<Digest> ImportTarArchive(Storage& storage, const std::string& archive_path,
                                  const std::string& expected_sha256, const std::string& base_dir);

// Writes the tree `root` to `fd` as an uncompressed POSIX tar stream (ustar
// headers, with pax extended headers only where ustar cannot hold a name or
// size), as `bst checkout --tar` writes a checkout: entries named "./usr",
// "./usr/bin/", ... (no entry for the root itself) in depth-first order
// with the names of each directory sorted bytewise, every mtime 0. Unlike
// bst, which copies the owner and mode of its checkout, owners are uid/gid
// 0 with no names and modes are 0755 for directories and executables,
// 0644 for other files, 0777 for symlinks: the same tree always gives the
// same bytes. A file with the contents and executable bit of one written
// before it is a hard link to that one, as in bst's tar (its checkout
// hardlinks every copy of a CAS object to the object). The stream ends with the end-of-archive
// blocks padded to 10240 bytes; `fd` is not closed.
Status WriteTreeAsTar(Storage& storage, const Digest& root, int fd);

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_ARCHIVE_H
