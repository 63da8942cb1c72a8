// cairn/host/command_context.h — what a subcommand can reach.
//
// Built once by main() from the global options; everything is loaded
// lazily on first use (a `cairn --help` reads no configuration). Not
// thread-safe: a command uses it from its own thread; the Storage and
// Sandbox it hands out are thread-safe.
//
//   int RunCat(CommandContext& context, const std::vector<std::string>& args) {
//     StatusOr<std::shared_ptr<Storage>> storage = context.OpenStorage();
//     if (!storage.ok()) return context.Fail(storage.status());
//     ...
//   }
#ifndef CAIRN_HOST_COMMAND_CONTEXT_H
#define CAIRN_HOST_COMMAND_CONTEXT_H

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "cairn/runtime/cancellation.h"
#include "cairn/runtime/config.h"
#include "cairn/runtime/plugin_registry.h"
#include "cairn/sandbox.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn {

// Options accepted before the subcommand name (`cairn --verbose cas ...`)
// and by every subcommand.
struct GlobalOptions {
  int verbosity = 0;          // -v: +1, -q: -1
  std::string config_file;    // --config FILE (user configuration)
  std::string project_dir;    // --project DIR ("" = search from cwd)
  ConfigOverrides overrides;  // --sandbox, --local-sandbox, --storage, --cache-dir, ...
};

class Runtime;  // the open plugins (cairn/runtime/runtime.h)

class CommandContext {
 public:
  // `cancellation` (may be null: never cancelled) is set by Ctrl-C and
  // SIGTERM; plugins see it through the host services. It must outlive the
  // context.
  CommandContext(GlobalOptions options, std::ostream& out, std::ostream& err,
                 const CancellationFlag* cancellation = nullptr);
  ~CommandContext();

  const GlobalOptions& options() const { return options_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  // True once Ctrl-C or SIGTERM arrived.
  bool IsCancelled() const { return cancellation_ != nullptr && cancellation_->IsCancelled(); }

  // The merged configuration (defaults < cairn.yaml < user config <
  // command line). Errors name FILE:LINE:COLUMN.
  StatusOr<const Config*> GetConfig();
  // The plugins on the configured search path, loaded only when looked up
  // (PluginRegistry::OnSearchPath): Survey() lists them all safely.
  StatusOr<PluginRegistry*> GetPlugins();
  // The active store (the configured storage plugin, opened once).
  StatusOr<std::shared_ptr<Storage>> OpenStorage();
  // The build sandbox (the configured one, or --sandbox NAME) with its
  // configured options. Opens the store too, since sandboxes reach CAS
  // through the host services.
  StatusOr<std::shared_ptr<Sandbox>> OpenSandbox();
  // The sandbox on this machine for interactive use (see Runtime).
  StatusOr<std::shared_ptr<Sandbox>> OpenLocalSandbox();

  // Prints "cairn: CODE: message" to err() and returns the exit code for
  // the status, from its error reason (cairn/status_details.h):
  // configuration 3, plugin 4; CANCELLED 130; others 5.
  int Fail(const Status& status);
  // Prints "cairn NAME: message" and the hint to use --help; returns 2.
  int UsageError(const std::string& command, const std::string& message);

 private:
  StatusOr<Runtime*> GetRuntime();

  GlobalOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  const CancellationFlag* cancellation_;
  // Loaded on first use, so `cairn --help` reads no file.
  std::unique_ptr<StatusOr<Config>> config_;
  std::shared_ptr<PluginRegistry> plugins_;
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace cairn

#endif  // CAIRN_HOST_COMMAND_CONTEXT_H
