#include "object_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <unordered_set>
#include <vector>

#include "file_util.h"

namespace cairn::cas_local {
namespace {

// Files up to this size are read whole, so a present object costs no write.
constexpr int64_t kSmallFileBytes = 1 << 20;
constexpr size_t kStreamChunkBytes = 1 << 20;

std::vector<char>& ThreadBuffer() {
  thread_local std::vector<char> buffer(kStreamChunkBytes);
  return buffer;
}

std::string ObjectName(const Digest& digest) { return "object " + DigestToString(digest); }

}  // namespace

time_t LastUse(const struct stat& st) {
  return st.st_atim.tv_sec > st.st_ctim.tv_sec ? st.st_atim.tv_sec : st.st_ctim.tv_sec;
}

struct ObjectStore::TempFile {
  UniqueFd fd;
  std::string name;  // empty for an anonymous O_TMPFILE
  int dir_fd = -1;

  TempFile() = default;
  TempFile(TempFile&&) = default;
  ~TempFile() {
    if (!name.empty()) ::unlinkat(dir_fd, name.c_str(), 0);
  }
};

StatusOr<std::unique_ptr<ObjectStore>> ObjectStore::Open(const std::string& root) {
  std::unique_ptr<ObjectStore> store(new ObjectStore());
  store->root_ = root;
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(root + "/objects"));
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(root + "/tmp"));
  CAIRN_ASSIGN_OR_RETURN(store->objects_fd_, OpenDirectory(AT_FDCWD, root + "/objects"));
  CAIRN_ASSIGN_OR_RETURN(store->tmp_fd_, OpenDirectory(AT_FDCWD, root + "/tmp"));

  // Probe once whether anonymous temporaries can be linked here (O_TMPFILE
  // support, /proc mounted); otherwise fall back to named temp files.
  UniqueFd probe(::openat(store->tmp_fd_.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444));
  if (probe.valid()) {
    std::string probe_name =
        "probe-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device()());
    std::string proc = "/proc/self/fd/" + std::to_string(probe.get());
    if (::linkat(AT_FDCWD, proc.c_str(), store->tmp_fd_.get(), probe_name.c_str(),
                 AT_SYMLINK_FOLLOW) == 0) {
      ::unlinkat(store->tmp_fd_.get(), probe_name.c_str(), 0);
      store->anonymous_temp_ = true;
    }
  }
  // The empty blob is always present (and hardlinkable).
  CAIRN_ASSIGN_OR_RETURN(bool has_empty, store->Contains(EmptyDigest()));
  if (!has_empty) CAIRN_RETURN_IF_ERROR(store->WriteBytes("", std::nullopt).status());
  return store;
}

std::string ObjectStore::RelativePath(const std::string& hash) {
  std::string path;
  path.reserve(hash.size() + 1);
  path.append(hash, 0, 2);
  path.push_back('/');
  path.append(hash, 2, std::string::npos);
  return path;
}

std::string ObjectStore::ExecutablePath(const std::string& hash) {
  return RelativePath(hash) + ".x";
}

bool ObjectStore::Touch(int dir_fd, const char* path, const struct stat& st, bool force) {
  // Judged by atime alone, which only a touch sets: a collection that moved
  // the object aside recognises a use by its atime (the move itself sets
  // ctime), so every use it must see has to have touched.
  if (!force && lease_start_ != nullptr && st.st_atim.tv_sec >= lease_start_->load()) return true;
  struct timespec times[2];
  times[0].tv_nsec = UTIME_NOW;
  times[1].tv_nsec = UTIME_OMIT;
  // Best effort: a store shared with a user who does not own the object
  // only loses LRU precision. Gone means a collection took it meanwhile.
  return ::utimensat(dir_fd, path, times, 0) == 0 || errno != ENOENT;
}

