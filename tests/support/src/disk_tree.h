// disk_tree.h — REAPI Directory trees to and from real directories, over
// any blob accessor. InMemoryStorage's StageTree and CaptureTree.
//
// Deliberately simple: regular files (0644, or 0755 when executable),
// symlinks (targets kept as they are) and directories (0755), nothing
// else; Directory messages are canonical (sorted, cairn/merkle.h), so a
// capture gives the digests every other store gives for the same files.
// Not thread-safe on the same directory; the accessors must be.
#ifndef CAIRN_TESTING_DISK_TREE_H
#define CAIRN_TESTING_DISK_TREE_H

#include <functional>
#include <string>
#include <string_view>

#include "cairn/digest.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::testing {

// Reads one blob (NOT_FOUND when absent); stores one blob.
using BlobReader = std::function<StatusOr<std::string>(const Digest&)>;
using BlobWriter = std::function<Digest(std::string_view)>;

// Materialises the tree `root` into the existing directory `path`.
// INVALID_ARGUMENT for a non-canonical or hostile Directory (bad names,
// deeper than kMaxTreeDepth); FAILED_PRECONDITION naming a missing blob;
// ALREADY_EXISTS when an entry is already on disk.
Status StageDirectoryTree(const BlobReader& read, const Digest& root, const std::string& path);

// Stores every file and Directory below `path`; with `store_tree` also a
// REAPI Tree of it. INVALID_ARGUMENT for a socket, FIFO or device.
StatusOr<CapturedTree> CaptureDirectoryTree(const BlobWriter& write, const std::string& path,
                                            bool store_tree);

// Creates `path` (which must not exist) holding `content`, mode 0644 or 0755.
Status WriteNewFile(const std::string& path, std::string_view content, bool executable);

// Everything readable from `fd`, from its current offset.
StatusOr<std::string> ReadToEnd(int fd, const std::string& what);

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_DISK_TREE_H
