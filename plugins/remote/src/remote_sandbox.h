// The remote sandbox: a Cairn sandbox whose Actions run on a REAPI v2
// server.
//
// The same Action as bwrap or chroot gets, the same ActionResult back, with
// every output in the host's store. For each Action: GetActionResult
// (unless do_not_cache or the caller skips the cache); the input tree, the
// Command and the Action uploaded where the server lacks them (one
// FindMissingBlobs over all of it, then batches and ByteStream); Execute,
// following the operation through the recoveries of ExecutionClient; the
// outputs fetched into the host's store. A cached result whose blobs the
// server has lost is a miss. Nothing runs interactively here: `cairn shell`
// uses the local sandbox.
//
// Options (the user configuration's `remote-execution` section arrives
// here as they are; see README "Remote execution"):
//   url, instance-name, server-cert, client-cert, client-key, access-token,
//   connection-config   the execution endpoint, which is also the CAS and
//                       the action cache unless:
//   storage-service     an endpoint (same keys) for the CAS
//   action-cache-service an endpoint (same keys) for the action cache
//   platform-properties names of the Action's platform properties passed to
//                       the server (default OSFamily, ISA); an Action with
//                       any other property is refused before anything is
//                       sent
//   execution-timeout   seconds one Action may take, all recoveries
//                       included (default: the Action's timeout plus 10
//                       minutes when it has one, else no limit)
#ifndef CAIRN_PLUGINS_REMOTE_REMOTE_SANDBOX_H
#define CAIRN_PLUGINS_REMOTE_REMOTE_SANDBOX_H

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "cairn/host_services.h"
#include "cairn/remote_client/action_cache_client.h"
#include "cairn/remote_client/cas_client.h"
#include "cairn/remote_client/execution_client.h"
#include "cairn/remote_client/remote_connection.h"
#include "cairn/sandbox.h"

namespace cairn {

class RemoteSandbox : public Sandbox {
 public:
  static StatusOr<std::unique_ptr<Sandbox>> Create(const HostServices& host,
                                                   std::string_view options_yaml);

  StatusOr<SandboxCapabilities> Capabilities() override;
  ExecuteOutcome Execute(const Action& action, const ExecuteOptions& options) override;
  StatusOr<int> RunInteractive(const Action& action, const InteractiveOptions& options) override;

 private:
  struct Endpoints {
    std::shared_ptr<remote_client::RemoteConnection> execution, storage, action_cache;
  };
  RemoteSandbox(HostServices host, Endpoints endpoints, std::set<std::string> platform_properties,
                std::chrono::seconds execution_timeout);

  // GetCapabilities of the execution endpoint, once: it must execute and
  // take SHA256.
  Status CheckExecutionEndpoint();
  Status CheckPlatform(const Action& action) const;
  // The ActionResult of `action`, executed or from a cache, with its
  // outputs in the host's store.
  ExecuteOutcome Run(const Action& action, const ExecuteOptions& options, Storage& local);
  // The cached result, fetched, when there is one whose blobs are all
  // still there.
  StatusOr<std::optional<ActionResult>> Lookup(const Digest& action, const std::string& action_id,
                                               const ExecuteOptions& options, Storage& local);
  void Report(const ExecuteOptions& options, ExecuteStage stage, const std::string& operation,
              const std::string& message) const;

  HostServices host_;
  Endpoints endpoints_;
  std::set<std::string> platform_properties_;
  std::chrono::seconds execution_timeout_;  // 0 = from the Action
  remote_client::CasClient cas_;
  // GetCapabilities of the execution endpoint when it is not the CAS's
  // (else cas_ asks, once for both).
  std::unique_ptr<remote_client::CasClient> execution_capabilities_;
  remote_client::ActionCacheClient action_cache_;
  remote_client::ExecutionClient execution_;
  std::mutex mutex_;
  std::optional<Status> execution_checked_;
};

}  // namespace cairn

#endif  // CAIRN_PLUGINS_REMOTE_REMOTE_SANDBOX_H
