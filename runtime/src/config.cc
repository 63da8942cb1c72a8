#include "cairn/runtime/config.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "cairn/runtime/config_schema.h"

namespace cairn {

namespace fs = std::filesystem;

// Generated from config/defaults.yaml at build time.
extern const char kDefaultConfigYaml[];

namespace {

const char kDefaultsName[] = "<built-in defaults>";
const char kCommandLineName[] = "<command line>";

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

std::string HomeDir() { return EnvOr("HOME", "/root"); }

StatusOr<ConfigNode> ReadValidated(const std::string& path, ConfigFileKind kind) {
  CAIRN_ASSIGN_OR_RETURN(ConfigNode node, ConfigNode::ParseFile(path));
  CAIRN_RETURN_IF_ERROR(ValidateConfig(node, SchemaFor(kind)));
  return node;
}

// Finds the project directory: the given one, or the nearest directory at
// or above `start` holding cairn.yaml or project.conf.
StatusOr<std::string> FindProjectDir(const ConfigSources& sources) {
  if (!sources.project_dir.empty()) {
    std::error_code error;
    fs::path dir = fs::absolute(sources.project_dir, error);
    if (error || !fs::is_directory(dir, error)) {
      return NotFound("project directory " + sources.project_dir + " does not exist");
    }
    return dir.lexically_normal().string();
  }
  std::error_code error;
  fs::path dir =
      sources.working_dir.empty() ? fs::current_path(error) : fs::path(sources.working_dir);
  if (error) return std::string();
  for (;;) {
    if (fs::exists(dir / "cairn.yaml", error) || fs::exists(dir / "project.conf", error)) {
      return dir.string();
    }
    if (!dir.has_parent_path() || dir.parent_path() == dir) return std::string();
    dir = dir.parent_path();
  }
}

// project.conf belongs to the BuildStream format; only its name is read here.
StatusOr<std::string> ReadProjectName(const std::string& project_dir) {
  fs::path conf = fs::path(project_dir) / "project.conf";
  std::error_code error;
  if (!fs::exists(conf, error)) return fs::path(project_dir).filename().string();
  CAIRN_ASSIGN_OR_RETURN(ConfigNode node, ConfigNode::ParseFile(conf.string()));
  const ConfigNode* name = node.is_map() ? node.Get("name") : nullptr;
  if (name == nullptr || !name->is_scalar()) {
    return fs::path(project_dir).filename().string();
  }
  return name->scalar();
}

std::string UserConfigPath(const ConfigSources& sources) {
  if (!sources.user_config_file.empty()) return sources.user_config_file;
  std::string base = EnvOr("XDG_CONFIG_HOME", HomeDir() + "/.config");
  std::string path = base + "/cairn/config.yaml";
  std::error_code error;
  return fs::exists(path, error) ? path : std::string();
}

void RemoveKey(ConfigNode* map, const std::string& key) {
  auto& entries = map->entries();
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it->key == key) {
      entries.erase(it);
      return;
    }
  }
}

// A later layer that picks another storage plugin, with or without options
// must not inherit the options meant for the plugin it replaced.
void DropStaleStorageOptions(ConfigNode* base, const ConfigNode& overlay) {
  const ConfigNode* next = overlay.is_map() ? overlay.Get("storage") : nullptr;
  ConfigNode* current = base->is_map() ? base->Get("storage") : nullptr;
  if (next == nullptr || current == nullptr || !next->is_map() || !current->is_map()) return;
  const ConfigNode* next_plugin = next->Get("plugin");
  const ConfigNode* current_plugin = current->Get("plugin");
  // Options written for another plugin never reach this one, whether the
  // new layer gives options of its own or not.
  if (next_plugin == nullptr) return;
  if (current_plugin != nullptr && current_plugin->scalar() == next_plugin->scalar()) return;
  RemoveKey(current, "options");
}

