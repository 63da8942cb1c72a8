// cairn/runtime/config.h — the merged configuration Cairn runs with.
//
// LoadConfig reads, validates and merges, later wins:
//   1. the built-in defaults (config/defaults.yaml, compiled in),
//   2. the project's cairn.yaml (found from --project or by searching
//      upwards from the working directory for cairn.yaml or project.conf),
//   3. the user configuration: --config FILE, else
//      $XDG_CONFIG_HOME/cairn/config.yaml (~/.config/...), with its
//      `projects: NAME:` section applied on top for the current project,
//   4. command-line flags.
// Every error is INVALID_ARGUMENT "FILE:LINE:COLUMN: message" with the
// error reason kReasonConfiguration.
//
// Sandbox options belong to a plugin, not to a choice: `sandboxes: NAME:`
// holds the options of plugin NAME, and `sandbox: options:` (likewise
// `local-sandbox:`) is shorthand for the options of the plugin chosen in
// the same file. So `--sandbox chroot` runs chroot with its configured
// options, and a later layer choosing another plugin never inherits options
// meant for the one it replaced.
#ifndef CAIRN_RUNTIME_CONFIG_H
#define CAIRN_RUNTIME_CONFIG_H

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cairn/runtime/config_node.h"
#include "cairn/runtime/endpoint.h"
#include "cairn/runtime/runtime_options.h"
#include "cairn/status.h"

namespace cairn {

// Command-line flags that override configuration.
struct ConfigOverrides {
  std::string sandbox;        // --sandbox: the build sandbox
  std::string local_sandbox;  // --local-sandbox: the sandbox for shell and checkout
  std::string storage;
  std::string cache_dir;
  std::vector<std::string> plugin_paths;
  std::optional<int> jobs;
};

struct Config {
  std::vector<std::string> files_read;  // in merge order
  std::string project_dir;              // "" when not inside a project
  std::string project_name;
  std::string cache_dir;
  int jobs = 0;
  std::string log_level = "info";
  std::vector<std::string> plugin_paths;  // configured ones, expanded
  PluginChoice sandbox;                   // the build sandbox (plugin and location)
  PluginChoice local_sandbox;             // plugin "" = derived (RuntimeOptions)
  // Options of every sandbox plugin given options anywhere, by name: from
  // `sandboxes: NAME:`, from `sandbox: options:` / `local-sandbox: options:`
  // (for the plugin chosen there), and `remote-execution` for its plugin.
  std::map<std::string, PluginChoice> sandbox_options;
  PluginChoice storage;
  std::optional<RemoteEndpoint> remote_execution;
  std::vector<RemoteEndpoint> artifact_caches;
  // `projects: NAME: options:` of the user configuration for this project:
  // values of the project's options (a null node when there are none).
  ConfigNode project_options;
};

struct ConfigSources {
  std::string project_dir;       // --project; "" = search from working_dir
  std::string working_dir;       // "" = the process's
  std::string user_config_file;  // --config; "" = the XDG default, if present
};

StatusOr<Config> LoadConfig(const ConfigSources& sources, const ConfigOverrides& overrides);

// What a Runtime needs of the configuration: the plugin choices and their
// options, and <cache-dir>/scratch as the scratch directory.
RuntimeOptions RuntimeOptionsFor(const Config& config, const CancellationFlag* cancellation);

// The sandbox plugin that receives `remote-execution` as its options.
inline constexpr char kRemoteExecutionPlugin[] = "remote";

// The compiled-in defaults, as YAML text.
const std::string& DefaultConfigText();

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CONFIG_H
