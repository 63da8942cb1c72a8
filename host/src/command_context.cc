#include "cairn/host/command_context.h"

#include <spdlog/spdlog.h>

#include <ostream>

#include "cairn/host/cancellation.h"
#include "cairn/host/command.h"
#include "cairn/host/host_runtime.h"

namespace cairn {

CommandContext::CommandContext(GlobalOptions options, std::ostream& out, std::ostream& err)
    : options_(std::move(options)), out_(out), err_(err) {}

CommandContext::~CommandContext() { runtime_.reset(); }

StatusOr<const Config*> CommandContext::GetConfig() {
  if (!config_) {
    ConfigSources sources;
    sources.project_dir = options_.project_dir;
    sources.user_config_file = options_.config_file;
    config_ = std::make_unique<StatusOr<Config>>(LoadConfig(sources, options_.overrides));
    // -v / -q on the command line win over the configured log level.
    if (config_->ok() && options_.verbosity == 0) {
      spdlog::set_level(spdlog::level::from_str((*config_)->log_level));
    }
  }
  if (!config_->ok()) return config_->status();
  return &config_->value();
}

StatusOr<PluginRegistry*> CommandContext::GetPlugins() {
  if (!plugins_) {
    CAIRN_ASSIGN_OR_RETURN(const Config* config, GetConfig());
    plugins_ = std::make_unique<PluginRegistry>(
        PluginRegistry::Discover(PluginRegistry::SearchPaths(config->plugin_paths)));
  }
  return plugins_.get();
}

StatusOr<std::shared_ptr<Storage>> CommandContext::OpenStorage() {
  CAIRN_ASSIGN_OR_RETURN(const Config* config, GetConfig());
  CAIRN_ASSIGN_OR_RETURN(PluginRegistry * plugins, GetPlugins());
  if (!runtime_) runtime_ = std::make_unique<HostRuntime>(*config, *plugins);
  StatusOr<std::shared_ptr<Storage>> storage = runtime_->OpenStorage();
  if (!storage.ok()) plugin_error_ = storage.status().message();
  return storage;
}

StatusOr<std::shared_ptr<Sandbox>> CommandContext::OpenSandbox(const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(const Config* config, GetConfig());
  CAIRN_ASSIGN_OR_RETURN(PluginRegistry * plugins, GetPlugins());
  if (!runtime_) runtime_ = std::make_unique<HostRuntime>(*config, *plugins);
  StatusOr<std::shared_ptr<Sandbox>> sandbox = runtime_->OpenSandbox(name);
  if (!sandbox.ok()) plugin_error_ = sandbox.status().message();
  return sandbox;
}

bool CommandContext::IsCancelled() const { return CancellationRequested(); }

int CommandContext::Fail(const Status& status) {
  err_ << "cairn: " << status.ToString() << "\n";
  if (status.code() == Code::kCancelled || CancellationRequested()) return kExitInterrupted;
  // Nothing else can have run when the configuration did not load.
  if (config_ && !config_->ok()) return kExitConfig;
  if (!plugin_error_.empty() && status.message() == plugin_error_) return kExitPlugin;
  return kExitRuntime;
}

int CommandContext::UsageError(const std::string& command, const std::string& message) {
  err_ << "cairn " << command << ": " << message << "\n"
       << "Run 'cairn " << command << " --help' for usage.\n";
  return kExitUsage;
}

}  // namespace cairn
