#include "blob_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <utility>

#include "file_reading.h"

namespace cairn::cas_remote {
namespace {

// The innermost Hold of this thread; each links to the one it nests in.
thread_local BlobCache::Hold* current_hold = nullptr;

Status WriteAll(int fd, const char* data, size_t size, const std::string& what) {
  size_t done = 0;
  while (done < size) {
    ssize_t written = ::write(fd, data + done, size - done);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return ErrnoStatus("write", what, errno);
    done += static_cast<size_t>(written);
  }
  return Status::Ok();
}

// Removes a temporary file unless it was handed on.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string pattern) : path_(std::move(pattern)) {
    fd_ = UniqueFd(::mkstemp(path_.data()));
    if (!fd_.valid()) path_.clear();
  }
  ~TemporaryFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;

  int fd() const { return fd_.get(); }
  const std::string& path() const { return path_; }
  void Release() { path_.clear(); }

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace

BlobCache::Hold::Hold(BlobCache& cache) : cache_(cache), previous_(current_hold) {
  current_hold = this;
}

BlobCache::Hold::~Hold() {
  current_hold = previous_;
  cache_.Unpin(pinned_);
}

StatusOr<std::unique_ptr<BlobCache>> BlobCache::Open(const std::string& path, uint64_t capacity) {
  if (capacity == 0) return InvalidArgument("cas-remote: cache-size must be more than 0 bytes");
  std::unique_ptr<BlobCache> cache(new BlobCache(path, capacity));
  CAIRN_RETURN_IF_ERROR(cache->Initialise());
  return cache;
}

Status BlobCache::Initialise() {
  for (const std::string& directory : {path_, path_ + "/objects", path_ + "/tmp"}) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    if (error) {
      return Status(CodeFromErrno(error.value()), "cas-remote: cannot create the cache directory " +
                                                      directory + ": " + error.message());
    }
  }
  // Leftovers of a process that died while writing.
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path_ + "/tmp", error)) {
    std::filesystem::remove(entry.path(), error);
  }
  struct Found {
    std::string hash;
    uint64_t size;
    struct timespec used;
  };
  std::vector<Found> found;
  for (const auto& shard : std::filesystem::directory_iterator(path_ + "/objects", error)) {
    std::error_code inner;
    for (const auto& object : std::filesystem::directory_iterator(shard.path(), inner)) {
      struct stat info {};
      if (::lstat(object.path().c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
      found.push_back(
          {object.path().filename().string(), static_cast<uint64_t>(info.st_size), info.st_ctim});
    }
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return a.used.tv_sec != b.used.tv_sec ? a.used.tv_sec < b.used.tv_sec
                                          : a.used.tv_nsec < b.used.tv_nsec;
  });
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Found& blob : found) TouchLocked(blob.hash, blob.size);
  EvictLocked();
  return Status::Ok();
}

std::string BlobCache::ObjectPath(const Digest& digest) const {
  return path_ + "/objects/" + digest.hash().substr(0, 2) + "/" + digest.hash();
}

void BlobCache::TouchLocked(const std::string& hash, uint64_t size) {
  auto found = entries_.find(hash);
  if (found == entries_.end()) {
    lru_.push_front(hash);
    entries_[hash] = Entry{size, lru_.begin()};
    total_bytes_ += size;
  } else {
    lru_.splice(lru_.begin(), lru_, found->second.position);
  }
  for (Hold* hold = current_hold; hold != nullptr; hold = hold->previous_) {
    if (&hold->cache_ != this) continue;
    hold->pinned_.push_back(hash);
    ++pins_[hash];
    break;
  }
}

void BlobCache::EvictLocked() {
  auto candidate = lru_.end();
  while (total_bytes_ > capacity_ && candidate != lru_.begin()) {
    --candidate;
    if (pins_.count(*candidate) > 0) continue;
    std::string hash = *candidate;
    std::string path = path_ + "/objects/" + hash.substr(0, 2) + "/" + hash;
    ::unlink(path.c_str());
    total_bytes_ -= entries_[hash].size;
    entries_.erase(hash);
    candidate = lru_.erase(candidate);
  }
}

void BlobCache::Unpin(const std::vector<std::string>& hashes) {
  if (hashes.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const std::string& hash : hashes) {
    auto pin = pins_.find(hash);
    if (pin != pins_.end() && --pin->second == 0) pins_.erase(pin);
  }
  EvictLocked();
}

