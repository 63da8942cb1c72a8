#include "local_cas.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "file_util.h"
#include "object_stager.h"
#include "tree_capture.h"
#include "tree_stage.h"
#include "verifier.h"

namespace cairn::cas_local {
namespace {

std::string BlobName(const Digest& digest) { return "blob " + DigestToString(digest); }

}  // namespace

StatusOr<std::unique_ptr<Storage>> LocalCas::Open(const HostServices& host,
                                                  std::string_view options_yaml) {
  CAIRN_ASSIGN_OR_RETURN(LocalCasOptions options, LocalCasOptions::Parse(options_yaml));
  std::unique_ptr<LocalCas> store(new LocalCas(host, std::move(options)));
  Status status = store->Initialise();
  if (!status.ok()) return status.WithContext("opening cas-local store " + store->options_.path);
  return std::unique_ptr<Storage>(std::move(store));
}

Status LocalCas::Initialise() {
  const std::string& root = options_.path;
  CAIRN_ASSIGN_OR_RETURN(objects_, ObjectStore::Open(root));
  CAIRN_ASSIGN_OR_RETURN(leases_, LeaseManager::Open(root));
  objects_->SetLeaseStart(&leases_->start());
  CAIRN_ASSIGN_OR_RETURN(action_caches_, ActionCaches::Open(root, *objects_));
  CAIRN_ASSIGN_OR_RETURN(references_, ReferenceStore::Open(root, *objects_));
  CAIRN_ASSIGN_OR_RETURN(uploads_, UploadStore::Open(root, *objects_));
  CAIRN_ASSIGN_OR_RETURN(assets_, AssetStore::Open(root, *objects_));
  collector_ = std::make_unique<GarbageCollector>(root, *objects_, *leases_);
  collector_->SetKeepAlive([this] { return assets_->LiveHashes(); });
  if (options_.quota_bytes > 0) {
    CAIRN_ASSIGN_OR_RETURN(StoreUsage usage, collector_->Usage());
    estimated_bytes_ = usage.total_bytes;
    objects_->SetAddedCallback([this](uint64_t size) { OnObjectAdded(size); });
  }
  return Status::Ok();
}

uint64_t LocalCas::HighWatermarkBytes() const {
  return static_cast<uint64_t>(static_cast<double>(options_.quota_bytes) * options_.high_watermark);
}

uint64_t LocalCas::LowWatermarkBytes() const {
  return static_cast<uint64_t>(static_cast<double>(options_.quota_bytes) * options_.low_watermark);
}

void LocalCas::OnObjectAdded(uint64_t size) {
  uint64_t now = estimated_bytes_.fetch_add(size) + size;
  if (now <= HighWatermarkBytes() || collecting_.exchange(true)) return;
  // Collect on the writing thread; other threads carry on writing.
  StatusOr<uint64_t> freed = collector_->Collect(LowWatermarkBytes());
  StatusOr<StoreUsage> usage = collector_->Usage();
  if (usage.ok()) estimated_bytes_ = usage->total_bytes;
  if (!freed.ok()) {
    host_.Warn("cas-local: garbage collection failed: " + freed.status().ToString());
  } else if (usage.ok() && usage->total_bytes > HighWatermarkBytes()) {
    host_.Warn("cas-local: the store holds " + std::to_string(usage->total_bytes) +
               " bytes, above its high watermark, but the rest is in use");
  }
  collecting_ = false;
}

StatusOr<std::vector<Digest>> LocalCas::FindMissing(const std::vector<Digest>& digests) {
  LeaseScope scope(*leases_);
  std::vector<Digest> missing;
  for (const Digest& digest : digests) {
    CAIRN_ASSIGN_OR_RETURN(bool present, objects_->Contains(digest));
    if (!present) missing.push_back(digest);
  }
  return missing;
}

StatusOr<bool> LocalCas::Contains(const Digest& digest) {
  LeaseScope scope(*leases_);
  return objects_->Contains(digest);
}

StatusOr<std::string> LocalCas::ReadBlob(const Digest& digest, uint64_t offset, uint64_t limit) {
  LeaseScope scope(*leases_);
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  uint64_t size = static_cast<uint64_t>(digest.size_bytes());
  if (offset > size) {
    return OutOfRange("offset " + std::to_string(offset) + " is past the end of " +
                      BlobName(digest));
  }
  if (size == 0 && IsEmptyDigest(digest)) return std::string();
  CAIRN_ASSIGN_OR_RETURN(UniqueFd fd, objects_->OpenObject(digest));
  uint64_t length = size - offset;
  if (limit != 0 && limit < length) length = limit;
  std::string data(length, '\0');
  uint64_t done = 0;
  while (done < length) {
    ssize_t n =
        ::pread(fd.get(), data.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", BlobName(digest), errno);
    if (n == 0) return NotFound(BlobName(digest) + " is truncated in the store");
    done += static_cast<uint64_t>(n);
  }
  // A whole read costs one hash more and catches corruption where it
  // matters most (Directory messages, small blobs): a corrupt object is
  // removed and reported missing.
  if (offset == 0 && length == size && DigestOfBytes(data).hash() != digest.hash()) {
    CAIRN_RETURN_IF_ERROR(objects_->RemoveObject(digest.hash()));
    return NotFound(BlobName(digest) + " was corrupt in the store and has been removed");
  }
  return data;
}

StatusOr<Digest> LocalCas::WriteBlob(std::string_view data, const std::optional<Digest>& expected) {
  LeaseScope scope(*leases_);
  return objects_->WriteBytes(data, expected);
}

Status LocalCas::ReadBlobToFd(const Digest& digest, int fd) {
  LeaseScope scope(*leases_);
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  if (IsEmptyDigest(digest)) return Status::Ok();
  CAIRN_ASSIGN_OR_RETURN(UniqueFd object, objects_->OpenObject(digest));
  return CopyFd(object.get(), fd, BlobName(digest));
}

StatusOr<Digest> LocalCas::WriteBlobFromFd(int fd, const std::optional<Digest>& expected) {
  LeaseScope scope(*leases_);
  struct stat st;
  int64_t size_hint = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t position = ::lseek(fd, 0, SEEK_CUR);
    if (position >= 0 && position <= st.st_size) size_hint = st.st_size - position;
  }
  return objects_->WriteFromFd(fd, expected, size_hint);
}

Status LocalCas::ReadBlobToPath(const Digest& digest, const std::string& path, bool executable) {
  LeaseScope scope(*leases_);
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  CAIRN_RETURN_IF_ERROR(objects_->OpenObject(digest).status());  // absent: nothing created
  mode_t mode = executable ? 0755 : 0644;
  UniqueFd out(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!out.valid()) return ErrnoStatus("create", path, errno);
  Status status = ObjectStager(*objects_, false).Copy(digest, out.get(), path);
  if (status.ok() && ::fchmod(out.get(), mode) != 0) status = ErrnoStatus("chmod", path, errno);
  if (!status.ok()) ::unlink(path.c_str());
  return status;
}

StatusOr<Digest> LocalCas::MoveIntoStore(const std::string& path,
                                         const std::optional<Digest>& expected) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return ErrnoStatus("open", path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + " is not a regular file");
  // A file with other links could still be changed through them: copy it.
  if (st.st_nlink != 1) return objects_->WriteFromFd(fd.get(), expected, st.st_size);
  CAIRN_ASSIGN_OR_RETURN(Digest digest, DigestOfFd(fd.get()));
  CAIRN_RETURN_IF_ERROR(CheckExpectedDigest(digest, expected, path));
  CAIRN_ASSIGN_OR_RETURN(bool present, objects_->Contains(digest));
  if (present) {
    ::unlink(path.c_str());
    return digest;
  }
  // Moved (not copied), it is counted towards the quota like any write, and
  // a damaged object under its name is replaced.
  CAIRN_ASSIGN_OR_RETURN(bool moved, objects_->AdoptFile(fd.get(), path, digest));
  if (moved) return digest;
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return ErrnoStatus("seek", path, errno);
  return objects_->WriteFromFd(fd.get(), expected, st.st_size);
}

