#include "cairn/sandbox_common/staged_root_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cairn/relative_path.h"
#include "cairn/sandbox_common/file_tree.h"
#include "cairn/sandbox_common/tree_walker.h"

namespace cairn {
namespace {

// The mount points every local sandbox needs inside the root.
constexpr const char* kMountPoints[] = {"proc", "dev", "tmp"};

constexpr const char* kLeaseFile = "lease";
constexpr const char* kCompleteFile = "complete";

// A file name for (root, working directory). NUL cannot occur in a digest
// or a validated path, so distinct pairs never share the text hashed.
std::string CacheKey(const Digest& input_root, const std::string& working_directory) {
  return DigestOfBytes(DigestToString(input_root) + std::string(1, '\0') + working_directory)
      .hash();
}

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Takes away every write permission from the root's regular files: the
// objects hardlinked from the store have none already, and the private
// copies (executables) must not be writable either once shared.
class WriteProtector : public TreeVisitor {
 public:
  Status Visit(const TreeEntry& entry) override {
    if (!S_ISREG(entry.info.st_mode) || (entry.info.st_mode & 0222) == 0) return Status::Ok();
    if (fchmodat(entry.parent_fd, entry.name.c_str(), entry.info.st_mode & 07555, 0) != 0) {
      return ErrnoStatus("chmod", ShortenedPath(entry.path), errno);
    }
    return Status::Ok();
  }
};

Status MakePrivateDirectory(const std::string& scratch_parent, const std::string& name,
                            std::string* made) {
  std::string pattern = JoinPath(scratch_parent, name + "XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) return ErrnoStatus("mkdtemp", pattern, errno);
  *made = buffer.data();
  return Status::Ok();
}

void Discard(ScratchJanitor* janitor, std::string path) {
  if (janitor != nullptr) {
    janitor->Dispose(std::move(path));
  } else {
    (void)RemoveTree(path);
  }
}

// Marks a lease as used now. The time is set explicitly (as the owner)
// rather than UTIME_NOW, whose coarse clock would give two uses within a
// tick the same time.
void Touch(int lease_fd) {
  struct timespec now[2];
  clock_gettime(CLOCK_REALTIME, &now[0]);
  now[1] = now[0];
  (void)futimens(lease_fd, now);
}

Status EnsureMountPoint(const std::string& root, const std::string& name) {
  std::string path = root + "/" + name;
  struct stat info {};
  if (lstat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return Status::Ok();
    return FailedPrecondition("the input root is unusable: /" + name +
                              " is not a directory, and the sandbox mounts a private /" + name +
                              " there");
  }
  if (errno != ENOENT) return ErrnoStatus("lstat", path, errno);
  if (mkdir(path.c_str(), 0755) != 0) return ErrnoStatus("mkdir", path, errno);
  return Status::Ok();
}

}  // namespace

Status StageInputRoot(Storage& cas, const Digest& input_root, const std::string& root_dir,
                      bool hardlinks, bool mount_points) {
  StageOptions options;
  options.hardlinks = hardlinks;
  Status staged = cas.StageTree(input_root, root_dir, options);
  if (!staged.ok()) {
    if (staged.code() == Code::kNotFound) {
      return FailedPrecondition("the input root " + DigestToString(input_root) +
                                " (or something below it) is not in the CAS: " + staged.message());
    }
    return staged.WithContext("staging the input root " + DigestToString(input_root));
  }
  if (!mount_points) return Status::Ok();
  for (const char* name : kMountPoints) CAIRN_RETURN_IF_ERROR(EnsureMountPoint(root_dir, name));
  return Status::Ok();
}

struct StagedRootStore {
  std::string scratch_parent;
  std::string prefix;
  std::string dir;  // published roots
  size_t capacity = 0;
  ScratchJanitor* janitor = nullptr;

  // Moves a published root (its lease locked exclusively by the caller, or
  // unusable) out of the way, into a directory of this process's that the
  // janitor removes (or, after a crash, the next sandbox's leftover
  // cleanup). Whoever held it keeps using it through open descriptors
  // only until it is gone; nobody can lease it after the rename.
  void Remove(const std::string& published) const {
    std::string doomed;
    if (!MakePrivateDirectory(scratch_parent, OwnedScratchPrefix(prefix) + "evicted-", &doomed)
             .ok()) {
      return;
    }
    // A directory renamed onto an empty one replaces it.
    if (std::rename(published.c_str(), doomed.c_str()) != 0) {
      (void)rmdir(doomed.c_str());
      return;
    }
    Discard(janitor, std::move(doomed));
  }