// `sandbox: {plugin: P, options: O}` in a layer means `sandboxes: {P: O}`
// (the plugin being the layer's own choice, or the one chosen so far):
// options follow the plugin, whichever way it is chosen later.
void FoldSandboxOptions(ConfigNode* layer, const ConfigNode& merged) {
  if (!layer->is_map()) return;
  for (const char* section : {"sandbox", "local-sandbox"}) {
    // Copies, not pointers: adding `sandboxes` below may move the layer's
    // entries, and with them everything a pointer into them points at.
    const ConfigNode* choice = layer->Get(section);
    if (choice == nullptr || !choice->is_map() || choice->Get("options") == nullptr) continue;
    ConfigNode options = *choice->Get("options");
    std::string plugin;
    if (const ConfigNode* named = choice->Get("plugin")) plugin = named->scalar();
    const ConfigNode* earlier = merged.is_map() ? merged.Get(section) : nullptr;
    if (plugin.empty() && earlier != nullptr && earlier->is_map() && earlier->Get("plugin")) {
      plugin = earlier->Get("plugin")->scalar();
    }
    RemoveKey(layer->Get(section), "options");
    if (plugin.empty()) continue;
    if (layer->Get("sandboxes") == nullptr || !layer->Get("sandboxes")->is_map()) {
      layer->Set("sandboxes", ConfigNode::Map(options.location()), options.location());
    }
    ConfigNode* sandboxes = layer->Get("sandboxes");
    ConfigNode folded = ConfigNode::Map(options.location());
    if (const ConfigNode* given = sandboxes->Get(plugin)) folded = *given;
    folded.MergeFrom(options);
    sandboxes->Set(plugin, std::move(folded), options.location());
  }
}

void Overlay(ConfigNode* merged, ConfigNode layer) {
  FoldSandboxOptions(&layer, *merged);
  DropStaleStorageOptions(merged, layer);
  merged->MergeFrom(layer);
}

ConfigNode CommandLineLayer(const ConfigOverrides& overrides) {
  SourceLocation where{kCommandLineName, 0, 0};
  ConfigNode layer = ConfigNode::Map(where);
  auto set_plugin = [&](const char* section, const std::string& name) {
    if (name.empty()) return;
    ConfigNode choice = ConfigNode::Map(where);
    choice.Set("plugin", ConfigNode::Scalar(name, where), where);
    layer.Set(section, std::move(choice), where);
  };
  set_plugin("sandbox", overrides.sandbox);
  set_plugin("local-sandbox", overrides.local_sandbox);
  set_plugin("storage", overrides.storage);
  if (!overrides.cache_dir.empty()) {
    layer.Set("cache-dir", ConfigNode::Scalar(overrides.cache_dir, where), where);
  }
  if (overrides.jobs) {
    layer.Set("jobs", ConfigNode::Scalar(std::to_string(*overrides.jobs), where), where);
  }
  return layer;
}

struct Variables {
  std::string cache_dir;
  std::string project_dir;
};

// Expands ${cache-dir}, ${project-dir}, ${HOME}, ${XDG_CACHE_HOME} and a
// leading "~/".
StatusOr<std::string> Expand(const std::string& text, const Variables& variables,
                             const SourceLocation& where) {
  std::string out;
  size_t i = 0;
  if (text.compare(0, 2, "~/") == 0) {
    out = HomeDir();
    i = 1;
  }
  while (i < text.size()) {
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    size_t end = text.find('}', i);
    if (end == std::string::npos) return ConfigError(where, "unterminated '${' in '" + text + "'");
    std::string name = text.substr(i + 2, end - i - 2);
    if (name == "cache-dir" && !variables.cache_dir.empty()) {
      out += variables.cache_dir;
    } else if (name == "project-dir") {
      if (variables.project_dir.empty()) {
        return ConfigError(where, "'${project-dir}' is used outside a project");
      }
      out += variables.project_dir;
    } else if (name == "HOME") {
      out += HomeDir();
    } else if (name == "XDG_CACHE_HOME") {
      out += EnvOr("XDG_CACHE_HOME", HomeDir() + "/.cache");
    } else {
      return ConfigError(where, "unknown variable '${" + name +
                                    "}' (expected cache-dir, project-dir, HOME or XDG_CACHE_HOME)");
    }
    i = end + 1;
  }
  return out;
}

Status ExpandScalars(ConfigNode* node, const Variables& variables) {
  if (node->is_scalar()) {
    CAIRN_ASSIGN_OR_RETURN(std::string expanded,
                           Expand(node->scalar(), variables, node->location()));
    node->set_scalar(std::move(expanded));
  }
  for (ConfigNode& item : node->items()) CAIRN_RETURN_IF_ERROR(ExpandScalars(&item, variables));
  for (ConfigNode::Entry& entry : node->entries()) {
    CAIRN_RETURN_IF_ERROR(ExpandScalars(&entry.value, variables));
  }
  return Status::Ok();
}

