// InMemoryStorage: the operations ABI 1.1 added (capabilities, resumable
// uploads, assets) and the tree walk the assets need.
#include <google/protobuf/util/time_util.h>

#include <set>
#include <vector>

#include "asset_index.h"
#include "cairn/merkle.h"
#include "cairn/status_details.h"
#include "cairn/testing/in_memory_storage.h"

namespace cairn::testing {
namespace {

google::protobuf::Timestamp Now() { return google::protobuf::util::TimeUtil::GetCurrentTime(); }

Status CheckKind(AssetKind kind) {
  if (kind == AssetKind::kBlob || kind == AssetKind::kDirectory) return Status::Ok();
  return InvalidArgument("unknown asset kind " + std::to_string(static_cast<int>(kind)));
}

}  // namespace

void InMemoryStorage::VisitTreeLocked(
    const Digest& root, const std::function<void(const Digest&, bool present)>& visit) const {
  std::set<std::string> seen;
  std::vector<Digest> pending{root};
  while (!pending.empty()) {
    Digest digest = pending.back();
    pending.pop_back();
    if (!seen.insert(DigestToString(digest)).second) continue;
    auto found = blobs_.find(DigestToString(digest));
    bool present = found != blobs_.end() || IsEmptyDigest(digest);
    visit(digest, present);
    Directory directory;
    if (found == blobs_.end() || !directory.ParseFromString(found->second.bytes)) continue;
    for (const FileNode& file : directory.files()) {
      if (seen.insert(DigestToString(file.digest())).second) {
        visit(file.digest(),
              IsEmptyDigest(file.digest()) || blobs_.count(DigestToString(file.digest())) > 0);
      }
    }
    for (const DirectoryNode& child : directory.directories()) pending.push_back(child.digest());
  }
}

std::vector<Digest> InMemoryStorage::MissingInTreeLocked(const Digest& root) const {
  std::vector<Digest> missing;
  VisitTreeLocked(root, [&](const Digest& digest, bool present) {
    if (!present) missing.push_back(digest);
  });
  return missing;
}

StatusOr<StorageCapabilities> InMemoryStorage::Capabilities() {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kCapabilities));
  return capabilities_;
}

// --- Resumable uploads.

StatusOr<UploadStatus> InMemoryStorage::UploadWrite(const std::string& upload_id,
                                                    const Digest& expected, uint64_t offset,
                                                    std::string_view data, bool finish) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kUploadWrite));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(expected));
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t size = static_cast<uint64_t>(expected.size_bytes());
  if (IsEmptyDigest(expected) || blobs_.count(DigestToString(expected)) > 0) {
    uploads_.erase(upload_id);
    return UploadStatus{size, true};
  }
  Upload& upload = uploads_[upload_id];
  if (upload.data.empty()) upload.expected = expected;
  if (upload.expected != expected) {
    return InvalidArgument("upload '" + upload_id + "' is of " + DigestToString(upload.expected) +
                           ", not " + DigestToString(expected));
  }
  if (offset != upload.data.size()) {
    return InvalidArgument("upload '" + upload_id + "' has " + std::to_string(upload.data.size()) +
                           " bytes committed; a write at offset " + std::to_string(offset) +
                           " does not continue it");
  }
  upload.data.append(data.data(), data.size());
  if (!finish) return UploadStatus{upload.data.size(), false};
  std::string content = std::move(upload.data);
  uploads_.erase(upload_id);
  Status checked = CheckWrite(content, expected, DigestOfBytes(content));
  if (!checked.ok()) return checked.WithContext("upload '" + upload_id + "' was discarded");
  StoreLocked(content);
  return UploadStatus{size, true};
}

StatusOr<UploadStatus> InMemoryStorage::QueryUpload(const std::string& upload_id,
                                                    const Digest& expected) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kQueryUpload));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(expected));
  std::lock_guard<std::mutex> lock(mutex_);
  if (IsEmptyDigest(expected) || blobs_.count(DigestToString(expected)) > 0) {
    return UploadStatus{static_cast<uint64_t>(expected.size_bytes()), true};
  }
  auto found = uploads_.find(upload_id);
  if (found == uploads_.end()) return UploadStatus{};
  return UploadStatus{found->second.data.size(), false};
}

Status InMemoryStorage::AbortUpload(const std::string& upload_id) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kAbortUpload));
  std::lock_guard<std::mutex> lock(mutex_);
  uploads_.erase(upload_id);
  return Status::Ok();
}

// --- Assets.

Status InMemoryStorage::PushAsset(AssetKind kind, const AssetPushRequest& request) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kPushAsset));
  CAIRN_RETURN_IF_ERROR(CheckKind(kind));
  if (request.uris().empty()) return BadRequestError("uris", "at least one URI is required");
  CAIRN_RETURN_IF_ERROR(ValidateDigest(request.blob_digest()));
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Digest> missing;
  auto add_missing = [&](const Digest& digest, bool directory) {
    if (directory) {
      for (const Digest& below : MissingInTreeLocked(digest)) missing.push_back(below);
    } else if (!IsEmptyDigest(digest) && blobs_.count(DigestToString(digest)) == 0) {
      missing.push_back(digest);
    }
  };
  add_missing(request.blob_digest(), kind == AssetKind::kDirectory);
  for (const Digest& blob : request.references_blobs()) add_missing(blob, false);
  for (const Digest& tree : request.references_directories()) add_missing(tree, true);
  if (!missing.empty()) {
    return MissingBlobsError(
        "cannot push asset " + request.uris(0) + ": what it names is not all in the store",
        missing);
  }
  assets_->Push(kind, request, Now());
  return Status::Ok();
}

StatusOr<AssetFetchResponse> InMemoryStorage::FetchAsset(AssetKind kind,
                                                         const AssetFetchRequest& request) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kFetchAsset));
  CAIRN_RETURN_IF_ERROR(CheckKind(kind));
  std::lock_guard<std::mutex> lock(mutex_);
  auto present = [this](AssetKind content_kind, const Digest& digest) {
    if (content_kind == AssetKind::kDirectory) return MissingInTreeLocked(digest).empty();
    return IsEmptyDigest(digest) || blobs_.count(DigestToString(digest)) > 0;
  };
  return assets_->Fetch(kind, request, Now(), present);
}

Status InMemoryStorage::RemoveAsset(AssetKind kind, const AssetFetchRequest& request) {
  CAIRN_RETURN_IF_ERROR(hooks_.Enter(StorageOp::kRemoveAsset));
  CAIRN_RETURN_IF_ERROR(CheckKind(kind));
  std::lock_guard<std::mutex> lock(mutex_);
  assets_->Remove(kind, request);
  return Status::Ok();
}

}  // namespace cairn::testing
