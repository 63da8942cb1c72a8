#include "cairn/testing/in_memory_storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <set>
#include <utility>
#include <vector>

#include "asset_index.h"
#include "cairn/merkle.h"
#include "cairn/status_details.h"
#include "cairn/unique_fd.h"
#include "disk_tree.h"

namespace cairn::testing {
namespace {

std::string Key(const Digest& digest) { return DigestToString(digest); }

Status WriteAllToFd(int fd, const std::string& bytes, const Digest& digest) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t written = write(fd, bytes.data() + done, bytes.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0)
      return ErrnoStatus("write blob " + DigestToString(digest) + " to", "fd", errno);
    done += static_cast<size_t>(written);
  }
  return Status::Ok();
}

}  // namespace

StorageCapabilities InMemoryStorage::DefaultCapabilities() {
  StorageCapabilities capabilities;
  capabilities.flags = CAIRN_STORAGE_INSTANCES | CAIRN_STORAGE_UPLOADS | CAIRN_STORAGE_ASSETS |
                       CAIRN_STORAGE_LOCAL_FILES;
  return capabilities;
}

InMemoryStorage::InMemoryStorage(StorageCapabilities capabilities)
    : capabilities_(capabilities),
      assets_(std::make_unique<AssetIndex>((capabilities.flags & CAIRN_STORAGE_INSTANCES) != 0)) {}

InMemoryStorage::~InMemoryStorage() = default;

// --- Helpers; the *Locked ones expect mutex_ held.

Status InMemoryStorage::CheckWrite(std::string_view data, const std::optional<Digest>& expected,
                                   const Digest& actual) const {
  if (expected) {
    CAIRN_RETURN_IF_ERROR(ValidateDigest(*expected));
    if (*expected != actual) {
      return InvalidArgument("the data does not match digest " + DigestToString(*expected) +
                             " (it is " + DigestToString(actual) + ")");
    }
  }
  if (capabilities_.max_blob_size != 0 && data.size() > capabilities_.max_blob_size) {
    return InvalidArgument("blob " + DigestToString(actual) +
                           " is larger than the store's limit of " +
                           std::to_string(capabilities_.max_blob_size) + " bytes");
  }
  return Status::Ok();
}

Digest InMemoryStorage::StoreLocked(std::string_view data) {
  Digest digest = DigestOfBytes(data);
  Blob& blob = blobs_[Key(digest)];
  blob.bytes.assign(data.data(), data.size());  // also replaces a corrupted copy
  blob.last_used = ++use_clock_;
  return digest;
}

StatusOr<std::string> InMemoryStorage::ReadLocked(const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  auto found = blobs_.find(Key(digest));
  if (found == blobs_.end()) {
    if (IsEmptyDigest(digest)) return std::string();
    return NotFound("blob " + DigestToString(digest) + " is not in the store");
  }
  found->second.last_used = ++use_clock_;
  return found->second.bytes;
}

StatusOr<Digest> InMemoryStorage::WriteChecked(std::string_view data,
                                               const std::optional<Digest>& expected) {
  Digest actual = DigestOfBytes(data);
  CAIRN_RETURN_IF_ERROR(CheckWrite(data, expected, actual));
  std::lock_guard<std::mutex> lock(mutex_);
  return StoreLocked(data);
}

StatusOr<std::string> InMemoryStorage::ReadWhole(const Digest& digest) {
  std::lock_guard<std::mutex> lock(mutex_);
  return ReadLocked(digest);
}

Status InMemoryStorage::CheckInstance(const std::string& instance) const {
  if (instance.empty() || (capabilities_.flags & CAIRN_STORAGE_INSTANCES) != 0) return Status::Ok();
  return Unimplemented("this store has only the default instance, not '" + instance + "'");
}

// --- Blobs.

StatusOr<std::vector<Digest>> InMemoryStorage::FindMissing(const std::vector<Digest>& digests) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kFindMissing));
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Digest> missing;
  for (const Digest& digest : digests) {
    CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
    if (!IsEmptyDigest(digest) && blobs_.count(Key(digest)) == 0) missing.push_back(digest);
  }
  return missing;
}

StatusOr<bool> InMemoryStorage::Contains(const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kContains));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  std::lock_guard<std::mutex> lock(mutex_);
  return IsEmptyDigest(digest) || blobs_.count(Key(digest)) > 0;
}

StatusOr<std::string> InMemoryStorage::ReadBlob(const Digest& digest, uint64_t offset,
                                                uint64_t limit) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kReadBlob));
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, ReadWhole(digest));
  if (offset > bytes.size()) {
    return OutOfRange("offset " + std::to_string(offset) + " is past the end of blob " +
                      DigestToString(digest));
  }
  return limit == 0 ? bytes.substr(offset) : bytes.substr(offset, limit);
}

StatusOr<Digest> InMemoryStorage::WriteBlob(std::string_view data,
                                            const std::optional<Digest>& expected) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kWriteBlob));
  return WriteChecked(data, expected);
}

Status InMemoryStorage::ReadBlobToFd(const Digest& digest, int fd) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kReadBlobToFd));
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, ReadWhole(digest));
  return WriteAllToFd(fd, bytes, digest);
}

StatusOr<Digest> InMemoryStorage::WriteBlobFromFd(int fd, const std::optional<Digest>& expected) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kWriteBlobFromFd));
  CAIRN_ASSIGN_OR_RETURN(std::string data, ReadToEnd(fd, "fd " + std::to_string(fd)));
  return WriteChecked(data, expected);
}

Status InMemoryStorage::ReadBlobToPath(const Digest& digest, const std::string& path,
                                       bool executable) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kReadBlobToPath));
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, ReadWhole(digest));
  return WriteNewFile(path, bytes, executable);
}