// The options mapping as YAML text, variables expanded ("" when empty).
Status ReadOptions(const ConfigNode& options, const Variables& variables, PluginChoice* choice) {
  ConfigNode expanded = options;
  CAIRN_RETURN_IF_ERROR(ExpandScalars(&expanded, variables));
  choice->options_yaml = expanded.ToYaml();
  if (choice->options_yaml == "{}") choice->options_yaml.clear();
  choice->options_location = options.location();
  return Status::Ok();
}

StatusOr<PluginChoice> ReadPluginChoice(const ConfigNode& root, const char* section,
                                        const Variables& variables, bool required) {
  const ConfigNode* node = root.Get(section);
  const ConfigNode* plugin = node != nullptr ? node->Get("plugin") : nullptr;
  PluginChoice choice;
  if (plugin == nullptr || plugin->scalar().empty()) {
    if (!required) return choice;
    return ConfigError(node != nullptr ? node->location() : root.location(),
                       std::string("'") + section + ".plugin' is not set");
  }
  choice.plugin = plugin->scalar();
  choice.location = plugin->location();
  const ConfigNode* options = node->Get("options");
  if (options != nullptr) CAIRN_RETURN_IF_ERROR(ReadOptions(*options, variables, &choice));
  return choice;
}

// `sandboxes: NAME: {...}`, and `remote-execution` as the options of the
// plugin that executes remotely (its own `sandboxes:` entry wins key by key).
Status ReadSandboxOptions(const ConfigNode& merged, const Variables& variables, Config* config) {
  std::map<std::string, ConfigNode> by_plugin;
  if (config->remote_execution) {
    CAIRN_ASSIGN_OR_RETURN(ConfigNode endpoint,
                           ConfigNode::Parse(config->remote_execution->ToYaml(),
                                             config->remote_execution->location.file));
    by_plugin.emplace(kRemoteExecutionPlugin, std::move(endpoint));
  }
  const ConfigNode* sandboxes = merged.Get("sandboxes");
  if (sandboxes != nullptr) {
    for (const ConfigNode::Entry& entry : sandboxes->entries()) {
      auto [slot, added] = by_plugin.emplace(entry.key, entry.value);
      if (!added) slot->second.MergeFrom(entry.value);
    }
  }
  for (const auto& [plugin, options] : by_plugin) {
    PluginChoice choice;
    choice.plugin = plugin;
    choice.location = options.location();
    CAIRN_RETURN_IF_ERROR(ReadOptions(options, variables, &choice));
    // Options made from the endpoint alone point at `remote-execution`,
    // not at the generated text they were parsed from.
    bool named = sandboxes != nullptr && sandboxes->Get(plugin) != nullptr;
    if (plugin == kRemoteExecutionPlugin && config->remote_execution && !named) {
      choice.location = choice.options_location = config->remote_execution->location;
    }
    config->sandbox_options[plugin] = std::move(choice);
  }
  return Status::Ok();
}

}  // namespace

const std::string& DefaultConfigText() {
  static const std::string kText = kDefaultConfigYaml;
  return kText;
}

