// upload_store.h — resumable uploads (ByteStream Write) under uploads/.
//
// An upload is the file uploads/<upload id> holding the bytes received so
// far; its size is the committed size. Nothing of it is held in memory:
// each chunk is written where it belongs and hashed as it arrives, so
// finishing needs no second pass over the file (the hash state, a hundred
// bytes an upload, is kept for the uploads this process wrote from their
// first byte; any other upload is hashed from its file when it finishes). Because the bytes live on
// the store's filesystem, an upload survives the process that received it (a server killed with
// SIGKILL resumes from QueryUpload after its restart). Chunks are not
// fsync-ed one by one: after a machine crash an upload may be shorter than
// reported, or fail verification when finished, but it never becomes a
// damaged object.
//
// Write appends at `offset`, which must equal the committed size
// (INVALID_ARGUMENT naming both otherwise). Finishing checks the size and
// SHA-256 against the expected digest: a mismatch is INVALID_ARGUMENT and
// the upload is discarded; a match moves the file into objects/ the way
// every write ends (ObjectStore::AdoptFile: complete and verified or not at
// all, counted against the quota). A blob already in the store completes
// any call at once with its full size, and drops what was uploaded of it.
//
// Upload ids are chosen by the caller and must be safe single file names:
// 1 to 128 characters from [A-Za-z0-9._-], not starting with '.'
// (INVALID_ARGUMENT otherwise). Writes to one upload are serialised with an
// flock on its file, so several threads and processes may share a store.
// Open removes uploads untouched for more than kAbandonedUploadSeconds (a
// day): a client that has not resumed by then never will.
#ifndef CAIRN_CAS_LOCAL_UPLOAD_STORE_H
#define CAIRN_CAS_LOCAL_UPLOAD_STORE_H

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <sys/types.h>

#include "cairn/storage.h"
#include "object_store.h"

namespace cairn::cas_local {

inline constexpr time_t kAbandonedUploadSeconds = 24 * 60 * 60;

class UploadStore {
 public:
  // `root` is the store directory; uploads/ is created under it.
  static StatusOr<std::unique_ptr<UploadStore>> Open(const std::string& root, ObjectStore& objects);

  StatusOr<UploadStatus> Write(const std::string& upload_id, const Digest& expected,
                               uint64_t offset, std::string_view data, bool finish);
  StatusOr<UploadStatus> Query(const std::string& upload_id, const Digest& expected);
  // Forgets an unfinished upload; an unknown one is fine.
  Status Abort(const std::string& upload_id);

 private:
  UploadStore(ObjectStore& objects) : objects_(objects) {}
  // The upload's file, created when absent, opened and flock-ed.
  StatusOr<UniqueFd> OpenLocked(const std::string& upload_id, bool create);
  // Verifies the finished upload held by `fd` and moves it into objects/;
  // discards it on a mismatch.
  Status Commit(const std::string& upload_id, int fd, const Digest& expected);
  void Discard(const std::string& upload_id);
  StatusOr<bool> CompleteIfPresent(const std::string& upload_id, const Digest& expected);
  Status RemoveAbandoned();

  // The running hash of an upload whose every byte this process wrote.
  struct RunningHash {
    std::unique_ptr<Sha256> sha256 = std::make_unique<Sha256>();
    uint64_t bytes = 0;
    ino_t inode = 0;  // the upload file hashed: one recreated is another upload
  };
  // Feeds `data`, written at `offset`, to the upload's running hash, or
  // forgets the hash when it does not cover everything before `offset`.
  void HashWritten(const std::string& upload_id, ino_t inode, uint64_t offset,
                   std::string_view data);
  // The finished hash of an upload of `size` bytes, or "" when this
  // process has not hashed all of it.
  std::string TakeHash(const std::string& upload_id, ino_t inode, uint64_t size);
  void ForgetHash(const std::string& upload_id);

  std::string directory_;
  std::mutex hashes_mutex_;
  std::map<std::string, RunningHash> hashes_;
  UniqueFd uploads_fd_;
  ObjectStore& objects_;
};

// INVALID_ARGUMENT unless `upload_id` is a safe single file name (above).
Status ValidateUploadId(const std::string& upload_id);

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_UPLOAD_STORE_H