  // Removes the least recently used idle roots past the capacity.
  void Trim() const {
    struct Entry {
      struct timespec used;
      std::string path;
    };
    std::vector<Entry> entries;
    DIR* listing = opendir(dir.c_str());
    if (listing == nullptr) return;
    while (struct dirent* entry = readdir(listing)) {
      if (entry->d_name[0] == '.') continue;
      std::string path = dir + "/" + entry->d_name;
      struct stat lease {};
      if (lstat((path + "/" + kLeaseFile).c_str(), &lease) != 0) {
        entries.push_back({{0, 0}, path});  // unusable: the oldest
      } else {
        entries.push_back({lease.st_mtim, path});
      }
    }
    closedir(listing);
    if (entries.size() <= capacity) return;
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (a.used.tv_sec != b.used.tv_sec) return a.used.tv_sec < b.used.tv_sec;
      return a.used.tv_nsec < b.used.tv_nsec;
    });
    size_t kept = entries.size();
    for (const Entry& entry : entries) {
      if (kept <= capacity) break;
      std::string lease_path = entry.path + "/" + kLeaseFile;
      UniqueFd lease(open(lease_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (lease.valid()) {
        // In use (a shared lock held, here or in another process): kept.
        if (flock(lease.get(), LOCK_EX | LOCK_NB) != 0) continue;
        struct stat locked {
        }, named{};
        if (fstat(lease.get(), &locked) != 0 || lstat(lease_path.c_str(), &named) != 0 ||
            !SameFile(locked, named)) {
          continue;  // removed meanwhile by another process
        }
      } else if (errno != ENOENT) {
        continue;
      }
      Remove(entry.path);
      --kept;
    }
  }
};

SharedRoot::~SharedRoot() {
  lease_.Reset();  // releases the lock
  if (!private_dir_.empty()) Discard(janitor_, private_dir_);
  if (store_) store_->Trim();
}

StagedRootCache::StagedRootCache(std::string scratch_parent, std::string prefix, size_t capacity,
                                 ScratchJanitor* janitor)
    : scratch_parent_(std::move(scratch_parent)),
      prefix_(std::move(prefix)),
      capacity_(capacity),
      janitor_(janitor),
      store_(std::make_shared<StagedRootStore>()) {
  store_->scratch_parent = scratch_parent_;
  store_->prefix = prefix_;
  store_->dir = JoinPath(scratch_parent_, prefix_ + "roots");
  store_->capacity = capacity_;
  store_->janitor = janitor_;
}

const std::string& StagedRootCache::shared_dir() const { return store_->dir; }

bool StagedRootCache::Holds(const Digest& input_root, const std::string& working_directory) const {
  if (capacity_ == 0) return false;
  std::string published = store_->dir + "/" + CacheKey(input_root, working_directory);
  return access((published + "/" + kCompleteFile).c_str(), F_OK) == 0;
}

StatusOr<std::shared_ptr<const SharedRoot>> StagedRootCache::Acquire(
    Storage& cas, const Digest& input_root, const std::string& working_directory) {
  if (capacity_ == 0) {
    CAIRN_ASSIGN_OR_RETURN(std::string container, StageInto(cas, input_root, working_directory));
    std::shared_ptr<SharedRoot> shared(new SharedRoot());
    shared->janitor_ = janitor_;
    shared->private_dir_ = container;
    shared->root_dir_ = container + "/root";
    return std::shared_ptr<const SharedRoot>(std::move(shared));
  }
  std::string key = CacheKey(input_root, working_directory);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = in_use_.find(key);
    if (found != in_use_.end()) {
      if (std::shared_ptr<SharedRoot> shared = found->second.lock()) {
        Touch(shared->lease_.get());
        return std::shared_ptr<const SharedRoot>(std::move(shared));
      }
    }
  }
  // Found or staged without the lock: other roots stay available meanwhile.
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<SharedRoot> shared,
                         AcquireOnDisk(cas, input_root, working_directory, key));
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto entry = in_use_.begin(); entry != in_use_.end();) {
    entry = entry->second.expired() ? in_use_.erase(entry) : std::next(entry);
  }
  auto& slot = in_use_[key];
  if (std::shared_ptr<SharedRoot> other = slot.lock()) {
    return std::shared_ptr<const SharedRoot>(std::move(other));
  }
  slot = shared;
  return std::shared_ptr<const SharedRoot>(std::move(shared));
}

