#include "cairn/blob_stream.h"

#include <string>

namespace cairn {

Status WriteBlobTo(Storage& cas, const Digest& digest, std::ostream& out) {
  uint64_t size = static_cast<uint64_t>(digest.size_bytes());
  for (uint64_t offset = 0; offset < size || offset == 0; offset += kBlobPieceBytes) {
    uint64_t limit = size <= kBlobPieceBytes ? 0 : kBlobPieceBytes;
    StatusOr<std::string> piece = cas.ReadBlob(digest, offset, limit);
    if (!piece.ok()) return piece.status();
    out.write(piece->data(), static_cast<std::streamsize>(piece->size()));
    if (size <= kBlobPieceBytes) break;
  }
  out.flush();
  return Status::Ok();
}

}  // namespace cairn
