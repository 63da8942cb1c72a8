#include "object_stager.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "file_util.h"

namespace cairn::cas_local {
namespace {

constexpr size_t kCopyChunkBytes = 1 << 20;

std::string BlobName(const Digest& digest) { return "blob " + DigestToString(digest); }

// Copies in_fd to out_fd (when out_fd >= 0) and returns the SHA-256 of the
// bytes, so a copy is verified for the price of the hash.
StatusOr<Digest> CopyHashing(int in_fd, int out_fd, const std::string& where) {
  thread_local std::vector<char> buffer(kCopyChunkBytes);
  Sha256 hasher;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, ReadSome(in_fd, buffer.data(), buffer.size()));
    if (n == 0) break;
    hasher.Update(buffer.data(), n);
    if (out_fd >= 0) CAIRN_RETURN_IF_ERROR(WriteAll(out_fd, buffer.data(), n, where));
  }
  int64_t size = static_cast<int64_t>(hasher.bytes());
  return MakeDigest(hasher.FinishHex(), size);
}

}  // namespace

Status ObjectStager::Corrupt(const Digest& digest, const std::string& why) {
  CAIRN_RETURN_IF_ERROR(objects_.RemoveObject(digest.hash()));
  return NotFound(BlobName(digest) + " was corrupt in the store (" + why +
                  ") and has been removed");
}

Status ObjectStager::Copy(const Digest& digest, int out_fd, const std::string& where) {
  CAIRN_ASSIGN_OR_RETURN(UniqueFd object, objects_.OpenObject(digest));
  CAIRN_ASSIGN_OR_RETURN(Digest copied, CopyHashing(object.get(), out_fd, where));
  if (copied != digest) return Corrupt(digest, "its bytes hash to " + DigestToString(copied));
  return Status::Ok();
}

Status ObjectStager::CheckLinked(const Digest& digest, bool executable, int dir_fd,
                                 const char* name) {
  struct stat st;
  if (::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("stat the staged", name, errno);
  }
  if (!S_ISREG(st.st_mode) || static_cast<int64_t>(st.st_size) != digest.size_bytes()) {
    // The variant was made from an object of the digest's size: when the
    // object still has it, the variant is what changed.
    struct stat object;
    const std::string path = ObjectStore::RelativePath(digest.hash());
    if (executable &&
        ::fstatat(objects_.objects_fd(), path.c_str(), &object, AT_SYMLINK_NOFOLLOW) == 0 &&
        static_cast<int64_t>(object.st_size) == digest.size_bytes()) {
      return Corrupt(digest, "its executable variant changed size");
    }
    return NotFound(BlobName(digest) + " is not in the store (an object of " +
                    std::to_string(st.st_size) + " bytes has that hash: wrong size or truncated)");
  }
  const mode_t expected_mode = executable ? 0555 : 0444;
  if ((st.st_mode & 07777) != expected_mode || st.st_mtim.tv_sec != kReproducibleMtime ||
      st.st_mtim.tv_nsec != 0) {
    return Corrupt(digest, std::string(executable ? "its executable variant" : "it") +
                               " was modified after it was written");
  }
  if (!verify_) return Status::Ok();
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus("open the staged", name, errno);
  CAIRN_ASSIGN_OR_RETURN(Digest actual, CopyHashing(fd.get(), -1, name));
  if (actual != digest) return Corrupt(digest, "its bytes hash to " + DigestToString(actual));
  return Status::Ok();
}

Status ObjectStager::EnsureExecutableVariant(const Digest& digest) {
  const std::string path = ObjectStore::ExecutablePath(digest.hash());
  struct stat st;
  if (::fstatat(objects_.objects_fd(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    return Status::Ok();
  }
  const std::string temp = ObjectStore::UniqueTempName();
  UniqueFd out(::openat(objects_.tmp_fd(), temp.c_str(),
                        O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0555));
  if (!out.valid()) return ErrnoStatus("create the executable variant of", BlobName(digest), errno);
  Status status = Copy(digest, out.get(), "the executable variant of " + BlobName(digest));
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_NOW;
  times[1].tv_sec = kReproducibleMtime;
  times[1].tv_nsec = 0;
  if (status.ok() && (::fchmod(out.get(), 0555) != 0 || ::futimens(out.get(), times) != 0)) {
    status = ErrnoStatus("prepare the executable variant of", BlobName(digest), errno);
  }
  // Another stager may have linked its variant meanwhile: either is right.
  if (status.ok()) {
    if (::linkat(objects_.tmp_fd(), temp.c_str(), objects_.objects_fd(), path.c_str(), 0) == 0) {
      // A second copy of the bytes: it counts against the quota.
      objects_.CountAdded(static_cast<uint64_t>(digest.size_bytes()));
    } else if (errno != EEXIST) {
      status = ErrnoStatus("link the executable variant of", BlobName(digest), errno);
    }
  }
  ::unlinkat(objects_.tmp_fd(), temp.c_str(), 0);
  return status;
}

Status ObjectStager::Link(const Digest& digest, bool executable, int dir_fd, const char* name,
                          int* error_number) {
  *error_number = 0;
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  std::string path = executable ? ObjectStore::ExecutablePath(digest.hash())
                                : ObjectStore::RelativePath(digest.hash());
  for (int attempt = 0;; ++attempt) {
    if (::linkat(objects_.objects_fd(), path.c_str(), dir_fd, name, 0) == 0) break;
    if (errno == ENOENT && executable && attempt == 0) {
      CAIRN_RETURN_IF_ERROR(EnsureExecutableVariant(digest));
      continue;
    }
    *error_number = errno;
    if (errno == ENOENT) return NotFound(BlobName(digest) + " is not in the store");
    return ErrnoStatus("hardlink " + BlobName(digest) + " to", name, errno);
  }
  Status checked = CheckLinked(digest, executable, dir_fd, name);
  if (!checked.ok()) ::unlinkat(dir_fd, name, 0);
  return checked;
}

}  // namespace cairn::cas_local
