// cairn/remote_client/action_cache_client.h — a remote action cache of one
// instance: looking up and recording ActionResults.
//
// Errors carry the remote's code and details, prefixed with its URL; every
// call goes through the connection's Retrier. Thread-safe.
#ifndef CAIRN_REMOTE_CLIENT_ACTION_CACHE_CLIENT_H
#define CAIRN_REMOTE_CLIENT_ACTION_CACHE_CLIENT_H

#include <memory>
#include <optional>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/digest.h"
#include "cairn/remote_client/remote_connection.h"
#include "cairn/status.h"

namespace cairn::remote_client {

class ActionCacheClient {
 public:
  using Stub = build::bazel::remote::execution::v2::ActionCache::StubInterface;
  using ActionResult = build::bazel::remote::execution::v2::ActionResult;

  explicit ActionCacheClient(const std::shared_ptr<RemoteConnection>& connection);
  ActionCacheClient(std::shared_ptr<RemoteConnection> connection, std::unique_ptr<Stub> stub);

  // The cached result of `action`, or nullopt when the cache has none
  // (NOT_FOUND). `action_id` goes into RequestMetadata.
  StatusOr<std::optional<ActionResult>> Get(const Digest& action, const std::string& action_id,
                                            const Retrier::Cancelled& cancelled = {});
  // Records `result` for `action`; PERMISSION_DENIED when the server lets
  // nobody (or not us) write.
  Status Update(const Digest& action, const ActionResult& result, const std::string& action_id);

 private:
  std::shared_ptr<RemoteConnection> connection_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_ACTION_CACHE_CLIENT_H
