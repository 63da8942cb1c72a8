#include "cairn/sandbox_common/staged_root_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "cairn/relative_path.h"
#include "cairn/sandbox_common/file_tree.h"

namespace cairn {
namespace {

// The mount points every local sandbox needs inside the root.
constexpr const char* kMountPoints[] = {"proc", "dev", "tmp"};

std::string CacheKey(const Digest& input_root, const std::string& working_directory) {
  // NUL cannot occur in a digest or a validated path.
  return DigestToString(input_root) + std::string(1, '\0') + working_directory;
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

SharedRoot::~SharedRoot() {
  if (container_dir_.empty()) return;
  if (janitor_ != nullptr) {
    janitor_->Dispose(container_dir_);
  } else {
    (void)RemoveTree(container_dir_);
  }
}

StagedRootCache::StagedRootCache(std::string scratch_parent, std::string prefix, size_t capacity,
                                 ScratchJanitor* janitor)
    : scratch_parent_(std::move(scratch_parent)),
      prefix_(std::move(prefix)),
      capacity_(capacity),
      janitor_(janitor) {}

StatusOr<std::shared_ptr<const SharedRoot>> StagedRootCache::Acquire(
    Storage& cas, const Digest& input_root, const std::string& working_directory) {
  std::string key = CacheKey(input_root, working_directory);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto entry = entries_.begin(); entry != entries_.end(); ++entry) {
      if (entry->first != key) continue;
      entries_.splice(entries_.begin(), entries_, entry);
      return std::shared_ptr<const SharedRoot>(entries_.front().second);
    }
  }
  // Staged without the lock: other roots stay available meanwhile.
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<SharedRoot> staged,
                         Stage(cas, input_root, working_directory));
  if (capacity_ == 0) return std::shared_ptr<const SharedRoot>(std::move(staged));
  std::shared_ptr<SharedRoot> evicted;  // released after the lock
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& entry : entries_) {
    // Staged concurrently by another run: ours goes when this run ends.
    if (entry.first == key) return std::shared_ptr<const SharedRoot>(staged);
  }
  entries_.emplace_front(key, staged);
  if (entries_.size() > capacity_) {
    evicted = std::move(entries_.back().second);
    entries_.pop_back();
  }
  return std::shared_ptr<const SharedRoot>(std::move(staged));
}

StatusOr<std::shared_ptr<SharedRoot>> StagedRootCache::Stage(Storage& cas, const Digest& input_root,
                                                             const std::string& working_directory) {
  std::shared_ptr<SharedRoot> shared(new SharedRoot());
  shared->janitor_ = janitor_;
  bool absolute = !scratch_parent_.empty() && scratch_parent_.front() == '/';
  CAIRN_RETURN_IF_ERROR(MakeDirectoriesBelow(absolute ? "/" : ".",
                                             absolute ? scratch_parent_.substr(1) : scratch_parent_)
                            .WithContext("creating the scratch directory"));
  std::string pattern = JoinPath(scratch_parent_, OwnedScratchPrefix(prefix_) + "root-XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return ErrnoStatus("mkdtemp", pattern, errno)
        .WithContext("creating a private directory for the input root");
  }
  shared->container_dir_ = buffer.data();
  shared->root_dir_ = shared->container_dir_ + "/root";
  // From here on, a failure removes the directory with `shared`.
  if (mkdir(shared->root_dir_.c_str(), 0755) != 0) {
    return ErrnoStatus("mkdir", shared->root_dir_, errno);
  }
  CAIRN_RETURN_IF_ERROR(StageInputRoot(cas, input_root, shared->root_dir_, /*hardlinks=*/true));
  CAIRN_RETURN_IF_ERROR(MakeDirectoriesBelow(shared->root_dir_, working_directory)
                            .WithContext("the working directory"));
  return shared;
}

}  // namespace cairn