StatusOr<Digest> LocalCas::WriteBlobFromPath(const std::string& path, bool move_source,
                                             const std::optional<Digest>& expected) {
  LeaseScope scope(*leases_);
  if (move_source) return MoveIntoStore(path, expected);
  // Never follows a symlink: the path names an output the caller checked.
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    int error_number = errno;
    struct stat link;
    if (error_number == ELOOP && ::lstat(path.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
      return InvalidArgument(path + " is a symbolic link, not a regular file");
    }
    return ErrnoStatus("open", path, error_number);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + " is not a regular file");
  StatusOr<Digest> digest = objects_->WriteFromFd(fd.get(), expected, st.st_size);
  if (!digest.ok() && digest.status().code() != Code::kInvalidArgument) {
    return digest.status().WithContext("storing " + path);
  }
  return digest;
}

Status LocalCas::StageTree(const Digest& root, const std::string& path,
                           const StageOptions& options) {
  LeaseScope scope(*leases_);
  TreeStage stage(*this, *objects_, options_.verify_on_stage, options_.threads,
                  [this] { return IsCancelled(); });
  return stage.Stage(root, path, options);
}

StatusOr<CapturedTree> LocalCas::CaptureTree(const std::string& path,
                                             const CaptureOptions& options) {
  LeaseScope scope(*leases_);
  TreeCapture capture(options_.path, *objects_, options_.threads, [this] { return IsCancelled(); });
  return capture.Capture(path, options);
}