StatusOr<bool> ObjectStore::Contains(const Digest& digest, bool force_touch) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  std::string path = RelativePath(digest.hash());
  struct stat st;
  if (::fstatat(objects_fd_.get(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoStatus("stat", ObjectName(digest), errno);
  }
  // Anything but a regular file of the digest's size is damage, which the
  // next write replaces.
  if (!S_ISREG(st.st_mode) || static_cast<int64_t>(st.st_size) != digest.size_bytes()) {
    return false;
  }
  // Touched before it is reported present: a collection that renames it
  // aside after this sees the use and puts it back; one that renamed it
  // before makes the touch fail, and it is reported absent.
  return Touch(objects_fd_.get(), path.c_str(), st, force_touch);
}

StatusOr<UniqueFd> ObjectStore::OpenObject(const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  std::string path = RelativePath(digest.hash());
  UniqueFd fd(::openat(objects_fd_.get(), path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    if (errno == ENOENT) return NotFound("blob " + DigestToString(digest) + " is not in the store");
    if (errno == ELOOP) {
      return NotFound("blob " + DigestToString(digest) +
                      " is not in the store (a symlink has its name)");
    }
    return ErrnoStatus("open", ObjectName(digest), errno);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", ObjectName(digest), errno);
  if (!S_ISREG(st.st_mode)) {
    return NotFound("blob " + DigestToString(digest) +
                    " is not in the store (something other than a file has its name)");
  }
  if (static_cast<int64_t>(st.st_size) != digest.size_bytes()) {
    return NotFound("blob " + DigestToString(digest) + " is not in the store (an object of " +
                    std::to_string(st.st_size) + " bytes has that hash: wrong size or truncated)");
  }
  Touch(objects_fd_.get(), path.c_str(), st, false);
  return fd;
}

StatusOr<ObjectStore::TempFile> ObjectStore::CreateTemp() {
  TempFile temp;
  temp.dir_fd = tmp_fd_.get();
  if (anonymous_temp_) {
    temp.fd = UniqueFd(::openat(tmp_fd_.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0444));
    if (!temp.fd.valid()) return ErrnoStatus("create a temporary object in", root_ + "/tmp", errno);
    return temp;
  }
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random(std::random_device{}());
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = "w-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                       std::to_string(random());
    temp.fd = UniqueFd(::openat(tmp_fd_.get(), name.c_str(),
                                O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444));
    if (temp.fd.valid()) {
      temp.name = name;
      return temp;
    }
    if (errno != EEXIST) return ErrnoStatus("create a temporary object in", root_ + "/tmp", errno);
  }
  return Internal("could not find a free temporary name in " + root_ + "/tmp");
}

std::string ObjectStore::UniqueTempName() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random(std::random_device{}());
  return "r-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
         std::to_string(random());
}

Status ObjectStore::Commit(TempFile& temp, const Digest& digest) {
  struct timespec times[2];
  times[0].tv_nsec = UTIME_NOW;
  times[1].tv_sec = kReproducibleMtime;
  times[1].tv_nsec = 0;
  if (::futimens(temp.fd.get(), times) != 0)
    return ErrnoStatus("set times of", ObjectName(digest), errno);
  std::string path = RelativePath(digest.hash());
  std::string proc = "/proc/self/fd/" + std::to_string(temp.fd.get());
  for (int attempt = 0; attempt < 2; ++attempt) {
    int result =
        temp.name.empty()
            ? ::linkat(AT_FDCWD, proc.c_str(), objects_fd_.get(), path.c_str(), AT_SYMLINK_FOLLOW)
            : ::linkat(tmp_fd_.get(), temp.name.c_str(), objects_fd_.get(), path.c_str(), 0);
    if (result == 0) {
      if (on_added_) on_added_(static_cast<uint64_t>(digest.size_bytes()));
      return Status::Ok();
    }
    if (errno == EEXIST) break;
    if (errno != ENOENT || attempt > 0) return ErrnoStatus("link", ObjectName(digest), errno);
    // First object of its shard.
    if (::mkdirat(objects_fd_.get(), digest.hash().substr(0, 2).c_str(), 0755) != 0 &&
        errno != EEXIST) {
      return ErrnoStatus("create shard for", ObjectName(digest), errno);
    }
  }
  // Something has the final name: usually another writer's copy of the same
  // bytes, but it can be an object a crash left short (objects are not
  // fsynced one by one), which must be replaced or it stays bad forever.
  struct stat existing;
  if (::fstatat(objects_fd_.get(), path.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISREG(existing.st_mode) && existing.st_size == digest.size_bytes()) {
    return Status::Ok();
  }
  std::string name = temp.name;
  if (name.empty()) {
    name = UniqueTempName();
    if (::linkat(AT_FDCWD, proc.c_str(), tmp_fd_.get(), name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      return ErrnoStatus("name a temporary object in", root_ + "/tmp", errno);
    }
  } else {
    temp.name.clear();  // Install consumes it
  }
  return Install(name, digest);
}

Status ObjectStore::Install(const std::string& temp_name, const Digest& digest) {
  const std::string path = RelativePath(digest.hash());
  const char* temp = temp_name.c_str();
  const uint64_t size = static_cast<uint64_t>(digest.size_bytes());
  auto fail = [&](const char* step) {
    int error_number = errno;
    ::unlinkat(tmp_fd_.get(), temp, 0);
    return ErrnoStatus(step, ObjectName(digest), error_number);
  };
  for (int attempt = 0; attempt < 8; ++attempt) {
    struct stat existing;
    if (::fstatat(objects_fd_.get(), path.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) {
      if (S_ISREG(existing.st_mode) && static_cast<uint64_t>(existing.st_size) == size) {
        ::unlinkat(tmp_fd_.get(), temp, 0);  // present: another writer's copy
        return Status::Ok();
      }
      if (S_ISDIR(existing.st_mode)) {
        // Not an object at all; rename() cannot replace a directory.
        if (::unlinkat(objects_fd_.get(), path.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
          return fail("remove the directory in place of");
        }
        continue;
      }
      // Damaged (wrong size, or not a regular file): replace it atomically,
      // so a reader sees the old file or the complete new one.
      if (::renameat(tmp_fd_.get(), temp, objects_fd_.get(), path.c_str()) != 0) {
        return fail("replace the damaged");
      }
      uint64_t old_size = S_ISREG(existing.st_mode) ? static_cast<uint64_t>(existing.st_size) : 0;
      if (on_added_ && size > old_size) on_added_(size - old_size);
      return Status::Ok();
    }
    if (errno != ENOENT) return fail("stat");
    // Absent: link, never rename, so that a writer that raced us in is kept.
    if (::linkat(tmp_fd_.get(), temp, objects_fd_.get(), path.c_str(), 0) == 0) {
      ::unlinkat(tmp_fd_.get(), temp, 0);
      if (on_added_) on_added_(size);
      return Status::Ok();
    }
    if (errno == EEXIST) continue;  // another writer meanwhile: look again
    if (errno != ENOENT) return fail("link");
    if (::mkdirat(objects_fd_.get(), digest.hash().substr(0, 2).c_str(), 0755) != 0 &&
        errno != EEXIST) {
      return fail("create shard for");
    }
  }
  errno = EAGAIN;
  return fail("install (its name kept changing)");
}

StatusOr<bool> ObjectStore::AdoptFile(int fd, const std::string& path, const Digest& digest) {
  struct timespec times[2];
  times[0].tv_nsec = UTIME_NOW;
  times[1].tv_sec = kReproducibleMtime;
  times[1].tv_nsec = 0;
  if (::fchmod(fd, 0444) != 0 || ::futimens(fd, times) != 0) {
    return ErrnoStatus("prepare for the store", path, errno);
  }
  struct stat opened;
  if (::fstat(fd, &opened) != 0) return ErrnoStatus("stat", path, errno);
  std::string temp = UniqueTempName();
  if (::renameat(AT_FDCWD, path.c_str(), tmp_fd_.get(), temp.c_str()) != 0) {
    if (errno == EXDEV) return false;
    return ErrnoStatus("move into the store", path, errno);
  }
  struct stat moved;
  if (::fstatat(tmp_fd_.get(), temp.c_str(), &moved, AT_SYMLINK_NOFOLLOW) != 0 ||
      moved.st_dev != opened.st_dev || moved.st_ino != opened.st_ino) {
    // The path now names another file than the one hashed: put it back and
    // let the caller copy the hashed descriptor instead.
    ::renameat(tmp_fd_.get(), temp.c_str(), AT_FDCWD, path.c_str());
    return false;
  }
  CAIRN_RETURN_IF_ERROR(Install(temp, digest));
  return true;
}

StatusOr<Digest> ObjectStore::WriteBytes(std::string_view data,
                                         const std::optional<Digest>& expected) {
  Digest digest = DigestOfBytes(data);
  CAIRN_RETURN_IF_ERROR(CheckExpectedDigest(digest, expected));
  CAIRN_ASSIGN_OR_RETURN(bool present, Contains(digest));
  if (present) return digest;
  CAIRN_ASSIGN_OR_RETURN(TempFile temp, CreateTemp());
  CAIRN_RETURN_IF_ERROR(WriteAll(temp.fd.get(), data.data(), data.size(), "a temporary object"));
  CAIRN_RETURN_IF_ERROR(Commit(temp, digest));
  return digest;
}

StatusOr<Digest> ObjectStore::WriteFromFd(int fd, const std::optional<Digest>& expected,
                                          int64_t size_hint) {
  std::vector<char>& buffer = ThreadBuffer();
  if (size_hint >= 0 && size_hint <= kSmallFileBytes) {
    // Read whole (one read for most files); the final read of 0 confirms EOF.
    size_t used = 0;
    for (;;) {
      if (used == buffer.size()) buffer.resize(buffer.size() * 2);
      CAIRN_ASSIGN_OR_RETURN(size_t n, ReadSome(fd, buffer.data() + used, buffer.size() - used));
      if (n == 0) break;
      used += n;
      if (used > static_cast<size_t>(kSmallFileBytes) * 4) break;  // grew under us: stream the rest
    }
    if (used <= static_cast<size_t>(kSmallFileBytes) * 4) {
      return WriteBytes(std::string_view(buffer.data(), used), expected);
    }
    // Unusual: the file grew far beyond its size. Continue as a stream.
    Sha256 hasher;
    hasher.Update(buffer.data(), used);
    CAIRN_ASSIGN_OR_RETURN(TempFile temp, CreateTemp());
    CAIRN_RETURN_IF_ERROR(WriteAll(temp.fd.get(), buffer.data(), used, "a temporary object"));
    return StreamRest(fd, hasher, temp, expected);
  }
  Sha256 hasher;
  CAIRN_ASSIGN_OR_RETURN(TempFile temp, CreateTemp());
  return StreamRest(fd, hasher, temp, expected);
}

StatusOr<Digest> ObjectStore::StreamRest(int fd, Sha256& hasher, TempFile& temp,
                                         const std::optional<Digest>& expected) {
  std::vector<char>& buffer = ThreadBuffer();
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(size_t n, ReadSome(fd, buffer.data(), buffer.size()));
    if (n == 0) break;
    hasher.Update(buffer.data(), n);
    CAIRN_RETURN_IF_ERROR(WriteAll(temp.fd.get(), buffer.data(), n, "a temporary object"));
  }
  int64_t size = static_cast<int64_t>(hasher.bytes());
  Digest digest = MakeDigest(hasher.FinishHex(), size);
  CAIRN_RETURN_IF_ERROR(CheckExpectedDigest(digest, expected));
  CAIRN_ASSIGN_OR_RETURN(bool present, Contains(digest));
  if (present) return digest;  // the temp file vanishes with its descriptor
  CAIRN_RETURN_IF_ERROR(Commit(temp, digest));
  return digest;
}

Status ObjectStore::RemoveObject(const std::string& hash) {
  if (::unlinkat(objects_fd_.get(), RelativePath(hash).c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoStatus("remove object", hash, errno);
  }
  return RemoveExecutableVariant(hash);
}

Status ObjectStore::RemoveExecutableVariant(const std::string& hash) {
  if (::unlinkat(objects_fd_.get(), ExecutablePath(hash).c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoStatus("remove the executable variant of object", hash, errno);
  }
  return Status::Ok();
}

Status ObjectStore::ForEachObject(const std::function<void(const ObjectInfo&)>& visit) const {
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    char shard[3] = {kHex[i >> 4], kHex[i & 15], 0};
    UniqueFd dir_fd(::openat(objects_fd_.get(), shard, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd.valid()) {
      if (errno == ENOENT) continue;
      return ErrnoStatus("open shard", root_ + "/objects/" + shard, errno);
    }
    std::vector<std::string> names;
    std::unordered_set<std::string> variants;  // objects with an executable variant
    CAIRN_RETURN_IF_ERROR(ForEachEntry(dir_fd.get(), [&](const char* name, unsigned char) {
      size_t length = std::strlen(name);
      if (length == 62) names.emplace_back(name);
      if (length == 64 && name[62] == '.' && name[63] == 'x') variants.emplace(name, 62);
    }));
    for (const std::string& name : names) {
      struct stat st;
      if (::fstatat(dir_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode)) {
        continue;
      }
      ObjectInfo info;
      info.hash = std::string(shard) + name;
      info.size = static_cast<uint64_t>(st.st_size);
      info.last_use = LastUse(st);
      // The executable variant is a second copy of the bytes, evicted with
      // the object: its size counts against the quota with it.
      struct stat variant;
      if (variants.count(name) != 0 &&
          ::fstatat(dir_fd.get(), (name + ".x").c_str(), &variant, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISREG(variant.st_mode)) {
        info.size += static_cast<uint64_t>(variant.st_size);
        info.last_use = std::max(info.last_use, LastUse(variant));
      }
      visit(info);
    }
  }
  return Status::Ok();
}

Status ObjectStore::SyncToDisk() {
  if (::syncfs(objects_fd_.get()) != 0) return ErrnoStatus("syncfs", root_, errno);
  return Status::Ok();
}

}  // namespace cairn::cas_local
