// cairn/runtime/runtime.h — the plugins a piece of work runs with.
//
// A Runtime owns the open store and sandbox instances for one user of
// Cairn (a `cairn` command, cairn-server, a test or a benchmark), and the
// cairn_host_services table each plugin gets: logging into spdlog under the
// plugin's name, cancellation (RuntimeOptions.cancellation), the active
// store re-exported through the ABI (so a sandbox plugin never links a
// storage plugin), and the scratch directory. Each plugin is opened once,
// on first use; instances keep their plugin library loaded until they are
// destroyed; the runtime destroys sandboxes before the store they use.
//
// Errors opening a plugin carry the error reason kReasonPlugin
// (cairn/status_details.h), and name the configuration file, line and
// column of its options when those are at fault.
//
// Thread-safe: Open* may be called from several threads; the Storage and
// Sandbox they return are thread-safe.
//
//   auto plugins = std::make_shared<PluginRegistry>(
//       PluginRegistry::OnSearchPath(PluginRegistry::SearchPaths({})));
//   RuntimeOptions options;
//   options.storage = {"cas-local", "path: /tmp/cas\n"};
//   options.build_sandbox = {"bwrap"};
//   Runtime runtime(options, plugins);
//   CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Storage> cas, runtime.OpenStorage());
//   CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Sandbox> sandbox, runtime.BuildSandbox());
#ifndef CAIRN_RUNTIME_RUNTIME_H
#define CAIRN_RUNTIME_RUNTIME_H

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/runtime/plugin_registry.h"
#include "cairn/runtime/runtime_options.h"
#include "cairn/sandbox.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn {

class Runtime {
 public:
  Runtime(RuntimeOptions options, std::shared_ptr<const PluginRegistry> registry);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const RuntimeOptions& options() const { return options_; }

  // The storage plugin of options().storage, opened once.
  StatusOr<std::shared_ptr<Storage>> OpenStorage();
  // The sandbox plugin `name` with its configured options, created once.
  // Opens the store too: sandboxes reach CAS through the host services.
  StatusOr<std::shared_ptr<Sandbox>> OpenSandbox(const std::string& name);
  // The sandbox builds run in (options().build_sandbox).
  StatusOr<std::shared_ptr<Sandbox>> BuildSandbox();
  // A sandbox on this machine for interactive use and checkout integration:
  // options().local_sandbox, else the build sandbox when it does not run
  // remotely, else kDefaultLocalSandbox.
  StatusOr<std::shared_ptr<Sandbox>> LocalSandbox();
  // The name LocalSandbox() chose (after it succeeded), for messages.
  std::string LocalSandboxName() const;

  // A new instance of the sandbox plugin `choice.plugin` created with
  // exactly `choice.options_yaml`, owned by the caller and never shared:
  // for a server running one plugin with different options per instance
  // name, and for tests and benchmarks comparing options. It keeps its
  // plugin loaded, and must be destroyed before the runtime (it uses the
  // runtime's store).
  StatusOr<std::unique_ptr<Sandbox>> CreateSandbox(const PluginChoice& choice);

  // What a plugin's `host` pointer points at (defined in runtime.cc).
  struct PluginContext;

 private:
  PluginContext* NewContext(const PluginRecord& record, bool with_cas);
  StatusOr<std::shared_ptr<Storage>> OpenStorageLocked();
  StatusOr<std::shared_ptr<Sandbox>> OpenSandboxLocked(const std::string& name,
                                                       const PluginChoice* chosen_by);
  StatusOr<std::unique_ptr<Sandbox>> NewSandboxLocked(const std::string& name,
                                                      const PluginChoice* options);
  Status PrepareScratchDir();

  RuntimeOptions options_;
  std::shared_ptr<const PluginRegistry> registry_;
  mutable std::recursive_mutex mutex_;
  bool scratch_ready_ = false;
  std::string local_sandbox_name_;
  // Declared so that destruction runs sandboxes, then the store they use,
  // then the contexts both were given.
  std::vector<std::unique_ptr<PluginContext>> contexts_;
  std::shared_ptr<Storage> storage_;
  std::map<std::string, std::shared_ptr<Sandbox>> sandboxes_;
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_RUNTIME_H