StatusOr<Digest> InMemoryStorage::WriteBlobFromPath(const std::string& path, bool move_source,
                                                    const std::optional<Digest>& expected) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kWriteBlobFromPath));
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return ErrnoStatus("open", path, errno);
  struct stat info {};
  if (fstat(fd.get(), &info) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(info.st_mode)) return InvalidArgument(path + " is not a regular file");
  CAIRN_ASSIGN_OR_RETURN(std::string data, ReadToEnd(fd.get(), path));
  CAIRN_ASSIGN_OR_RETURN(Digest digest, WriteChecked(data, expected));
  // A store that takes the file over leaves nothing behind at `path`.
  if (move_source && unlink(path.c_str()) != 0) return ErrnoStatus("remove", path, errno);
  return digest;
}

// --- Trees.

Status InMemoryStorage::StageTree(const Digest& root, const std::string& path,
                                  const StageOptions&) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kStageTree));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(root));
  // Hardlinks would need files of its own; copies are always correct.
  return StageDirectoryTree([this](const Digest& digest) { return ReadWhole(digest); }, root, path);
}

StatusOr<CapturedTree> InMemoryStorage::CaptureTree(const std::string& path,
                                                    const CaptureOptions& options) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kCaptureTree));
  auto write = [this](std::string_view data) {
    std::lock_guard<std::mutex> lock(mutex_);
    return StoreLocked(data);
  };
  return CaptureDirectoryTree(write, path, options.store_tree);
}

// --- Action cache and references.

StatusOr<ActionResult> InMemoryStorage::GetActionResult(const std::string& instance,
                                                        const Digest& action) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kGetActionResult));
  CAIRN_RETURN_IF_ERROR(CheckInstance(instance));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(action));
  std::lock_guard<std::mutex> lock(mutex_);
  auto results = action_cache_.find(instance);
  if (results != action_cache_.end()) {
    auto found = results->second.find(Key(action));
    if (found != results->second.end()) return found->second;
  }
  return NotFound("no action result for " + DigestToString(action) + " in instance '" + instance +
                  "'");
}

Status InMemoryStorage::UpdateActionResult(const std::string& instance, const Digest& action,
                                           const ActionResult& result) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kUpdateActionResult));
  CAIRN_RETURN_IF_ERROR(CheckInstance(instance));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(action));
  std::lock_guard<std::mutex> lock(mutex_);
  action_cache_[instance][Key(action)] = result;
  return Status::Ok();
}

StatusOr<Digest> InMemoryStorage::GetReference(const std::string& name) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kGetReference));
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = references_.find(name);
  if (found == references_.end()) return NotFound("reference '" + name + "' is not set");
  return found->second;
}

Status InMemoryStorage::SetReference(const std::string& name, const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kSetReference));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  std::lock_guard<std::mutex> lock(mutex_);
  references_[name] = digest;
  return Status::Ok();
}

// --- Maintenance.

StatusOr<VerifyReport> InMemoryStorage::Verify(bool repair) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kVerify));
  std::lock_guard<std::mutex> lock(mutex_);
  VerifyReport report;
  for (auto blob = blobs_.begin(); blob != blobs_.end();) {
    std::string actual = DigestToString(DigestOfBytes(blob->second.bytes));
    if (actual == blob->first) {
      ++blob;
      continue;
    }
    ++report.problems;
    report.lines += "blob " + blob->first + " is corrupt: its content is " + actual +
                    (repair ? " (removed)\n" : "\n");
    blob = repair ? blobs_.erase(blob) : std::next(blob);
  }
  return report;
}

StatusOr<uint64_t> InMemoryStorage::CollectGarbage(uint64_t target_bytes) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kCollectGarbage));
  if (target_bytes == 0) return uint64_t{0};
  std::lock_guard<std::mutex> lock(mutex_);
  std::set<std::string> kept;
  assets_->ForEachKeptAlive([&](const Digest& digest, bool is_directory) {
    kept.insert(Key(digest));
    if (is_directory) VisitTreeLocked(digest, [&](const Digest& d, bool) { kept.insert(Key(d)); });
  });
  uint64_t total = 0;
  std::vector<std::pair<uint64_t, std::string>> candidates;  // (last used, key)
  for (const auto& [key, blob] : blobs_) {
    total += blob.bytes.size();
    if (kept.count(key) == 0) candidates.emplace_back(blob.last_used, key);
  }
  std::sort(candidates.begin(), candidates.end());
  uint64_t freed = 0;
  for (const auto& candidate : candidates) {
    if (total - freed <= target_bytes) break;
    auto blob = blobs_.find(candidate.second);
    freed += blob->second.bytes.size();
    blobs_.erase(blob);
  }
  return freed;
}

StatusOr<StorageStats> InMemoryStorage::Stats() {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kStats));
  std::lock_guard<std::mutex> lock(mutex_);
  StorageStats stats;
  stats.object_count = blobs_.size();
  for (const auto& entry : blobs_) stats.total_bytes += entry.second.bytes.size();
  for (const auto& instance : action_cache_) stats.action_result_count += instance.second.size();
  stats.reference_count = references_.size();
  return stats;
}

// --- Test hooks.

bool InMemoryStorage::DeleteBlob(const Digest& digest) {
  std::lock_guard<std::mutex> lock(mutex_);
  return blobs_.erase(Key(digest)) > 0;
}

bool InMemoryStorage::CorruptBlob(const Digest& digest, std::string bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = blobs_.find(Key(digest));
  if (found == blobs_.end()) return false;
  found->second.bytes = std::move(bytes);
  return true;
}

size_t InMemoryStorage::blob_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return blobs_.size();
}

}  // namespace cairn::testing
