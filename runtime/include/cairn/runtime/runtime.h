// cairn/host/host_runtime.h — the plugins a command is running with.
//
// Owns the open store and sandbox instances for one `cairn` invocation, and
// the cairn_host_services table each plugin gets: logging into spdlog under
// the plugin's name, the process-wide cancellation flag, and the active
// store (re-exported through the ABI, so a sandbox plugin never links a
// storage plugin). Instances keep their plugin library loaded until they
// are destroyed; the runtime destroys sandboxes before the store they use.
#ifndef CAIRN_HOST_HOST_RUNTIME_H
#define CAIRN_HOST_HOST_RUNTIME_H

#include <map>
#include <memory>
#include <string>

#include "cairn/host/config.h"
#include "cairn/host/plugin_registry.h"
#include "cairn/plugin.h"
#include "cairn/sandbox.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn {

class HostRuntime {
 public:
  HostRuntime(const Config& config, const PluginRegistry& registry);
  ~HostRuntime();
  HostRuntime(const HostRuntime&) = delete;
  HostRuntime& operator=(const HostRuntime&) = delete;

  // Opens the configured storage plugin once. Errors from the plugin's
  // options name the configuration file, line and column.
  StatusOr<std::shared_ptr<Storage>> OpenStorage();
  // Creates the named sandbox (configured one when empty) once.
  StatusOr<std::shared_ptr<Sandbox>> OpenSandbox(const std::string& name);

 private:
  struct PluginContext;  // what a plugin's `host` pointer points at
  PluginContext* NewContext(const std::string& plugin_name, bool with_cas);
  // <cache-dir>/scratch, created on first use: on the store's filesystem
  // when the store lives in the cache, so sandboxes can hardlink from it.
  Status PrepareScratchDir();

  const Config& config_;
  const PluginRegistry& registry_;
  std::string scratch_dir_;
  // Declared so that destruction runs sandboxes, then the store they use,
  // then the contexts both were given.
  std::vector<std::unique_ptr<PluginContext>> contexts_;
  std::shared_ptr<Storage> storage_;
  std::map<std::string, std::shared_ptr<Sandbox>> sandboxes_;
};

}  // namespace cairn

#endif  // CAIRN_HOST_HOST_RUNTIME_H
