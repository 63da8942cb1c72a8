// `cairn config`: the configuration Cairn would run with, and where from.
#include <ostream>

#include "cairn/host/arg_parser.h"
#include "cairn/host/command.h"
#include "cairn/host/command_context.h"

namespace cairn {
namespace {

const char kHelp[] =
    "Usage: cairn config\n"
    "\n"
    "Reads, validates and merges the configuration (built-in defaults, the\n"
    "project's cairn.yaml, the user configuration, command-line flags; later\n"
    "wins) and prints the result with the files it came from. Any error is\n"
    "reported as FILE:LINE:COLUMN: message.\n"
    "\n"
    "Exit status: 0 when the configuration is valid, 3 when it is not.\n";

// `yaml`'s lines, each indented by `indent`.
void PrintIndented(std::ostream& out, const std::string& yaml, const std::string& indent) {
  size_t start = 0;
  while (start < yaml.size()) {
    size_t end = yaml.find('\n', start);
    if (end == std::string::npos) end = yaml.size();
    out << indent << yaml.substr(start, end - start) << "\n";
    start = end + 1;
  }
}

void PrintChoice(std::ostream& out, const char* section, const PluginChoice& choice) {
  out << section << ":\n  plugin: " << choice.plugin << "    # " << choice.location.ToString()
      << "\n";
  if (!choice.options_yaml.empty()) {
    out << "  options:\n";
    PrintIndented(out, choice.options_yaml, "    ");
  }
}

void PrintEndpoint(std::ostream& out, const RemoteEndpoint& endpoint, const std::string& indent) {
  out << indent << "# " << endpoint.location.ToString() << "\n";
  PrintIndented(out, endpoint.ToYaml(), indent);
}

int RunConfig(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("config");
  std::vector<std::string> positional;
  Status parsed = parser.Parse(args, &positional);
  if (parser.help_requested()) {
    context.out() << kHelp;
    return kExitOk;
  }
  if (!parsed.ok()) return context.UsageError("config", parsed.message());
  if (!positional.empty())
    return context.UsageError("config", "unexpected argument '" + positional[0] + "'");
  StatusOr<const Config*> loaded = context.GetConfig();
  if (!loaded.ok()) return context.Fail(loaded.status());
  const Config& config = **loaded;
  std::ostream& out = context.out();
  out << "# read, in order:";
  for (const std::string& file : config.files_read) out << " " << file;
  out << "\n";
  if (!config.project_dir.empty())
    out << "# project: " << config.project_name << " in " << config.project_dir << "\n";
  out << "cache-dir: " << config.cache_dir << "\n";
  out << "jobs: " << config.jobs << "\n";
  out << "log-level: " << config.log_level << "\n";
  out << "plugin-paths: [";
  for (size_t i = 0; i < config.plugin_paths.size(); ++i)
    out << (i ? ", " : "") << config.plugin_paths[i];
  out << "]\n";
  PrintChoice(out, "sandbox", config.sandbox);
  if (!config.local_sandbox.plugin.empty()) {
    PrintChoice(out, "local-sandbox", config.local_sandbox);
  } else {
    out << "local-sandbox:    # the sandbox when it runs on this machine, else "
        << kDefaultLocalSandbox << "\n";
  }
  bool any_options = false;
  for (const auto& [plugin, choice] : config.sandbox_options) {
    if (choice.options_yaml.empty()) continue;
    if (!any_options) out << "sandboxes:    # options of each sandbox plugin, however chosen\n";
    any_options = true;
    out << "  " << plugin << ":    # " << choice.options_location.ToString() << "\n";
    PrintIndented(out, choice.options_yaml, "    ");
  }
  PrintChoice(out, "storage", config.storage);
  if (config.remote_execution) {
    out << "remote-execution:\n";
    PrintEndpoint(out, *config.remote_execution, "  ");
  }
  if (!config.artifact_caches.empty()) out << "artifact-caches:\n";
  for (const RemoteEndpoint& cache : config.artifact_caches) {
    PrintEndpoint(out, cache, "    ");
    out << "    push: " << (cache.push ? "true" : "false") << "\n";
    out << "    type: " << CacheTypeName(cache.type) << "\n";
  }
  return kExitOk;
}

}  // namespace

extern const CommandSpec kConfigCommand = {
    "config", "Show the merged configuration and where it came from", kHelp, &RunConfig};

}  // namespace cairn
