// cairn/remote_client/asset_client.h — a Remote Asset server of one
// instance: naming content by URI and qualifiers, and finding it again.
//
// The requests are the store's (cairn/storage.h: the Blob messages stand
// for the Directory ones too, AssetKind says which), so what a local store
// holds can be named on a server with the same request. Calls go through
// the connection's Retrier; errors carry the server's code and details,
// prefixed with its URL. Thread-safe.
#ifndef CAIRN_REMOTE_CLIENT_ASSET_CLIENT_H
#define CAIRN_REMOTE_CLIENT_ASSET_CLIENT_H

#include <memory>
#include <optional>

#include "build/bazel/remote/asset/v1/remote_asset.grpc.pb.h"
#include "cairn/remote_client/remote_connection.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::remote_client {

class AssetClient {
 public:
  using FetchStub = build::bazel::remote::asset::v1::Fetch::StubInterface;
  using PushStub = build::bazel::remote::asset::v1::Push::StubInterface;

  explicit AssetClient(const std::shared_ptr<RemoteConnection>& connection);
  AssetClient(std::shared_ptr<RemoteConnection> connection, std::unique_ptr<FetchStub> fetch,
              std::unique_ptr<PushStub> push);

  // What the server has under the request's URIs and qualifiers (for a
  // directory, its root in blob_digest), or nullopt when it has nothing
  // (NOT_FOUND, as the call's status or the response's).
  StatusOr<std::optional<AssetFetchResponse>> Fetch(AssetKind kind, AssetFetchRequest request);
  // Names the request's content; the server keeps what it references.
  // A request without an instance name (both calls) goes to the
  // connection's instance.
  Status Push(AssetKind kind, AssetPushRequest request);

 private:
  std::shared_ptr<RemoteConnection> connection_;
  std::unique_ptr<FetchStub> fetch_;
  std::unique_ptr<PushStub> push_;
};

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_ASSET_CLIENT_H