namespace {

// A lease (shared lock) on the published root `path`: invalid when there
// is none, or it was removed or is unusable (then removed, when idle).
UniqueFd LeasePublished(const StagedRootStore& store, const std::string& path) {
  std::string lease_path = path + "/" + kLeaseFile;
  UniqueFd lease(open(lease_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!lease.valid()) {
    // Published roots always have one: something damaged this directory.
    if (errno != ENOENT || access(path.c_str(), F_OK) == 0) store.Remove(path);
    return UniqueFd();
  }
  // An evictor holds its exclusive lock only while renaming the root away.
  if (flock(lease.get(), LOCK_SH) != 0) return UniqueFd();
  struct stat locked {
  }, named{};
  if (fstat(lease.get(), &locked) != 0 || lstat(lease_path.c_str(), &named) != 0 ||
      !SameFile(locked, named)) {
    return UniqueFd();  // evicted before the lock was ours
  }
  if (access((path + "/" + kCompleteFile).c_str(), F_OK) != 0) {
    lease.Reset();
    UniqueFd exclusive(open(lease_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (exclusive.valid() && flock(exclusive.get(), LOCK_EX | LOCK_NB) == 0) store.Remove(path);
    return UniqueFd();
  }
  Touch(lease.get());
  return lease;
}

}  // namespace

StatusOr<std::shared_ptr<SharedRoot>> StagedRootCache::AcquireOnDisk(
    Storage& cas, const Digest& input_root, const std::string& working_directory,
    const std::string& key) {
  std::string published = store_->dir + "/" + key;
  auto fresh = [this] {
    std::shared_ptr<SharedRoot> shared(new SharedRoot());
    shared->janitor_ = janitor_;
    shared->store_ = store_;
    return shared;
  };
  // A few rounds: each loses only to a concurrent eviction or publication.
  for (int round = 0; round < 4; ++round) {
    if (UniqueFd found = LeasePublished(*store_, published); found.valid()) {
      std::shared_ptr<SharedRoot> shared = fresh();
      shared->lease_ = std::move(found);
      shared->root_dir_ = published + "/root";
      return shared;
    }
    CAIRN_ASSIGN_OR_RETURN(std::string container, StageInto(cas, input_root, working_directory));
    std::string lease_path = container + "/" + kLeaseFile;
    UniqueFd lease(open(lease_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444));
    Status made = lease.valid() ? Status::Ok() : ErrnoStatus("create", lease_path, errno);
    if (made.ok() && flock(lease.get(), LOCK_SH) != 0)
      made = ErrnoStatus("lock", lease_path, errno);
    std::string complete = container + "/" + kCompleteFile;
    if (made.ok()) {
      // Written last: the root is whole.
      UniqueFd marker(open(complete.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444));
      if (!marker.valid()) made = ErrnoStatus("create", complete, errno);
    }
    if (made.ok()) {
      Status parent = MakeDirectoriesBelow(scratch_parent_, prefix_ + "roots");
      if (!parent.ok()) made = parent.WithContext("creating the directory of shared roots");
    }
    if (!made.ok()) {
      Discard(janitor_, container);
      return made.WithContext("publishing a staged root");
    }
    if (std::rename(container.c_str(), published.c_str()) == 0) {
      ++roots_staged_;
      Touch(lease.get());
      std::shared_ptr<SharedRoot> shared = fresh();
      shared->lease_ = std::move(lease);
      shared->root_dir_ = published + "/root";
      store_->Trim();
      return shared;
    }
    int error = errno;
    lease.Reset();
    Discard(janitor_, container);
    // Published by another run meanwhile: that one is used.
    if (error != EEXIST && error != ENOTEMPTY) {
      return ErrnoStatus("rename", container + " to " + published, error)
          .WithContext("publishing a staged root");
    }
  }
  return Unavailable("the staged root " + published +
                     " was removed by other processes each time it was about to be used");
}

StatusOr<std::string> StagedRootCache::StageInto(Storage& cas, const Digest& input_root,
                                                 const std::string& working_directory) {
  bool absolute = !scratch_parent_.empty() && scratch_parent_.front() == '/';
  CAIRN_RETURN_IF_ERROR(MakeDirectoriesBelow(absolute ? "/" : ".",
                                             absolute ? scratch_parent_.substr(1) : scratch_parent_)
                            .WithContext("creating the scratch directory"));
  std::string container;
  CAIRN_RETURN_IF_ERROR(
      MakePrivateDirectory(scratch_parent_, OwnedScratchPrefix(prefix_) + "root-", &container)
          .WithContext("creating a private directory for the input root"));
  std::string root_dir = container + "/root";
  Status staged = [&]() -> Status {
    if (mkdir(root_dir.c_str(), 0755) != 0) return ErrnoStatus("mkdir", root_dir, errno);
    CAIRN_RETURN_IF_ERROR(StageInputRoot(cas, input_root, root_dir, /*hardlinks=*/true));
    CAIRN_RETURN_IF_ERROR(
        MakeDirectoriesBelow(root_dir, working_directory).WithContext("the working directory"));
    WriteProtector protector;
    return WalkTree(root_dir, protector).WithContext("making the staged root read-only");
  }();
  if (!staged.ok()) {
    Discard(janitor_, container);
    return staged;
  }
  return container;
}

}  // namespace cairn
