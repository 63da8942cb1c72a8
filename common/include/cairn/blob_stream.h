// cairn/blob_stream.h — writing a blob of any size to a stream.
//
// Reads the blob in pieces of kBlobPieceBytes, so memory stays bounded
// whatever the blob's size (a command's 1 GiB of stdout, a large file):
//
//   CAIRN_RETURN_IF_ERROR(WriteBlobTo(cas, result.stdout_digest(), std::cout));
//
// A blob no larger than one piece is read in one call, which lets the
// store verify it whole. Errors are the store's (NOT_FOUND for a missing
// blob); bytes already written stay written. Flushes `out` at the end.
#ifndef CAIRN_BLOB_STREAM_H
#define CAIRN_BLOB_STREAM_H

#include <cstdint>
#include <ostream>

#include "cairn/digest.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn {

inline constexpr uint64_t kBlobPieceBytes = uint64_t{4} << 20;  // 4 MiB

Status WriteBlobTo(Storage& cas, const Digest& digest, std::ostream& out);

}  // namespace cairn

#endif  // CAIRN_BLOB_STREAM_H
