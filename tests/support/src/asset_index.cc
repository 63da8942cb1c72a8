#include "asset_index.h"

#include <algorithm>
#include <utility>

namespace cairn::testing {
namespace {

using Qualifier = build::bazel::remote::asset::v1::Qualifier;
using Timestamp = google::protobuf::Timestamp;

bool Before(const Timestamp& a, const Timestamp& b) {
  return a.seconds() != b.seconds() ? a.seconds() < b.seconds() : a.nanos() < b.nanos();
}

bool IsSet(const Timestamp& t) { return t.seconds() != 0 || t.nanos() != 0; }

}  // namespace

// Qualifiers are a set: their order in a request does not matter.
template <typename Request>
std::string AssetIndex::Key(AssetKind kind, const Request& request, const std::string& uri) const {
  std::vector<std::pair<std::string, std::string>> qualifiers;
  for (const Qualifier& q : request.qualifiers()) qualifiers.emplace_back(q.name(), q.value());
  std::sort(qualifiers.begin(), qualifiers.end());
  std::string key = separate_instances_ ? request.instance_name() : std::string();
  // Fields separated by NUL; a qualifier's name is length-prefixed so that
  // no two different sets give the same key.
  key.append(1, '\0').append(std::to_string(static_cast<int>(kind))).append(1, '\0').append(uri);
  for (const auto& [name, value] : qualifiers) {
    key.append(1, '\0').append(std::to_string(name.size())).append(1, ':');
    key.append(name).append(value);
  }
  return key;
}

void AssetIndex::Push(AssetKind kind, const AssetPushRequest& request, const Timestamp& now) {
  for (const std::string& uri : request.uris()) {
    assets_[Key(kind, request, uri)] = Asset{kind, request, now};
  }
}

StatusOr<AssetFetchResponse> AssetIndex::Fetch(AssetKind kind, const AssetFetchRequest& request,
                                               const Timestamp& now,
                                               const ContentPresent& present) const {
  for (const std::string& uri : request.uris()) {
    auto found = assets_.find(Key(kind, request, uri));
    if (found == assets_.end()) continue;
    const Asset& asset = found->second;
    if (IsSet(asset.request.expire_at()) && Before(asset.request.expire_at(), now)) continue;
    if (request.has_oldest_content_accepted() &&
        Before(asset.pushed_at, request.oldest_content_accepted())) {
      continue;
    }
    if (!present(kind, asset.request.blob_digest())) continue;
    AssetFetchResponse response;
    response.mutable_status()->set_code(0);
    response.set_uri(uri);
    *response.mutable_qualifiers() = request.qualifiers();
    if (IsSet(asset.request.expire_at()))
      *response.mutable_expires_at() = asset.request.expire_at();
    *response.mutable_blob_digest() = asset.request.blob_digest();
    return response;
  }
  std::string uris;
  for (const std::string& uri : request.uris()) uris += (uris.empty() ? "" : ", ") + uri;
  return NotFound("no asset is mapped for " + (uris.empty() ? std::string("no URI") : uris) +
                  " with these qualifiers");
}

void AssetIndex::Remove(AssetKind kind, const AssetFetchRequest& request) {
  for (const std::string& uri : request.uris()) assets_.erase(Key(kind, request, uri));
}

void AssetIndex::ForEachKeptAlive(const KeptAliveVisitor& visit) const {
  for (const auto& [key, asset] : assets_) {
    visit(asset.request.blob_digest(), asset.kind == AssetKind::kDirectory);
    for (const Digest& blob : asset.request.references_blobs()) visit(blob, false);
    for (const Digest& tree : asset.request.references_directories()) visit(tree, true);
  }
}

}  // namespace cairn::testing
