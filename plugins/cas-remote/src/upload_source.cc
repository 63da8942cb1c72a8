#include "upload_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cairn/unique_fd.h"
#include "file_reading.h"

namespace cairn::cas_remote {

void UploadSource::AddBytes(const Digest& digest, std::string bytes) {
  blobs_[digest] = Blob{false, std::move(bytes)};
}

void UploadSource::AddFile(const Digest& digest, std::string path) {
  blobs_.emplace(digest, Blob{true, std::move(path)});
}

std::vector<Digest> UploadSource::Digests() const {
  std::vector<Digest> digests;
  digests.reserve(blobs_.size());
  for (const auto& [digest, blob] : blobs_) digests.push_back(digest);
  return digests;
}

StatusOr<std::string> UploadSource::ReadBlob(const Digest& digest, uint64_t offset,
                                             uint64_t limit) {
  auto found = blobs_.find(digest);
  if (found == blobs_.end()) {
    return NotFound("blob " + DigestToString(digest) + " is not among the blobs to upload");
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t length, BlobReadLength(digest, offset, limit));
  const Blob& blob = found->second;
  if (!blob.in_file) return blob.bytes_or_path.substr(offset, length);
  UniqueFd fd(::open(blob.bytes_or_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return ErrnoStatus("open", blob.bytes_or_path, errno);
  CAIRN_ASSIGN_OR_RETURN(std::string data, ReadRange(fd.get(), offset, length, blob.bytes_or_path));
  if (data.size() < length) {
    return DataLoss(blob.bytes_or_path + " shrank after it was hashed (it was " +
                    std::to_string(digest.size_bytes()) + " bytes)");
  }
  return data;
}

}  // namespace cairn::cas_remote
