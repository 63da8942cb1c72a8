#include "garbage_collector.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <vector>

namespace cairn::cas_local {

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
    std::string path = ObjectStore::RelativePath(object.hash);
    struct stat st;
    if (::fstatat(objects_.objects_fd(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (LastUse(st) >= protected_since) continue;  // used since the scan
    CAIRN_RETURN_IF_ERROR(objects_.RemoveObject(object.hash));
    total -= object.size;
    freed += object.size;
  }
  return freed;
}

}  // namespace cairn::cas_local
