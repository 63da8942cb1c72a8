#include "upload_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <vector>

#include "file_util.h"

namespace cairn::cas_local {
namespace {

constexpr size_t kMaxUploadIdLength = 128;
// Running hashes kept at most; past it the oldest-named is dropped (that
// upload is then hashed from its file when it finishes).
constexpr size_t kMaxRunningHashes = 4096;

bool IsUploadIdCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

std::string UploadName(const std::string& upload_id, const Digest& expected) {
  return "upload " + upload_id + " of blob " + DigestToString(expected);
}

}  // namespace

Status ValidateUploadId(const std::string& upload_id) {
  if (upload_id.empty() || upload_id.size() > kMaxUploadIdLength) {
    return InvalidArgument("upload id must have 1 to " + std::to_string(kMaxUploadIdLength) +
                           " characters, not " + std::to_string(upload_id.size()));
  }
  for (char c : upload_id) {
    if (!IsUploadIdCharacter(c)) {
      return InvalidArgument("upload id '" + upload_id +
                             "' may hold only letters, digits, '.', '_' and '-'");
    }
  }
  if (upload_id[0] == '.') {
    return InvalidArgument("upload id '" + upload_id + "' must not start with '.'");
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<UploadStore>> UploadStore::Open(const std::string& root,
                                                         ObjectStore& objects) {
  std::unique_ptr<UploadStore> uploads(new UploadStore(objects));
  uploads->directory_ = root + "/uploads";
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(uploads->directory_));
  CAIRN_ASSIGN_OR_RETURN(uploads->uploads_fd_, OpenDirectory(AT_FDCWD, uploads->directory_));
  CAIRN_RETURN_IF_ERROR(uploads->RemoveAbandoned());
  return uploads;
}

Status UploadStore::RemoveAbandoned() {
  std::vector<std::string> names;
  CAIRN_RETURN_IF_ERROR(ForEachEntry(
      uploads_fd_.get(), [&](const char* name, unsigned char) { names.emplace_back(name); }));
  time_t cutoff = std::time(nullptr) - kAbandonedUploadSeconds;
  for (const std::string& name : names) {
    struct stat st;
    if (::fstatat(uploads_fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISREG(st.st_mode) && st.st_mtime < cutoff) ::unlinkat(uploads_fd_.get(), name.c_str(), 0);
  }
  return Status::Ok();
}

StatusOr<UniqueFd> UploadStore::OpenLocked(const std::string& upload_id, bool create) {
  int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0);
  // A writer that held the lock before us may have finished, discarded or
  // aborted the upload meanwhile: what we locked must still be its file.
  for (int attempt = 0; attempt < 16; ++attempt) {
    UniqueFd fd(::openat(uploads_fd_.get(), upload_id.c_str(), flags, 0644));
    if (!fd.valid()) {
      if (errno == ENOENT && !create) return NotFound("no upload " + upload_id);
      return ErrnoStatus("open", "upload " + upload_id, errno);
    }
    if (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("lock", "upload " + upload_id, errno);
    }
    struct stat held;
    struct stat named;
    if (::fstat(fd.get(), &held) != 0) return ErrnoStatus("stat", "upload " + upload_id, errno);
    if (!S_ISREG(held.st_mode)) {
      return FailedPrecondition("upload " + upload_id + " is not a regular file in " + directory_);
    }
    if (::fstatat(uploads_fd_.get(), upload_id.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
        named.st_dev == held.st_dev && named.st_ino == held.st_ino) {
      return fd;
    }
  }
  return Status(Code::kAborted, "upload " + upload_id + " kept being replaced while it was opened");
}

void UploadStore::Discard(const std::string& upload_id) {
  ForgetHash(upload_id);
  ::unlinkat(uploads_fd_.get(), upload_id.c_str(), 0);
}

void UploadStore::HashWritten(const std::string& upload_id, ino_t inode, uint64_t offset,
                              std::string_view data) {
  std::lock_guard<std::mutex> lock(hashes_mutex_);
  auto found = hashes_.find(upload_id);
  if (found == hashes_.end()) {
    if (offset != 0) return;
    if (hashes_.size() >= kMaxRunningHashes) hashes_.erase(hashes_.begin());
    found = hashes_.emplace(upload_id, RunningHash{}).first;
    found->second.inode = inode;
  }
  if (found->second.bytes != offset || found->second.inode != inode) {
    // Another process wrote part of it: this hash no longer covers the file.
    hashes_.erase(found);
    return;
  }
  found->second.sha256->Update(data);
  found->second.bytes += data.size();
}

std::string UploadStore::TakeHash(const std::string& upload_id, ino_t inode, uint64_t size) {
  std::lock_guard<std::mutex> lock(hashes_mutex_);
  auto found = hashes_.find(upload_id);
  if (found == hashes_.end()) return "";
  bool covers = found->second.bytes == size && found->second.inode == inode;
  std::string hash = covers ? found->second.sha256->FinishHex() : "";
  hashes_.erase(found);
  return hash;
}

void UploadStore::ForgetHash(const std::string& upload_id) {
  std::lock_guard<std::mutex> lock(hashes_mutex_);
  hashes_.erase(upload_id);
}

StatusOr<bool> UploadStore::CompleteIfPresent(const std::string& upload_id,
                                              const Digest& expected) {
  CAIRN_ASSIGN_OR_RETURN(bool present, objects_.Contains(expected));
  if (present) Discard(upload_id);
  return present;
}

StatusOr<UploadStatus> UploadStore::Write(const std::string& upload_id, const Digest& expected,
                                          uint64_t offset, std::string_view data, bool finish) {
  CAIRN_RETURN_IF_ERROR(ValidateUploadId(upload_id));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(expected));
  const uint64_t size = static_cast<uint64_t>(expected.size_bytes());
  CAIRN_ASSIGN_OR_RETURN(bool present, CompleteIfPresent(upload_id, expected));
  if (present) return UploadStatus{size, true};

  CAIRN_ASSIGN_OR_RETURN(UniqueFd fd, OpenLocked(upload_id, /*create=*/true));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    return ErrnoStatus("stat", UploadName(upload_id, expected), errno);
  const uint64_t committed = static_cast<uint64_t>(st.st_size);
  if (offset != committed) {
    return InvalidArgument(UploadName(upload_id, expected) + ": a write at offset " +
                           std::to_string(offset) + ", but " + std::to_string(committed) +
                           " bytes are committed");
  }
  if (committed > size || data.size() > size - committed) {
    return InvalidArgument(UploadName(upload_id, expected) + ": " + std::to_string(data.size()) +
                           " bytes at offset " + std::to_string(offset) + " run past its size " +
                           std::to_string(size));
  }
  if (!data.empty()) {
    Status written =
        ::lseek(fd.get(), static_cast<off_t>(committed), SEEK_SET) < 0
            ? ErrnoStatus("seek", UploadName(upload_id, expected), errno)
            : WriteAll(fd.get(), data.data(), data.size(), UploadName(upload_id, expected));
    if (!written.ok()) {
      // Keep the committed size what it was (a full disk, say): the client
      // resends from there.
      if (::ftruncate(fd.get(), static_cast<off_t>(committed)) != 0) Discard(upload_id);
      ForgetHash(upload_id);
      return written;
    }
  }
  HashWritten(upload_id, st.st_ino, committed, data);
  if (!finish) return UploadStatus{committed + data.size(), false};
  CAIRN_RETURN_IF_ERROR(Commit(upload_id, fd.get(), expected));
  return UploadStatus{size, true};
}

Status UploadStore::Commit(const std::string& upload_id, int fd, const Digest& expected) {
  std::string what = UploadName(upload_id, expected);
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", what, errno);
  std::string hash = TakeHash(upload_id, st.st_ino, static_cast<uint64_t>(st.st_size));
  Digest actual = MakeDigest(hash, st.st_size);
  if (hash.empty()) {
    if (::lseek(fd, 0, SEEK_SET) != 0) return ErrnoStatus("seek", what, errno);
    CAIRN_ASSIGN_OR_RETURN(actual, DigestOfFd(fd));
  }
  if (actual.size_bytes() != expected.size_bytes()) {
    Discard(upload_id);
    return InvalidArgument(what + " finished with " + std::to_string(actual.size_bytes()) +
                           " bytes; the upload is discarded");
  }
  if (actual.hash() != expected.hash()) {
    Discard(upload_id);
    return InvalidArgument(what + ": the bytes hash to " + DigestToString(actual) +
                           "; the upload is discarded");
  }
  CAIRN_ASSIGN_OR_RETURN(bool moved, objects_.AdoptFile(fd, directory_ + "/" + upload_id, actual));
  if (moved) return Status::Ok();
  if (::lseek(fd, 0, SEEK_SET) != 0) return ErrnoStatus("seek", what, errno);
  CAIRN_ASSIGN_OR_RETURN(Digest copied, objects_.WriteFromFd(fd, expected, expected.size_bytes()));
  (void)copied;
  Discard(upload_id);
  return Status::Ok();
}

StatusOr<UploadStatus> UploadStore::Query(const std::string& upload_id, const Digest& expected) {
  CAIRN_RETURN_IF_ERROR(ValidateUploadId(upload_id));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(expected));
  CAIRN_ASSIGN_OR_RETURN(bool present, objects_.Contains(expected));
  if (present) return UploadStatus{static_cast<uint64_t>(expected.size_bytes()), true};
  struct stat st;
  if (::fstatat(uploads_fd_.get(), upload_id.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return UploadStatus{};
    return ErrnoStatus("stat", UploadName(upload_id, expected), errno);
  }
  return UploadStatus{static_cast<uint64_t>(st.st_size), false};
}

Status UploadStore::Abort(const std::string& upload_id) {
  CAIRN_RETURN_IF_ERROR(ValidateUploadId(upload_id));
  StatusOr<UniqueFd> fd = OpenLocked(upload_id, /*create=*/false);
  if (!fd.ok()) return fd.status().code() == Code::kNotFound ? Status::Ok() : fd.status();
  Discard(upload_id);
  return Status::Ok();
}

}  // namespace cairn::cas_local
