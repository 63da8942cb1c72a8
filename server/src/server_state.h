// server_state.h — what every service of one Server shares.
//
// The store, the instances with their sandboxes, the limits, the
// authenticator and the metrics. Built once by Server::Start before any
// service runs, then read-only (the members it points at are thread-safe),
// so services hold a reference and need no locking of their own here.
#ifndef CAIRN_SERVER_SERVER_STATE_H
#define CAIRN_SERVER_SERVER_STATE_H

#include <map>
#include <memory>
#include <string>

#include <spdlog/common.h>

#include "auth.h"
#include "cairn/runtime/runtime.h"
#include "cairn/sandbox.h"
#include "cairn/server/server_config.h"
#include "cairn/storage.h"
#include "metrics.h"

namespace cairn::server {

// One REAPI instance name and how it executes.
struct Instance {
  std::string name;
  bool host_tools = false;
  std::shared_ptr<Sandbox> sandbox;  // null: this instance does not execute
  SandboxCapabilities sandbox_capabilities;
};

class ServerState {
 public:
  ServerState(ServerConfig config, std::unique_ptr<Runtime> runtime,
              std::shared_ptr<Storage> storage, StorageCapabilities storage_capabilities,
              std::map<std::string, Instance> instances);
  ~ServerState();

  const ServerConfig& config() const { return config_; }
  const ServerLimits& limits() const { return config_.limits; }
  Storage& storage() { return *storage_; }
  const StorageCapabilities& storage_capabilities() const { return storage_capabilities_; }
  Authenticator& auth() { return auth_; }
  Metrics& metrics() { return metrics_; }
  // The level of the one log line per request.
  spdlog::level::level_enum request_log_level() const { return request_log_level_; }

  // The instance `name`, or INVALID_ARGUMENT "unknown instance name" (with
  // a BadRequest naming `field`) listing the ones served.
  StatusOr<const Instance*> FindInstance(const std::string& name, const std::string& field) const;
  const std::map<std::string, Instance>& instances() const { return instances_; }

  // The largest blob this server accepts (the configuration's and the
  // store's limits combined); 0 = no limit.
  uint64_t max_blob_size() const;

 private:
  ServerConfig config_;
  // Declared before what uses it: sandboxes and the store close first.
  std::unique_ptr<Runtime> runtime_;
  std::shared_ptr<Storage> storage_;
  StorageCapabilities storage_capabilities_;
  std::map<std::string, Instance> instances_;
  Authenticator auth_;
  Metrics metrics_;
  spdlog::level::level_enum request_log_level_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_SERVER_STATE_H
