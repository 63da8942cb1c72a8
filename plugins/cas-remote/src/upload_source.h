// upload_source.h — blobs about to be uploaded, where they are now.
//
// What CasClient::Upload reads from when the blobs are not in any store
// yet: bytes in memory (a WriteBlob, the Directory messages of a capture)
// or files on disk (the files of a capture, read piece by piece so a large
// file never sits in memory). The digests are the caller's: a file that
// changes after it was hashed is uploaded as it is then, and the server
// refuses it for not matching its digest.
//
// Not thread-safe while being filled; reads are.
#ifndef CAIRN_CAS_REMOTE_UPLOAD_SOURCE_H
#define CAIRN_CAS_REMOTE_UPLOAD_SOURCE_H

#include <map>
#include <string>
#include <vector>

#include "blob_only_storage.h"

namespace cairn::cas_remote {

class UploadSource : public BlobOnlyStorage {
 public:
  UploadSource() : BlobOnlyStorage("an upload source") {}

  void AddBytes(const Digest& digest, std::string bytes);
  void AddFile(const Digest& digest, std::string path);
  // Every digest added.
  std::vector<Digest> Digests() const;

  // NOT_FOUND for a digest never added.
  StatusOr<std::string> ReadBlob(const Digest& digest, uint64_t offset, uint64_t limit) override;

 private:
  struct Blob {
    bool in_file = false;
    std::string bytes_or_path;
  };
  std::map<Digest, Blob> blobs_;
};

}  // namespace cairn::cas_remote

#endif  // CAIRN_CAS_REMOTE_UPLOAD_SOURCE_H
