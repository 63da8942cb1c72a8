// asset_store.h — Remote Asset's qualified names, under assets/.
//
// An asset maps (instance name, kind, URI, qualifiers) to content: a blob,
// or a directory tree by its root Directory. One record per URI: the file
// assets/<blob|directory>/<2 hex>/<62 hex>, named by the SHA-256 of the
// instance, URI and qualifiers sorted by name, holding a PushBlobRequest
// with that one URI, the sorted qualifiers, expire_at, the content digest
// and the references. The record's mtime is its push time, which
// oldest_content_accepted is compared with.
//
// Push refuses duplicate qualifier names (INVALID_ARGUMENT with a
// BadRequest naming "qualifiers"), a request without URIs ("uris") or
// without a valid content digest. It checks that the content and every
// references_blobs / references_directories entry are present, directories
// with their whole trees, refreshing their LRU signal; anything missing is
// FAILED_PRECONDITION with a PreconditionFailure listing every missing blob
// (MissingBlobsError). Then, as the action cache does, one syncfs makes the
// objects durable before the records are written atomically (temp, fsync,
// rename), replacing earlier records of the same key.
//
// Fetch returns the first URI, in request order, whose record has exactly
// the request's qualifiers, is not expired, was pushed at or after
// oldest_content_accepted and whose content (a directory: its whole tree)
// is still present; NOT_FOUND otherwise. Remove forgets the records of
// every URI (an unknown one is fine).
//
// LiveHashes gives the garbage collector what assets keep alive: for every
// unexpired record, its content, its references_blobs and the whole trees
// of directory content and references_directories. Thread-safe; several
// processes may share a store (last writer of a record wins).
#ifndef CAIRN_CAS_LOCAL_ASSET_STORE_H
#define CAIRN_CAS_LOCAL_ASSET_STORE_H

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "cairn/storage.h"
#include "object_store.h"

namespace cairn::cas_local {

class AssetStore {
 public:
  // `root` is the store directory; assets/ is created under it.
  static StatusOr<std::unique_ptr<AssetStore>> Open(const std::string& root, ObjectStore& objects);

  Status Push(AssetKind kind, const AssetPushRequest& request);
  StatusOr<AssetFetchResponse> Fetch(AssetKind kind, const AssetFetchRequest& request);
  Status Remove(AssetKind kind, const AssetFetchRequest& request);

  // Object hashes that unexpired assets keep alive (see above).
  StatusOr<std::unordered_set<std::string>> LiveHashes();
  StatusOr<uint64_t> Count();

 private:
  AssetStore(ObjectStore& objects) : objects_(objects) {}
  // Adds every blob of the tree at `root` that is absent to `missing` (an
  // absent or unparsable Directory stands for its whole subtree) and, with `live`, every
  // present one's hash to `live`. `touch` refreshes the LRU signal of what
  // is present.
  Status VisitTree(const Digest& root, bool touch, std::vector<Digest>* missing,
                   std::unordered_set<std::string>* live);
  // The content and references of `record` that are absent.
  StatusOr<std::vector<Digest>> MissingFor(AssetKind kind, const AssetPushRequest& record);
  StatusOr<bool> ContentPresent(AssetKind kind, const Digest& content);

  UniqueFd assets_fd_;
  ObjectStore& objects_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_ASSET_STORE_H
