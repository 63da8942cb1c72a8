#include "garbage_collector.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace cairn::cas_local {
namespace {

// LastUse of dir_fd/path, or 0 when it is absent.
time_t LastUseAt(int dir_fd, const std::string& path) {
  struct stat st;
  if (::fstatat(dir_fd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
  return LastUse(st);
}

}  // namespace

StatusOr<bool> GarbageCollector::Evict(const std::string& hash, time_t protected_since) {
  const int objects_fd = objects_.objects_fd();
  const std::string path = ObjectStore::RelativePath(hash);
  const std::string variant = ObjectStore::ExecutablePath(hash);
  if (std::max(LastUseAt(objects_fd, path), LastUseAt(objects_fd, variant)) >= protected_since) {
    return false;  // used since the scan
  }
  // Out of sight first: a use that began before the rename has touched the
  // file (ObjectStore::Contains touches before it answers), one after it
  // finds nothing. So what is renamed and still unused may go.
  const std::string trash = ObjectStore::UniqueTempName();
  if (::renameat(objects_fd, path.c_str(), objects_.tmp_fd(), trash.c_str()) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoStatus("move aside object", hash, errno);
  }
  // The rename set the ctime: a use since is known by the atime a touch
  // sets. (A hardlink made just before the rename only moved the ctime; it
  // keeps the bytes it links, as after any eviction.)
  struct stat moved;
  bool touched = ::fstatat(objects_.tmp_fd(), trash.c_str(), &moved, AT_SYMLINK_NOFOLLOW) == 0 &&
                 moved.st_atim.tv_sec >= protected_since;
  if (touched || LastUseAt(objects_fd, variant) >= protected_since) {
    // Used in the meantime: put it back (a writer may have re-created it).
    if (::linkat(objects_.tmp_fd(), trash.c_str(), objects_fd, path.c_str(), 0) != 0 &&
        errno != EEXIST) {
      int error_number = errno;
      ::unlinkat(objects_.tmp_fd(), trash.c_str(), 0);
      return ErrnoStatus("restore object", hash, error_number);
    }
    ::unlinkat(objects_.tmp_fd(), trash.c_str(), 0);
    return false;
  }
  if (::unlinkat(objects_.tmp_fd(), trash.c_str(), 0) != 0) {
    return ErrnoStatus("remove object", hash, errno);
  }
  if (::unlinkat(objects_fd, variant.c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoStatus("remove the executable variant of object", hash, errno);
  }
  return true;
}

StatusOr<StoreUsage> GarbageCollector::Usage() const {
  StoreUsage usage;
  CAIRN_RETURN_IF_ERROR(objects_.ForEachObject([&](const ObjectInfo& info) {
    ++usage.object_count;
    usage.total_bytes += info.size;
  }));
  return usage;
}

StatusOr<uint64_t> GarbageCollector::Collect(uint64_t target_bytes) {
  std::string lock_path = root_ + "/gc.lock";
  UniqueFd lock(::open(lock_path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644));
  if (!lock.valid()) return ErrnoStatus("open", lock_path, errno);
  if (::flock(lock.get(), LOCK_EX) != 0) return ErrnoStatus("lock", lock_path, errno);

  std::vector<ObjectInfo> objects;
  uint64_t total = 0;
  CAIRN_RETURN_IF_ERROR(objects_.ForEachObject([&](const ObjectInfo& info) {
    total += info.size;
    objects.push_back(info);
  }));
  if (total <= target_bytes) return uint64_t{0};

  std::unordered_set<std::string> kept;
  if (keep_alive_) {
    CAIRN_ASSIGN_OR_RETURN(kept, keep_alive_());
  }
  CAIRN_ASSIGN_OR_RETURN(time_t oldest_lease, leases_.OldestLiveLeaseStart());
  time_t protected_since = oldest_lease;
  std::sort(objects.begin(), objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.last_use < b.last_use; });
  uint64_t freed = 0;
  for (const ObjectInfo& object : objects) {
    if (total <= target_bytes || object.last_use >= protected_since) break;
    if (object.hash == kEmptySha256 || kept.count(object.hash) != 0) continue;
    CAIRN_ASSIGN_OR_RETURN(bool evicted, Evict(object.hash, protected_since));
    if (!evicted) continue;
    total -= object.size;
    freed += object.size;
  }
  return freed;
}

}  // namespace cairn::cas_local
