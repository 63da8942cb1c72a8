// cairn/host/config.h — the merged configuration Cairn runs with.
//
// LoadConfig reads, validates and merges, later wins:
//   1. the built-in defaults (config/defaults.yaml, compiled in),
//   2. the project's cairn.yaml (found from --project or by searching
//      upwards from the working directory for cairn.yaml or project.conf),
//   3. the user configuration: --config FILE, else
//      $XDG_CONFIG_HOME/cairn/config.yaml (~/.config/...), with its
//      `projects: NAME:` section applied on top for the current project,
//   4. command-line flags.
// Every error is INVALID_ARGUMENT "FILE:LINE:COLUMN: message".
#ifndef CAIRN_HOST_CONFIG_H
#define CAIRN_HOST_CONFIG_H

#include <optional>
#include <string>
#include <vector>

#include "cairn/host/config_node.h"
#include "cairn/status.h"

namespace cairn {

struct PluginChoice {
  std::string plugin;
  std::string options_yaml;        // the `options` mapping as YAML text
  SourceLocation location;         // where `plugin` was chosen
  SourceLocation options_location; // where the options mapping starts
};

struct RemoteEndpoint {
  std::string url;
  std::string instance_name;
  std::string server_cert;
  std::string client_cert;
  std::string client_key;
  std::string access_token;
  bool push = false;
  SourceLocation location;
};

// Command-line flags that override configuration.
struct ConfigOverrides {
  std::string sandbox;
  std::string storage;
  std::string cache_dir;
  std::vector<std::string> plugin_paths;
  std::optional<int> jobs;
  std::string log_level;
};

struct Config {
  std::vector<std::string> files_read;  // in merge order
  std::string project_dir;              // "" when not inside a project
  std::string project_name;
  std::string cache_dir;
  int jobs = 0;
  std::string log_level = "info";
  std::vector<std::string> plugin_paths;  // configured ones, expanded
  PluginChoice sandbox;
  PluginChoice storage;
  std::optional<RemoteEndpoint> remote_execution;
  std::vector<RemoteEndpoint> artifact_caches;
};

struct ConfigSources {
  std::string project_dir;       // --project; "" = search from working_dir
  std::string working_dir;       // "" = the process's
  std::string user_config_file;  // --config; "" = the XDG default, if present
};

StatusOr<Config> LoadConfig(const ConfigSources& sources, const ConfigOverrides& overrides);

// The compiled-in defaults, as YAML text.
const std::string& DefaultConfigText();

}  // namespace cairn

#endif  // CAIRN_HOST_CONFIG_H
