#include "cairn/host/command_context.h"

#include <spdlog/spdlog.h>

#include <ostream>

#include "cairn/host/command.h"
#include "cairn/quote.h"
#include "cairn/runtime/runtime.h"
#include "cairn/status_details.h"

namespace cairn {

CommandContext::CommandContext(GlobalOptions options, std::ostream& out, std::ostream& err,
                               const CancellationFlag* cancellation)
    : options_(std::move(options)), out_(out), err_(err), cancellation_(cancellation) {}

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

// Loads nothing yet: a command loads only the plugins it uses, so a broken
// library elsewhere on the search path cannot take it down.
StatusOr<PluginRegistry*> CommandContext::GetPlugins() {
  if (!plugins_) {
    CAIRN_ASSIGN_OR_RETURN(const Config* config, GetConfig());
    plugins_ = std::make_shared<PluginRegistry>(
        PluginRegistry::OnSearchPath(PluginRegistry::SearchPaths(config->plugin_paths)));
  }
  return plugins_.get();
}

StatusOr<Runtime*> CommandContext::GetRuntime() {
  if (!runtime_) {
    CAIRN_ASSIGN_OR_RETURN(const Config* config, GetConfig());
    CAIRN_RETURN_IF_ERROR(GetPlugins().status());
    runtime_ = std::make_unique<Runtime>(RuntimeOptionsFor(*config, cancellation_), plugins_);
  }
  return runtime_.get();
}

StatusOr<std::shared_ptr<Storage>> CommandContext::OpenStorage() {
  CAIRN_ASSIGN_OR_RETURN(Runtime * runtime, GetRuntime());
  return runtime->OpenStorage();
}

StatusOr<std::shared_ptr<Sandbox>> CommandContext::OpenSandbox() {
  CAIRN_ASSIGN_OR_RETURN(Runtime * runtime, GetRuntime());
  return runtime->BuildSandbox();
}

StatusOr<std::shared_ptr<Sandbox>> CommandContext::OpenLocalSandbox() {
  CAIRN_ASSIGN_OR_RETURN(Runtime * runtime, GetRuntime());
  return runtime->LocalSandbox();
}

int CommandContext::Fail(const Status& status) {
  // The message may carry bytes from a plugin or a command.
  err_ << "cairn: " << EscapeMessage(status.ToString()) << "\n";
  bool cancelled = cancellation_ != nullptr && cancellation_->IsCancelled();
  if (status.code() == Code::kCancelled || cancelled) return kExitInterrupted;
  std::string reason = ErrorReason(status);
  if (reason == kReasonConfiguration) return kExitConfig;
  if (reason == kReasonPlugin) return kExitPlugin;
  return kExitRuntime;
}

int CommandContext::UsageError(const std::string& command, const std::string& message) {
  err_ << "cairn " << command << ": " << message << "\n"
       << "Run 'cairn " << command << " --help' for usage.\n";
  return kExitUsage;
}

}  // namespace cairn
