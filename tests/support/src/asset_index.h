// asset_index.h — Remote Asset mappings held in memory (InMemoryStorage's
// PushAsset / FetchAsset / RemoveAsset), with the semantics cairn/plugin.h
// gives push_asset, fetch_asset and remove_asset.
//
// A mapping is (instance, kind, URI, qualifiers as a set) -> content, with
// an expiry and the blobs and directories it keeps alive. The index knows
// nothing of the blobs: the caller checks presence. Not thread-safe; the
// owner locks.
#ifndef CAIRN_TESTING_ASSET_INDEX_H
#define CAIRN_TESTING_ASSET_INDEX_H

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cairn/digest.h"
#include "cairn/storage.h"

namespace cairn::testing {

class AssetIndex {
 public:
  using Timestamp = google::protobuf::Timestamp;
  // Whether an asset's content (a blob, or a directory's whole tree) is
  // still in the store.
  using ContentPresent = std::function<bool(AssetKind kind, const Digest& digest)>;
  // Called with each digest an asset keeps alive; is_directory: the whole tree.
  using KeptAliveVisitor = std::function<void(const Digest& digest, bool is_directory)>;

  // With `separate_instances` false, instance names are ignored.
  explicit AssetIndex(bool separate_instances) : separate_instances_(separate_instances) {}

  // Maps every URI of the request; replaces earlier mappings of the same
  // URI and qualifiers. The caller has checked that the content is present.
  void Push(AssetKind kind, const AssetPushRequest& request, const Timestamp& now);
  // The first URI, in the request's order, mapped with exactly its
  // qualifiers, not expired, not older than oldest_content_accepted, and
  // whose content is present. NOT_FOUND naming the URIs otherwise.
  StatusOr<AssetFetchResponse> Fetch(AssetKind kind, const AssetFetchRequest& request,
                                     const Timestamp& now, const ContentPresent& present) const;
  // Removes the mapping of every URI with exactly the request's qualifiers.
  void Remove(AssetKind kind, const AssetFetchRequest& request);

  void ForEachKeptAlive(const KeptAliveVisitor& visit) const;
  size_t size() const { return assets_.size(); }

 private:
  struct Asset {
    AssetKind kind;
    AssetPushRequest request;  // as pushed, for the response and the references
    Timestamp pushed_at;
  };
  template <typename Request>
  std::string Key(AssetKind kind, const Request& request, const std::string& uri) const;

  bool separate_instances_;
  std::map<std::string, Asset> assets_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_ASSET_INDEX_H
