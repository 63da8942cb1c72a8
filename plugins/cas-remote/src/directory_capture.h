// directory_capture.h — a directory on disk as a canonical Merkle tree,
// without copying anything.
//
// Walks the directory (never following a symlink below it), hashes every
// regular file where it is, and builds one Directory message per
// directory, bottom-up. The files are noted in `source` by path and the
// Directory messages (and the REAPI Tree, with CaptureOptions::store_tree)
// by bytes, so the caller uploads what the server lacks straight from
// them.
//
// What is recorded is what cas-local records, so a tree has the same digest
// in either store: names sorted bytewise, regular files with their
// executable bit (owner x), symlinks with their raw target, empty
// directories; nothing else. A socket, FIFO or device, or a name that is
// not UTF-8, is INVALID_ARGUMENT naming the path.
#ifndef CAIRN_CAS_REMOTE_DIRECTORY_CAPTURE_H
#define CAIRN_CAS_REMOTE_DIRECTORY_CAPTURE_H

#include <functional>
#include <string>

#include "cairn/storage.h"
#include "upload_source.h"

namespace cairn::cas_remote {

// `cancelled` is polled between entries (CANCELLED when it turns true).
StatusOr<CapturedTree> CaptureDirectory(const std::string& path, const CaptureOptions& options,
                                        const std::function<bool()>& cancelled,
                                        UploadSource* source);

}  // namespace cairn::cas_remote

#endif  // CAIRN_CAS_REMOTE_DIRECTORY_CAPTURE_H