bool BlobCache::Lookup(const Digest& digest) {
  // The disk, not the index, decides: another process sharing the
  // directory may have removed the blob, or stored it.
  struct stat info {};
  bool on_disk = ::lstat(ObjectPath(digest).c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
                 info.st_size == digest.size_bytes();
  std::lock_guard<std::mutex> lock(mutex_);
  if (!on_disk) {
    ForgetLocked(digest.hash());
    return false;
  }
  TouchLocked(digest.hash(), static_cast<uint64_t>(info.st_size));
  return true;
}

void BlobCache::ForgetLocked(const std::string& hash) {
  auto found = entries_.find(hash);
  if (found == entries_.end()) return;
  total_bytes_ -= found->second.size;
  lru_.erase(found->second.position);
  entries_.erase(found);
}

StatusOr<std::vector<Digest>> BlobCache::FindMissing(const std::vector<Digest>& digests) {
  std::vector<Digest> missing;
  for (const Digest& digest : digests) {
    CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
    if (!Lookup(digest)) missing.push_back(digest);
  }
  return missing;
}

StatusOr<bool> BlobCache::Contains(const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  return Lookup(digest);
}

StatusOr<UniqueFd> BlobCache::OpenBlob(const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  std::string name = "blob " + DigestToString(digest);
  if (!Lookup(digest)) return NotFound(name + " is not in the local cache");
  UniqueFd fd(::open(ObjectPath(digest).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.valid()) return fd;
  int error_number = errno;
  if (error_number != ENOENT) return ErrnoStatus("open", ObjectPath(digest), error_number);
  // Removed by another process meanwhile.
  std::lock_guard<std::mutex> lock(mutex_);
  ForgetLocked(digest.hash());
  return NotFound(name + " is not in the local cache");
}

StatusOr<std::string> BlobCache::ReadBlob(const Digest& digest, uint64_t offset, uint64_t limit) {
  CAIRN_ASSIGN_OR_RETURN(UniqueFd fd, OpenBlob(digest));
  CAIRN_ASSIGN_OR_RETURN(uint64_t length, BlobReadLength(digest, offset, limit));
  CAIRN_ASSIGN_OR_RETURN(std::string data, ReadRange(fd.get(), offset, length, ObjectPath(digest)));
  if (data.size() < length) {
    return DataLoss("blob " + DigestToString(digest) + " is truncated in the cache");
  }
  return data;
}

Status BlobCache::Adopt(const std::string& temporary, const Digest& digest) {
  std::string shard = path_ + "/objects/" + digest.hash().substr(0, 2);
  if (::mkdir(shard.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus("create directory", shard, errno);
  }
  if (::chmod(temporary.c_str(), 0444) != 0) return ErrnoStatus("chmod", temporary, errno);
  // Staged hard links show the object's times: the reproducible ones.
  struct timespec times[2];
  times[0].tv_sec = kReproducibleMtime;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  if (::utimensat(AT_FDCWD, temporary.c_str(), times, 0) != 0) {
    return ErrnoStatus("set times of", temporary, errno);
  }
  if (::rename(temporary.c_str(), ObjectPath(digest).c_str()) != 0) {
    return ErrnoStatus("rename into the cache", temporary, errno);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  TouchLocked(digest.hash(), static_cast<uint64_t>(digest.size_bytes()));
  EvictLocked();
  return Status::Ok();
}

StatusOr<Digest> BlobCache::WriteBlob(std::string_view data,
                                      const std::optional<Digest>& expected) {
  Digest digest = DigestOfBytes(data);
  CAIRN_RETURN_IF_ERROR(CheckExpectedDigest(digest, expected, "the data"));
  if (Lookup(digest)) return digest;
  TemporaryFile file(TemporaryPattern());
  if (file.fd() < 0) return ErrnoStatus("create a temporary file in", path_ + "/tmp", errno);
  CAIRN_RETURN_IF_ERROR(WriteAll(file.fd(), data.data(), data.size(), file.path()));
  CAIRN_RETURN_IF_ERROR(Adopt(file.path(), digest));
  file.Release();
  return digest;
}

StatusOr<Digest> BlobCache::CopyIn(int fd, const std::optional<Digest>& expected,
                                   const std::string& what) {
  TemporaryFile file(TemporaryPattern());
  if (file.fd() < 0) return ErrnoStatus("create a temporary file in", path_ + "/tmp", errno);
  Sha256 hasher;
  std::string buffer(1 << 16, '\0');
  for (;;) {
    ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus("read", what, errno);
    if (got == 0) break;
    hasher.Update(buffer.data(), static_cast<size_t>(got));
    CAIRN_RETURN_IF_ERROR(
        WriteAll(file.fd(), buffer.data(), static_cast<size_t>(got), file.path()));
  }
  uint64_t size = hasher.bytes();
  Digest digest = MakeDigest(hasher.FinishHex(), static_cast<int64_t>(size));
  CAIRN_RETURN_IF_ERROR(CheckExpectedDigest(digest, expected, what));
  if (Lookup(digest)) return digest;
  CAIRN_RETURN_IF_ERROR(Adopt(file.path(), digest));
  file.Release();
  return digest;
}

StatusOr<Digest> BlobCache::WriteBlobFromFd(int fd, const std::optional<Digest>& expected) {
  return CopyIn(fd, expected, "file descriptor " + std::to_string(fd));
}

StatusOr<Digest> BlobCache::WriteBlobFromPath(const std::string& path, bool move_source,
                                              const std::optional<Digest>& expected) {
  struct stat info {};
  CAIRN_ASSIGN_OR_RETURN(UniqueFd fd, OpenRegularFile(path, &info));
  // A file with a single name can be taken as it is; one with other links
  // could still change through them, so it is copied.
  if (move_source && info.st_nlink == 1) {
    CAIRN_ASSIGN_OR_RETURN(Digest digest, DigestOfFd(fd.get()));
    CAIRN_RETURN_IF_ERROR(CheckExpectedDigest(digest, expected, path));
    if (Lookup(digest)) {
      ::unlink(path.c_str());
      return digest;
    }
    Status adopted = Adopt(path, digest);
    if (adopted.ok()) return digest;
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return ErrnoStatus("seek", path, errno);
  }
  CAIRN_ASSIGN_OR_RETURN(Digest digest, CopyIn(fd.get(), expected, path));
  if (move_source) ::unlink(path.c_str());
  return digest;
}

StorageStats BlobCache::Usage() const {
  std::lock_guard<std::mutex> lock(mutex_);
  StorageStats stats;
  stats.object_count = entries_.size();
  stats.total_bytes = total_bytes_;
  stats.quota_bytes = capacity_;
  stats.high_watermark_bytes = capacity_;
  stats.low_watermark_bytes = capacity_;
  return stats;
}

}  // namespace cairn::cas_remote
