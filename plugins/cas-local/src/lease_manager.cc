#include "lease_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <vector>

#include "file_util.h"

namespace cairn::cas_local {
namespace {

// An unfinished lease creation (".new-...") older than this is debris.
constexpr time_t kStaleNewLeaseSeconds = 3600;

// Sets the lease file's mtime to `now` exactly (whole seconds, so that what
// other processes read back equals start()).
void SetTimes(int fd, time_t now) {
  struct timespec times[2];
  times[0].tv_sec = now;
  times[0].tv_nsec = 0;
  times[1] = times[0];
  ::futimens(fd, times);
}

}  // namespace

StatusOr<std::unique_ptr<LeaseManager>> LeaseManager::Open(const std::string& root) {
  std::unique_ptr<LeaseManager> leases(new LeaseManager());
  leases->directory_ = root + "/leases";
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(leases->directory_));
  CAIRN_ASSIGN_OR_RETURN(leases->leases_fd_, OpenDirectory(AT_FDCWD, leases->directory_));
  std::string suffix = std::to_string(::getpid()) + "-" + std::to_string(std::random_device()());
  std::string temp = ".new-" + suffix;
  leases->name_ = suffix;
  // Locked before it gets its visible name, so a scan never sees it unlocked.
  leases->lease_fd_ = UniqueFd(::openat(leases->leases_fd_.get(), temp.c_str(),
                                        O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0644));
  if (!leases->lease_fd_.valid()) return ErrnoStatus("create lease", leases->directory_, errno);
  if (::flock(leases->lease_fd_.get(), LOCK_EX) != 0) {
    return ErrnoStatus("lock lease", leases->directory_ + "/" + temp, errno);
  }
  time_t now = ::time(nullptr);
  SetTimes(leases->lease_fd_.get(), now);
  leases->start_ = now;
  if (::renameat(leases->leases_fd_.get(), temp.c_str(), leases->leases_fd_.get(),
                 leases->name_.c_str()) != 0) {
    return ErrnoStatus("publish lease", leases->directory_ + "/" + leases->name_, errno);
  }
  return leases;
}

LeaseManager::~LeaseManager() {
  if (leases_fd_.valid() && !name_.empty()) ::unlinkat(leases_fd_.get(), name_.c_str(), 0);
}

time_t LeaseManager::BeginOperation() {
  std::lock_guard<std::mutex> lock(mutex_);
  time_t now = ::time(nullptr);
  in_flight_.insert(now);
  // Never earlier than now, and never past an operation still running:
  // everything it touched was touched after it started.
  time_t oldest = *in_flight_.begin();
  if (now - start_.load() >= kLeaseRefreshSeconds && oldest > start_.load()) {
    // Published before start_ moves: objects used from here on are
    // touched, and the collector already protects from `oldest`.
    SetTimes(lease_fd_.get(), oldest);
    start_ = oldest;
  }
  return now;
}

void LeaseManager::EndOperation(time_t started) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = in_flight_.find(started);
  if (found != in_flight_.end()) in_flight_.erase(found);
}

StatusOr<time_t> LeaseManager::OldestLiveLeaseStart() {
  std::vector<std::string> names;
  CAIRN_RETURN_IF_ERROR(ForEachEntry(
      leases_fd_.get(), [&](const char* name, unsigned char) { names.emplace_back(name); }));
  time_t now = ::time(nullptr);
  time_t oldest = now;
  for (const std::string& name : names) {
    struct stat st;
    if (::fstatat(leases_fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (name.rfind(".new-", 0) == 0) {
      if (st.st_mtime + kStaleNewLeaseSeconds < now) ::unlinkat(leases_fd_.get(), name.c_str(), 0);
      continue;
    }
    if (name == name_) {
      if (start_.load() < oldest) oldest = start_.load();
      continue;
    }
    UniqueFd fd(::openat(leases_fd_.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) continue;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
      // Nobody holds it: its process is gone.
      ::unlinkat(leases_fd_.get(), name.c_str(), 0);
      continue;
    }
    if (::fstat(fd.get(), &st) == 0 && st.st_mtime < oldest) oldest = st.st_mtime;
  }
  return oldest;
}

}  // namespace cairn::cas_local