StatusOr<Config> LoadConfig(const ConfigSources& sources, const ConfigOverrides& overrides) {
  Config config;

  CAIRN_ASSIGN_OR_RETURN(ConfigNode merged, ConfigNode::Parse(DefaultConfigText(), kDefaultsName));
  CAIRN_RETURN_IF_ERROR(ValidateConfig(merged, SchemaFor(ConfigFileKind::kDefaults)));
  FoldSandboxOptions(&merged, ConfigNode());
  config.files_read.push_back(kDefaultsName);

  CAIRN_ASSIGN_OR_RETURN(config.project_dir, FindProjectDir(sources));
  if (!config.project_dir.empty()) {
    CAIRN_ASSIGN_OR_RETURN(config.project_name, ReadProjectName(config.project_dir));
    std::string project_file = config.project_dir + "/cairn.yaml";
    std::error_code error;
    if (fs::exists(project_file, error)) {
      CAIRN_ASSIGN_OR_RETURN(ConfigNode project,
                             ReadValidated(project_file, ConfigFileKind::kProject));
      Overlay(&merged, project);
      config.files_read.push_back(project_file);
    }
  }

  std::string user_file = UserConfigPath(sources);
  if (!user_file.empty()) {
    CAIRN_ASSIGN_OR_RETURN(ConfigNode user, ReadValidated(user_file, ConfigFileKind::kUser));
    ConfigNode per_project;
    if (user.is_map()) {
      const ConfigNode* projects = user.Get("projects");
      if (projects != nullptr && !config.project_name.empty()) {
        const ConfigNode* mine = projects->is_map() ? projects->Get(config.project_name) : nullptr;
        if (mine != nullptr) per_project = *mine;
      }
      RemoveKey(&user, "projects");
    }
    Overlay(&merged, user);
    Overlay(&merged, per_project);
    config.files_read.push_back(user_file);
  }

  Overlay(&merged, CommandLineLayer(overrides));
  if (const ConfigNode* options = merged.Get("options")) config.project_options = *options;

  Variables variables;
  variables.project_dir = config.project_dir;
  const ConfigNode* cache_dir = merged.Get("cache-dir");
  CAIRN_ASSIGN_OR_RETURN(config.cache_dir,
                         Expand(cache_dir->scalar(), variables, cache_dir->location()));
  config.cache_dir = ResolveConfigPath(config.cache_dir, cache_dir->location());
  variables.cache_dir = config.cache_dir;

  const ConfigNode* jobs = merged.Get("jobs");
  errno = 0;
  long long jobs_value = std::strtoll(jobs->scalar().c_str(), nullptr, 10);
  if (errno == ERANGE || jobs_value < 0 || jobs_value > 4096) {
    return ConfigError(jobs->location(), "'jobs' must be from 0 (one per core) to 4096, got '" +
                                             jobs->scalar() + "'");
  }
  config.jobs = static_cast<int>(jobs_value);
  if (config.jobs == 0) config.jobs = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));

  const ConfigNode* log_level = merged.Get("log-level");
  config.log_level = log_level->scalar();
  static const char* const kLevels[] = {"trace", "debug", "info", "warn", "error"};
  bool known_level = false;
  for (const char* level : kLevels) known_level |= config.log_level == level;
  if (!known_level) {
    return ConfigError(log_level->location(),
                       "'log-level' must be one of trace, debug, info, warn, error; got '" +
                           config.log_level + "'");
  }

  // --plugin-path directories are searched first; they add to the
  // configured ones rather than replacing them.
  for (const std::string& path : overrides.plugin_paths) {
    config.plugin_paths.push_back(ResolveConfigPath(path, SourceLocation{kCommandLineName, 0, 0}));
  }
  if (const ConfigNode* paths = merged.Get("plugin-paths")) {
    for (const ConfigNode& item : paths->items()) {
      CAIRN_ASSIGN_OR_RETURN(std::string path, Expand(item.scalar(), variables, item.location()));
      config.plugin_paths.push_back(ResolveConfigPath(path, item.location()));
    }
  }

  CAIRN_ASSIGN_OR_RETURN(config.sandbox, ReadPluginChoice(merged, "sandbox", variables, true));
  CAIRN_ASSIGN_OR_RETURN(config.local_sandbox,
                         ReadPluginChoice(merged, "local-sandbox", variables, false));
  CAIRN_ASSIGN_OR_RETURN(config.storage, ReadPluginChoice(merged, "storage", variables, true));

  if (const ConfigNode* remote = merged.Get("remote-execution");
      remote != nullptr && remote->is_map()) {
    CAIRN_ASSIGN_OR_RETURN(config.remote_execution, ReadEndpoint(*remote));
  }
  if (const ConfigNode* caches = merged.Get("artifact-caches")) {
    for (const ConfigNode& item : caches->items()) {
      CAIRN_ASSIGN_OR_RETURN(RemoteEndpoint cache, ReadEndpoint(item));
      config.artifact_caches.push_back(std::move(cache));
    }
  }
  CAIRN_RETURN_IF_ERROR(ReadSandboxOptions(merged, variables, &config));
  return config;
}

RuntimeOptions RuntimeOptionsFor(const Config& config, const CancellationFlag* cancellation) {
  RuntimeOptions options;
  options.scratch_dir = config.cache_dir + "/scratch";
  options.storage = config.storage;
  options.build_sandbox = config.sandbox;
  options.local_sandbox = config.local_sandbox;
  options.sandbox_options = config.sandbox_options;
  options.cancellation = cancellation;
  return options;
}

}  // namespace cairn
