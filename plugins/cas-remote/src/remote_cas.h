// remote_cas.h — cas-remote: a store whose home is a REAPI server.
//
// Blobs and trees live in the server's CAS, action results in its
// ActionCache, references and assets in its Remote Asset service. Only a
// bounded directory of recently read blobs stays on this machine
// (blob_cache.h), so a build keeps its store on cairn-server (or any REAPI
// server with Remote Asset) without a rebuild of Cairn:
//
//   storage:
//     plugin: cas-remote
//     options:
//       url: grpc://cache.example.com:1985
//       cache-size: 2G
//
// Options (YAML mapping; unknown keys are INVALID_ARGUMENT):
//   url, instance-name, server-cert, client-cert, client-key, access-token,
//   connection-config:  the endpoint, as in the user configuration's
//                       remote endpoints (remote_connection_options.h)
//   cache-path:  the local blob cache (default: <scratch>/cas-remote-cache
//                when the host gives a scratch directory, else
//                $XDG_CACHE_HOME/cairn/cas-remote-cache)
//   cache-size:  its bound in bytes, e.g. "512M" (default 1G), least
//                recently used blobs evicted first
//
// How each operation maps:
//   FindMissing, Contains      FindMissingBlobs (the server's view)
//   ReadBlob, ReadBlobTo*      the cache, else BatchReadBlobs (ByteStream
//                              Read past the batch size) into the cache
//   WriteBlob*                 BatchUpdateBlobs or ByteStream Write, after
//                              FindMissingBlobs; an expected digest that
//                              does not match is INVALID_ARGUMENT
//   StageTree                  the tree's Directories, level by level, and
//                              the files the cache lacks, in batches; then
//                              files copied (or hard-linked) from the cache
//   CaptureTree                hashes the directory in place, uploads what
//                              the server lacks straight from the files
//   Get/UpdateActionResult     ActionCache of the given instance ("" = the
//                              endpoint's instance-name)
//   Get/SetReference           Remote Asset FetchBlob / PushBlob of the URI
//                              "cairn:ref:NAME" naming the digest (the
//                              server must already hold the blob)
//   PushAsset, FetchAsset      Remote Asset Push / Fetch, as given
//   RemoveAsset                UNIMPLEMENTED (Remote Asset has no removal)
//   Verify, CollectGarbage     UNIMPLEMENTED: the server's business
//   Stats                      the local cache's numbers
//   Capabilities               INSTANCES, ASSETS, LOCAL_FILES and REMOTE;
//                              the server's blob and batch limits when
//                              it can be asked
//
// Errors carry the server's code and details, their message prefixed with
// its URL ("grpc://host:1985: UNAVAILABLE: ..."). Thread-safe.
#ifndef CAIRN_CAS_REMOTE_REMOTE_CAS_H
#define CAIRN_CAS_REMOTE_REMOTE_CAS_H

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "blob_cache.h"
#include "cairn/host_services.h"
#include "cairn/remote_client/action_cache_client.h"
#include "cairn/remote_client/asset_client.h"
#include "cairn/remote_client/cas_client.h"
#include "cairn/storage.h"

namespace cairn::cas_remote {

// The URI scheme of references in Remote Asset.
inline constexpr char kReferenceUriPrefix[] = "cairn:ref:";

class RemoteCas : public Storage {
 public:
  static StatusOr<std::unique_ptr<Storage>> Open(const HostServices& host,
                                                 std::string_view options_yaml);

  // Every operation of Storage, mapped as the comment above says.
  CAIRN_STORAGE_OVERRIDES;

 private:
  RemoteCas(HostServices host, std::shared_ptr<remote_client::RemoteConnection> connection,
            std::unique_ptr<BlobCache> cache);
  // Makes sure the blob is in the cache (the caller holds a
  // BlobCache::Hold, which keeps it there).
  Status Fetch(const Digest& digest);
  // Fetch, then the blob opened for reading.
  StatusOr<UniqueFd> OpenFetched(const Digest& digest);
  // Uploads the blob from the cache, where the caller put it.
  StatusOr<Digest> UploadFromCache(const StatusOr<Digest>& cached);
  // The action cache of `instance` ("" = the endpoint's), connected once.
  StatusOr<std::shared_ptr<remote_client::ActionCacheClient>> ActionCacheOf(
      const std::string& instance);
  const std::string& url() const { return connection_->options().url; }
  // Where the bytes of a resumable upload wait for its end: a file in the
  // cache directory named by the upload id's hash (ids are the caller's).
  std::string UploadPath(const std::string& upload_id) const;

  HostServices host_;
  std::shared_ptr<remote_client::RemoteConnection> connection_;
  remote_client::CasClient cas_;
  remote_client::AssetClient assets_;
  std::unique_ptr<BlobCache> cache_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<remote_client::ActionCacheClient>> action_caches_;
  std::mutex uploads_mutex_;  // one resumable write at a time per store
};

}  // namespace cairn::cas_remote

#endif  // CAIRN_CAS_REMOTE_REMOTE_CAS_H
