#include "asset_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <utility>

#include "action_caches.h"
#include "cairn/status_details.h"
#include "file_util.h"

namespace cairn::cas_local {
namespace {

using build::bazel::remote::asset::v1::Qualifier;
using build::bazel::remote::execution::v2::Directory;
using Qualifiers = google::protobuf::RepeatedPtrField<Qualifier>;
using TimePoint = std::pair<int64_t, int64_t>;  // seconds, nanoseconds

const char* KindDirectory(AssetKind kind) {
  return kind == AssetKind::kBlob ? "blob" : "directory";
}

const char* ContentField(AssetKind kind) {
  return kind == AssetKind::kBlob ? "blob_digest" : "root_directory_digest";
}

TimePoint PointOf(const google::protobuf::Timestamp& timestamp) {
  return {timestamp.seconds(), timestamp.nanos()};
}

TimePoint PointOf(const struct timespec& time) { return {time.tv_sec, time.tv_nsec}; }

TimePoint Now() {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return PointOf(now);
}

// Sorted by name; a name given twice is the client's mistake.
StatusOr<Qualifiers> SortedQualifiers(const Qualifiers& given) {
  Qualifiers sorted(given);
  std::sort(sorted.begin(), sorted.end(),
            [](const Qualifier& a, const Qualifier& b) { return a.name() < b.name(); });
  for (int i = 1; i < sorted.size(); ++i) {
    if (sorted[i].name() == sorted[i - 1].name()) {
      return BadRequestError("qualifiers",
                             "the qualifier '" + sorted[i].name() + "' is given more than once");
    }
  }
  return sorted;
}

// What names a record: instance, one URI, sorted qualifiers.
std::string KeyBytes(const std::string& instance, const std::string& uri,
                     const Qualifiers& sorted) {
  AssetPushRequest key;
  key.set_instance_name(instance);
  key.add_uris(uri);
  *key.mutable_qualifiers() = sorted;
  return key.SerializeAsString();
}

std::string RecordPath(AssetKind kind, const std::string& key_bytes) {
  return std::string(KindDirectory(kind)) + "/" +
         ObjectStore::RelativePath(DigestOfBytes(key_bytes).hash());
}

std::string Describe(AssetKind kind, const google::protobuf::RepeatedPtrField<std::string>& uris) {
  std::string text = std::string(KindDirectory(kind)) + " asset";
  for (const std::string& uri : uris) text += (&uri == &uris[0] ? " " : ", ") + uri;
  return text;
}

Status CheckUris(const google::protobuf::RepeatedPtrField<std::string>& uris) {
  if (uris.empty()) return BadRequestError("uris", "at least one URI is required");
  for (const std::string& uri : uris) {
    if (uri.empty()) return BadRequestError("uris", "a URI must not be empty");
  }
  return Status::Ok();
}

Status CheckDigests(const char* field, const google::protobuf::RepeatedPtrField<Digest>& digests) {
  for (const Digest& digest : digests) {
    Status valid = ValidateDigest(digest);
    if (!valid.ok()) return BadRequestError(field, valid.message());
  }
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<AssetStore>> AssetStore::Open(const std::string& root,
                                                       ObjectStore& objects) {
  std::unique_ptr<AssetStore> assets(new AssetStore(objects));
  for (AssetKind kind : {AssetKind::kBlob, AssetKind::kDirectory}) {
    CAIRN_RETURN_IF_ERROR(EnsureDirectory(root + "/assets/" + KindDirectory(kind)));
  }
  CAIRN_ASSIGN_OR_RETURN(assets->assets_fd_, OpenDirectory(AT_FDCWD, root + "/assets"));
  return assets;
}

Status AssetStore::VisitTree(const Digest& root, bool touch, std::vector<Digest>* missing,
                             std::unordered_set<std::string>* live) {
  std::vector<Digest> directories = {root};
  std::unordered_set<std::string> seen = {root.hash()};
  // Present (and refreshed) or not; a malformed digest counts as absent.
  auto present = [&](const Digest& digest) {
    StatusOr<bool> found = objects_.Contains(digest, touch);
    bool ok = found.ok() && *found;
    if (!ok && missing != nullptr) missing->push_back(digest);
    if (ok && live != nullptr) live->insert(digest.hash());
    return ok;
  };
  for (size_t next = 0; next < directories.size(); ++next) {
    const Digest digest = directories[next];
    if (!present(digest)) continue;
    StatusOr<std::string> bytes =
        ReadFileAt(objects_.objects_fd(), ObjectStore::RelativePath(digest.hash()));
    Directory directory;
    if (!bytes.ok() || !directory.ParseFromString(*bytes)) {
      // Evicted meanwhile, or not a Directory: its subtree cannot be known.
      if (missing != nullptr) missing->push_back(digest);
      continue;
    }
    for (const auto& file : directory.files()) {
      if (seen.insert(file.digest().hash()).second) present(file.digest());
    }
    for (const auto& child : directory.directories()) {
      if (seen.insert(child.digest().hash()).second) directories.push_back(child.digest());
    }
  }
  return Status::Ok();
}

StatusOr<std::vector<Digest>> AssetStore::MissingFor(AssetKind kind,
                                                     const AssetPushRequest& record) {
  std::vector<Digest> missing;
  auto blob = [&](const Digest& digest) -> Status {
    CAIRN_ASSIGN_OR_RETURN(bool present, objects_.Contains(digest, /*force_touch=*/true));
    if (!present) missing.push_back(digest);
    return Status::Ok();
  };
  if (kind == AssetKind::kBlob) {
    CAIRN_RETURN_IF_ERROR(blob(record.blob_digest()));
  } else {
    CAIRN_RETURN_IF_ERROR(VisitTree(record.blob_digest(), true, &missing, nullptr));
  }
  for (const Digest& digest : record.references_blobs()) CAIRN_RETURN_IF_ERROR(blob(digest));
  for (const Digest& root : record.references_directories()) {
    CAIRN_RETURN_IF_ERROR(VisitTree(root, true, &missing, nullptr));
  }
  // Each missing blob once, in the order first found.
  std::vector<Digest> distinct;
  std::unordered_set<std::string> listed;
  for (Digest& digest : missing) {
    if (listed.insert(DigestToString(digest)).second) distinct.push_back(std::move(digest));
  }
  return distinct;
}

StatusOr<bool> AssetStore::ContentPresent(AssetKind kind, const Digest& content) {
  if (kind == AssetKind::kBlob) return objects_.Contains(content);
  std::vector<Digest> missing;
  CAIRN_RETURN_IF_ERROR(VisitTree(content, false, &missing, nullptr));
  return missing.empty();
}

Status AssetStore::Push(AssetKind kind, const AssetPushRequest& request) {
  CAIRN_RETURN_IF_ERROR(ValidateInstanceName(request.instance_name()));
  CAIRN_RETURN_IF_ERROR(CheckUris(request.uris()));
  CAIRN_ASSIGN_OR_RETURN(Qualifiers sorted, SortedQualifiers(request.qualifiers()));
  if (!request.has_blob_digest()) {
    return BadRequestError(ContentField(kind), "the content's digest is required");
  }
  Status valid = ValidateDigest(request.blob_digest());
  if (!valid.ok()) return BadRequestError(ContentField(kind), valid.message());
  CAIRN_RETURN_IF_ERROR(CheckDigests("references_blobs", request.references_blobs()));
  CAIRN_RETURN_IF_ERROR(CheckDigests("references_directories", request.references_directories()));

  AssetPushRequest record = request;
  record.clear_digest_function();
  *record.mutable_qualifiers() = sorted;
  CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> missing, MissingFor(kind, record));
  if (!missing.empty()) {
    return MissingBlobsError(Describe(kind, request.uris()) + " names " +
                                 std::to_string(missing.size()) +
                                 " blobs that are not in the store",
                             missing);
  }
  CAIRN_RETURN_IF_ERROR(objects_.SyncToDisk());
  for (const std::string& uri : request.uris()) {
    record.clear_uris();
    record.add_uris(uri);
    std::string path = RecordPath(kind, KeyBytes(request.instance_name(), uri, sorted));
    Status written = WriteFileAtomically(assets_fd_.get(), path, record.SerializeAsString());
    if (!written.ok()) return written.WithContext("recording " + Describe(kind, record.uris()));
  }
  return Status::Ok();
}

StatusOr<AssetFetchResponse> AssetStore::Fetch(AssetKind kind, const AssetFetchRequest& request) {
  CAIRN_RETURN_IF_ERROR(ValidateInstanceName(request.instance_name()));
  CAIRN_RETURN_IF_ERROR(CheckUris(request.uris()));
  CAIRN_ASSIGN_OR_RETURN(Qualifiers sorted, SortedQualifiers(request.qualifiers()));
  const TimePoint now = Now();
  for (const std::string& uri : request.uris()) {
    std::string key = KeyBytes(request.instance_name(), uri, sorted);
    struct stat info;
    StatusOr<std::string> bytes = ReadFileAt(assets_fd_.get(), RecordPath(kind, key), &info);
    if (!bytes.ok()) {
      if (bytes.status().code() == Code::kNotFound) continue;
      return bytes.status().WithContext("reading " + Describe(kind, request.uris()));
    }
    AssetPushRequest record;
    // A record that does not parse, or (a hash collision) of another key,
    // is no match.
    if (!record.ParseFromString(*bytes) || record.uris_size() != 1 ||
        KeyBytes(record.instance_name(), record.uris(0), record.qualifiers()) != key) {
      continue;
    }
    if (record.has_expire_at() && PointOf(record.expire_at()) <= now) continue;
    if (request.has_oldest_content_accepted() &&
        PointOf(info.st_mtim) < PointOf(request.oldest_content_accepted())) {
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(bool present, ContentPresent(kind, record.blob_digest()));
    if (!present) continue;
    AssetFetchResponse response;
    response.mutable_status()->set_code(0);
    response.set_uri(uri);
    *response.mutable_qualifiers() = record.qualifiers();
    if (record.has_expire_at()) *response.mutable_expires_at() = record.expire_at();
    *response.mutable_blob_digest() = record.blob_digest();
    return response;
  }
  return NotFound("no " + Describe(kind, request.uris()) + " with these " +
                  std::to_string(sorted.size()) + " qualifiers in instance '" +
                  request.instance_name() + "'");
}

Status AssetStore::Remove(AssetKind kind, const AssetFetchRequest& request) {
  CAIRN_RETURN_IF_ERROR(ValidateInstanceName(request.instance_name()));
  CAIRN_RETURN_IF_ERROR(CheckUris(request.uris()));
  CAIRN_ASSIGN_OR_RETURN(Qualifiers sorted, SortedQualifiers(request.qualifiers()));
  for (const std::string& uri : request.uris()) {
    std::string path = RecordPath(kind, KeyBytes(request.instance_name(), uri, sorted));
    if (::unlinkat(assets_fd_.get(), path.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoStatus("remove", Describe(kind, request.uris()), errno);
    }
  }
  return Status::Ok();
}

StatusOr<std::unordered_set<std::string>> AssetStore::LiveHashes() {
  std::unordered_set<std::string> live;
  const TimePoint now = Now();
  for (AssetKind kind : {AssetKind::kBlob, AssetKind::kDirectory}) {
    CAIRN_ASSIGN_OR_RETURN(UniqueFd kind_fd, OpenDirectory(assets_fd_.get(), KindDirectory(kind)));
    std::vector<AssetPushRequest> records;
    CAIRN_RETURN_IF_ERROR(ForEachEntryInShards(
        kind_fd.get(), [&](const std::string&, int shard_fd, const std::string& name) {
          StatusOr<std::string> bytes = ReadFileAt(shard_fd, name);
          AssetPushRequest record;
          if (!bytes.ok() || !record.ParseFromString(*bytes)) return;
          if (record.has_expire_at() && PointOf(record.expire_at()) <= now) return;
          records.push_back(std::move(record));
        }));
    for (const AssetPushRequest& record : records) {
      if (kind == AssetKind::kBlob) {
        live.insert(record.blob_digest().hash());
      } else {
        CAIRN_RETURN_IF_ERROR(VisitTree(record.blob_digest(), false, nullptr, &live));
      }
      for (const Digest& digest : record.references_blobs()) live.insert(digest.hash());
      for (const Digest& root : record.references_directories()) {
        CAIRN_RETURN_IF_ERROR(VisitTree(root, false, nullptr, &live));
      }
    }
  }
  return live;
}

StatusOr<uint64_t> AssetStore::Count() {
  uint64_t count = 0;
  for (AssetKind kind : {AssetKind::kBlob, AssetKind::kDirectory}) {
    CAIRN_ASSIGN_OR_RETURN(UniqueFd kind_fd, OpenDirectory(assets_fd_.get(), KindDirectory(kind)));
    CAIRN_RETURN_IF_ERROR(ForEachEntryInShards(
        kind_fd.get(), [&](const std::string&, int, const std::string&) { ++count; }));
  }
  return count;
}

}  // namespace cairn::cas_local
