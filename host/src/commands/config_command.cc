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

void PrintChoice(std::ostream& out, const char* section, const PluginChoice& choice) {
  out << section << ":\n  plugin: " << choice.plugin << "    # " << choice.location.ToString()
      << "\n";
  if (!choice.options_yaml.empty()) {
    out << "  options:\n";
    size_t start = 0;
    while (start < choice.options_yaml.size()) {
      size_t end = choice.options_yaml.find('\n', start);
      if (end == std::string::npos) end = choice.options_yaml.size();
      out << "    " << choice.options_yaml.substr(start, end - start) << "\n";
      start = end + 1;
    }
  }
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
  PrintChoice(out, "storage", config.storage);
  if (config.remote_execution) {
    out << "remote-execution:\n  url: " << config.remote_execution->url << "\n";
  }
  for (const RemoteEndpoint& cache : config.artifact_caches) {
    out << "artifact-cache: " << cache.url << (cache.push ? " (push)" : "") << "\n";
  }
  return kExitOk;
}

}  // namespace

extern const CommandSpec kConfigCommand = {
    "config", "Show the merged configuration and where it came from", kHelp, &RunConfig};

}  // namespace cairn
