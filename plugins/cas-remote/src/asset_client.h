// asset_client.h — a remote Remote Asset service (Fetch and Push) of one
// endpoint.
//
// A candidate for remote-client/: nothing here is particular to
// cas-remote. Requests are cairn::Storage's asset messages (the Blob
// layout stands for both kinds, as in cairn/storage.h); a request without
// an instance name goes to the endpoint's instance.
//
// Fetch reports both places the Remote Asset API puts a failure: an RPC
// error, or an OK call whose response.status is not OK (NOT_FOUND when
// nothing matches) — either way as the returned Status, code kept, message
// prefixed with the endpoint's URL. Every call goes through the
// connection's Retrier. Thread-safe.
#ifndef CAIRN_CAS_REMOTE_ASSET_CLIENT_H
#define CAIRN_CAS_REMOTE_ASSET_CLIENT_H

#include <memory>

#include "build/bazel/remote/asset/v1/remote_asset.grpc.pb.h"
#include "cairn/remote_client/remote_connection.h"
#include "cairn/storage.h"

namespace cairn::cas_remote {

class AssetClient {
 public:
  explicit AssetClient(const std::shared_ptr<remote_client::RemoteConnection>& connection);

  StatusOr<AssetFetchResponse> Fetch(AssetKind kind, AssetFetchRequest request);
  Status Push(AssetKind kind, AssetPushRequest request);

 private:
  std::shared_ptr<remote_client::RemoteConnection> connection_;
  std::unique_ptr<build::bazel::remote::asset::v1::Fetch::StubInterface> fetch_;
  std::unique_ptr<build::bazel::remote::asset::v1::Push::StubInterface> push_;
};

}  // namespace cairn::cas_remote

#endif  // CAIRN_CAS_REMOTE_ASSET_CLIENT_H