StatusOr<ActionResult> LocalCas::GetActionResult(const std::string& instance,
                                                 const Digest& action) {
  LeaseScope scope(*leases_);
  return action_caches_->Get(instance, action);
}

Status LocalCas::UpdateActionResult(const std::string& instance, const Digest& action,
                                    const ActionResult& result) {
  LeaseScope scope(*leases_);
  return action_caches_->Update(instance, action, result);
}

StatusOr<Digest> LocalCas::GetReference(const std::string& name) {
  LeaseScope scope(*leases_);
  return references_->Get(name);
}

Status LocalCas::SetReference(const std::string& name, const Digest& digest) {
  LeaseScope scope(*leases_);
  return references_->Set(name, digest);
}

StatusOr<VerifyReport> LocalCas::Verify(bool repair) {
  LeaseScope scope(*leases_);
  VerifyReport report;
  Verifier verifier(options_.path, *objects_, options_.threads);
  CAIRN_RETURN_IF_ERROR(verifier.VerifyObjects(repair, &report));
  CAIRN_RETURN_IF_ERROR(action_caches_->Verify(repair, &report));
  CAIRN_RETURN_IF_ERROR(references_->Verify(repair, &report));
  return report;
}

StatusOr<uint64_t> LocalCas::CollectGarbage(uint64_t target_bytes) {
  LeaseScope scope(*leases_);
  if (target_bytes == 0) {
    if (options_.quota_bytes == 0) {
      return FailedPrecondition("cas-local store " + options_.path +
                                " has no quota: give the size to collect down to");
    }
    target_bytes = LowWatermarkBytes();
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t freed, collector_->Collect(target_bytes));
  if (options_.quota_bytes > 0) {
    CAIRN_ASSIGN_OR_RETURN(StoreUsage usage, collector_->Usage());
    estimated_bytes_ = usage.total_bytes;
  }
  return freed;
}

StatusOr<StorageStats> LocalCas::Stats() {
  LeaseScope scope(*leases_);
  StorageStats stats;
  CAIRN_ASSIGN_OR_RETURN(StoreUsage usage, collector_->Usage());
  stats.object_count = usage.object_count;
  stats.total_bytes = usage.total_bytes;
  stats.quota_bytes = options_.quota_bytes;
  if (options_.quota_bytes > 0) {
    stats.high_watermark_bytes = HighWatermarkBytes();
    stats.low_watermark_bytes = LowWatermarkBytes();
  }
  CAIRN_ASSIGN_OR_RETURN(stats.action_result_count, action_caches_->Count());
  CAIRN_ASSIGN_OR_RETURN(uint64_t references, references_->Count());
  CAIRN_ASSIGN_OR_RETURN(uint64_t assets, assets_->Count());
  stats.reference_count = references + assets;  // asset records name content too
  return stats;
}

StatusOr<StorageCapabilities> LocalCas::Capabilities() {
  StorageCapabilities capabilities;
  capabilities.flags = CAIRN_STORAGE_INSTANCES | CAIRN_STORAGE_UPLOADS | CAIRN_STORAGE_ASSETS |
                       CAIRN_STORAGE_LOCAL_FILES;
  return capabilities;  // no limits
}

StatusOr<UploadStatus> LocalCas::UploadWrite(const std::string& upload_id, const Digest& expected,
                                             uint64_t offset, std::string_view data, bool finish) {
  LeaseScope scope(*leases_);
  return uploads_->Write(upload_id, expected, offset, data, finish);
}

StatusOr<UploadStatus> LocalCas::QueryUpload(const std::string& upload_id, const Digest& expected) {
  LeaseScope scope(*leases_);
  return uploads_->Query(upload_id, expected);
}

Status LocalCas::AbortUpload(const std::string& upload_id) {
  LeaseScope scope(*leases_);
  return uploads_->Abort(upload_id);
}

Status LocalCas::PushAsset(AssetKind kind, const AssetPushRequest& request) {
  LeaseScope scope(*leases_);
  return assets_->Push(kind, request);
}

StatusOr<AssetFetchResponse> LocalCas::FetchAsset(AssetKind kind,
                                                  const AssetFetchRequest& request) {
  LeaseScope scope(*leases_);
  return assets_->Fetch(kind, request);
}

Status LocalCas::RemoveAsset(AssetKind kind, const AssetFetchRequest& request) {
  LeaseScope scope(*leases_);
  return assets_->Remove(kind, request);
}

}  // namespace cairn::cas_local
