#include "upload_source.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "cairn/unique_fd.h"

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
  uint64_t size = static_cast<uint64_t>(digest.size_bytes());
  if (offset > size) {
    return OutOfRange("offset " + std::to_string(offset) + " is past the end of blob " +
                      DigestToString(digest));
  }
  uint64_t length = size - offset;
  if (limit != 0 && limit < length) length = limit;
  const Blob& blob = found->second;
  if (!blob.in_file) return blob.bytes_or_path.substr(offset, length);
  UniqueFd fd(::open(blob.bytes_or_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return ErrnoStatus("open", blob.bytes_or_path, errno);
  std::string data(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ssize_t got =
        ::pread(fd.get(), data.data() + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("read", blob.bytes_or_path, errno);
    if (got == 0) {
      return DataLoss(blob.bytes_or_path + " shrank after it was hashed (it was " +
                      std::to_string(size) + " bytes)");
    }
    done += static_cast<uint64_t>(got);
  }
  return data;
}

}  // namespace cairn::cas_remote
