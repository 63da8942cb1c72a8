#include "cairn/server/server_config.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <thread>

#include "cairn/plugin_options.h"
#include "cairn/runtime/config_schema.h"

namespace cairn::server {
namespace {

std::vector<ConfigKey> PluginChoiceKeys() {
  return {{"plugin", ConfigType::kString, {}}, {"options", ConfigType::kAnyMap, {}}};
}

const std::vector<ConfigKey>& ServerSchema() {
  static const std::vector<ConfigKey> kKeys = {
      {"listen", ConfigType::kStringList, {}},
      {"tls",
       ConfigType::kSection,
       {{"certificate", ConfigType::kString, {}},
        {"key", ConfigType::kString, {}},
        {"client-ca", ConfigType::kString, {}}}},
      {"tokens", ConfigType::kString, {}},
      {"cache-dir", ConfigType::kString, {}},
      {"storage", ConfigType::kSection, PluginChoiceKeys()},
      {"sandbox", ConfigType::kSection, PluginChoiceKeys()},
      {"plugin-paths", ConfigType::kStringList, {}},
      {"instances",
       ConfigType::kSectionList,
       {{"name", ConfigType::kString, {}},
        {"host-tools", ConfigType::kBool, {}},
        {"sandbox", ConfigType::kSection, PluginChoiceKeys()}}},
      {"executions", ConfigType::kInt, {}},
      {"limits",
       ConfigType::kSection,
       {{"max-batch-size", ConfigType::kString, {}},
        {"max-blob-size", ConfigType::kString, {}},
        {"max-queue", ConfigType::kInt, {}},
        {"default-action-timeout", ConfigType::kInt, {}},
        {"max-action-timeout", ConfigType::kInt, {}}}},
      {"metrics-listen", ConfigType::kString, {}},
      {"log-level", ConfigType::kString, {}},
      {"request-log-level", ConfigType::kString, {}},
  };
  return kKeys;
}

PluginChoice ReadPluginChoice(const ConfigNode& node) {
  PluginChoice choice;
  if (const ConfigNode* plugin = node.Get("plugin")) {
    choice.plugin = plugin->scalar();
    choice.location = plugin->location();
  }
  if (const ConfigNode* options = node.Get("options"); options != nullptr && options->is_map()) {
    choice.options_yaml = options->ToYaml();
    choice.options_location = options->location();
  }
  return choice;
}

StatusOr<int64_t> ReadWholeNumber(const ConfigNode& value, const std::string& key, int64_t min,
                                  int64_t max) {
  errno = 0;
  char* end = nullptr;
  long long number = std::strtoll(value.scalar().c_str(), &end, 10);
  if (value.scalar().empty() || *end != '\0' || errno == ERANGE || number < min || number > max) {
    return ConfigError(value.location(), "'" + key + "' must be a whole number from " +
                                             std::to_string(min) + " to " + std::to_string(max) +
                                             ", got '" + value.scalar() + "'");
  }
  return static_cast<int64_t>(number);
}

StatusOr<uint64_t> ReadSize(const ConfigNode& value, const std::string& key) {
  StatusOr<uint64_t> size = ParseByteSize(value.scalar());
  if (!size.ok()) {
    return ConfigError(value.location(), "'" + key + "': " + size.status().message());
  }
  return *size;
}

bool IsLogLevel(const std::string& text) {
  static const char* const kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  for (const char* level : kLevels) {
    if (text == level) return true;
  }
  return false;
}

Status CheckLogLevel(const ConfigNode& value, const std::string& key) {
  if (IsLogLevel(value.scalar())) return Status::Ok();
  return ConfigError(value.location(), "'" + key + "' must be one of trace, debug, info, " +
                                           "warn, error, off; got '" + value.scalar() + "'");
}

std::string PathAt(const ConfigNode& root, const char* section, const char* key) {
  const ConfigNode* parent = section == nullptr ? &root : root.Get(section);
  if (parent == nullptr) return "";
  const ConfigNode* value = parent->Get(key);
  if (value == nullptr) return "";
  return ResolveConfigPath(value->scalar(), value->location());
}

// A TCP port: digits only (strtol would also take " 80" and "+80"), 0 to
// 65535.
std::optional<int> ParsePort(const std::string& text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int number = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    number = number * 10 + (c - '0');
  }
  if (number > 65535) return std::nullopt;
  return number;
}

// cas-local needs a path; when its options name none, the store lives
// where the configuration's comment promises: CACHE_DIR/cas.
Status AddCasLocalPath(PluginChoice* storage, const std::string& cache_dir) {
  const std::string path = cache_dir + "/cas";
  if (storage->options_yaml.empty()) {
    storage->options_yaml = "path: " + QuoteYaml(path) + "\n";
    return Status::Ok();
  }
  CAIRN_ASSIGN_OR_RETURN(ConfigNode options,
                         ConfigNode::Parse(storage->options_yaml, storage->options_location.file));
  if (!options.is_map() || options.Get("path") != nullptr) return Status::Ok();
  options.Set("path", ConfigNode::Scalar(path, storage->options_location),
              storage->options_location);
  storage->options_yaml = options.ToYaml();
  return Status::Ok();
}

Status ReadInstances(const ConfigNode& list, ServerConfig* config) {
  for (const ConfigNode& item : list.items()) {
    InstanceConfig instance;
    instance.location = item.location();
    if (const ConfigNode* name = item.Get("name")) instance.name = name->scalar();
    if (const ConfigNode* host_tools = item.Get("host-tools")) {
      instance.host_tools = host_tools->scalar() == "true";
    }
    if (const ConfigNode* sandbox = item.Get("sandbox")) {
      instance.sandbox = ReadPluginChoice(*sandbox);
    }
    for (const InstanceConfig& earlier : config->instances) {
      if (earlier.name == instance.name) {
        return ConfigError(item.location(), "instance name '" + instance.name +
                                                "' is configured twice (first at " +
                                                earlier.location.ToString() + ")");
      }
    }
    if (!instance.name.empty()) {
      // REAPI instance names are path segments; these would make resource
      // names ambiguous.
      for (const char* reserved : {"blobs", "uploads", "compressed-blobs", "actions",
                                   "actionResults", "operations", "capabilities"}) {
        std::string segment = "/" + instance.name + "/";
        if (segment.find(std::string("/") + reserved + "/") != std::string::npos) {
          return ConfigError(item.location(), "instance name '" + instance.name +
                                                  "' uses the reserved segment '" + reserved + "'");
        }
      }
      if (instance.name.front() == '/' || instance.name.back() == '/' ||
          instance.name.find("//") != std::string::npos) {
        return ConfigError(item.location(), "instance name '" + instance.name +
                                                "' must be '/'-separated non-empty segments");
      }
    }
    config->instances.push_back(std::move(instance));
  }
  return Status::Ok();
}

}  // namespace

std::string ListenAddress::GrpcAddress() const {
  if (kind == Kind::kUnix) return "unix:" + host;
  return host + ":" + std::to_string(port);
}

StatusOr<ListenAddress> ParseListenAddress(const std::string& url, const SourceLocation& where) {
  ListenAddress address;
  address.url = url;
  address.location = where;
  std::string rest;
  if (url.rfind("unix:", 0) == 0) {
    address.kind = ListenAddress::Kind::kUnix;
    address.host = url.substr(5);
    if (address.host.rfind("//", 0) == 0) address.host = address.host.substr(2);
    if (address.host.empty()) return ConfigError(where, "'" + url + "' names no socket path");
    return address;
  }
  if (url.rfind("grpc://", 0) == 0) {
    rest = url.substr(7);
  } else if (url.rfind("grpcs://", 0) == 0) {
    address.kind = ListenAddress::Kind::kTls;
    rest = url.substr(8);
  } else {
    return ConfigError(where, "listen address '" + url +
                                  "' must be grpc://HOST:PORT, grpcs://HOST:PORT or unix:PATH");
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    return ConfigError(where, "listen address '" + url + "' needs a host and a port");
  }
  if (rest.find(']', colon) != std::string::npos) {
    return ConfigError(where, "listen address '" + url + "' needs a port after ']'");
  }
  address.host = rest.substr(0, colon);
  std::string port = rest.substr(colon + 1);
  std::optional<int> number = ParsePort(port);
  if (!number) {
    return ConfigError(where, "listen address '" + url + "' has port '" + port +
                                  "'; expected 0 to 65535 (0 picks a free port)");
  }
  address.port = *number;
  return address;
}

StatusOr<ServerConfig> LoadServerConfig(const std::string& file) {
  CAIRN_ASSIGN_OR_RETURN(ConfigNode root, ConfigNode::ParseFile(file));
  CAIRN_RETURN_IF_ERROR(ValidateConfig(root, ServerSchema()));
  ServerConfig config;
  config.file = file;
  if (const ConfigNode* listen = root.Get("listen")) {
    for (const ConfigNode& item : listen->items()) {
      CAIRN_ASSIGN_OR_RETURN(ListenAddress address,
                             ParseListenAddress(item.scalar(), item.location()));
      config.listen.push_back(std::move(address));
    }
  }
  config.tls.certificate = PathAt(root, "tls", "certificate");
  config.tls.key = PathAt(root, "tls", "key");
  config.tls.client_ca = PathAt(root, "tls", "client-ca");
  config.tokens_file = PathAt(root, nullptr, "tokens");
  config.cache_dir = PathAt(root, nullptr, "cache-dir");
  if (const ConfigNode* storage = root.Get("storage")) config.storage = ReadPluginChoice(*storage);
  if (const ConfigNode* sandbox = root.Get("sandbox")) {
    config.sandbox = ReadPluginChoice(*sandbox);
  }
  if (const ConfigNode* paths = root.Get("plugin-paths")) {
    for (const ConfigNode& item : paths->items()) {
      config.plugin_paths.push_back(ResolveConfigPath(item.scalar(), item.location()));
    }
  }
  if (const ConfigNode* instances = root.Get("instances")) {
    CAIRN_RETURN_IF_ERROR(ReadInstances(*instances, &config));
  }
  if (const ConfigNode* executions = root.Get("executions")) {
    CAIRN_ASSIGN_OR_RETURN(int64_t count, ReadWholeNumber(*executions, "executions", 1, 4096));
    config.executions = static_cast<int>(count);
  }
  if (const ConfigNode* limits = root.Get("limits")) {
    if (const ConfigNode* value = limits->Get("max-batch-size")) {
      CAIRN_ASSIGN_OR_RETURN(config.limits.max_batch_size,
                             ReadSize(*value, "limits.max-batch-size"));
      if (config.limits.max_batch_size < 1024 || config.limits.max_batch_size > (1u << 30)) {
        return ConfigError(value->location(),
                           "'limits.max-batch-size' must be from 1K to 1G (gRPC's messages are "
                           "at most 2 GiB), got '" +
                               value->scalar() + "'");
      }
    }
    if (const ConfigNode* value = limits->Get("max-blob-size")) {
      CAIRN_ASSIGN_OR_RETURN(config.limits.max_blob_size, ReadSize(*value, "limits.max-blob-size"));
    }
    if (const ConfigNode* value = limits->Get("max-queue")) {
      CAIRN_ASSIGN_OR_RETURN(int64_t queue,
                             ReadWholeNumber(*value, "limits.max-queue", 0, 1000000));
      config.limits.max_queue = static_cast<uint64_t>(queue);
    }
    constexpr int64_t kWeek = 7 * 24 * 3600;
    if (const ConfigNode* value = limits->Get("max-action-timeout")) {
      CAIRN_ASSIGN_OR_RETURN(config.limits.max_action_timeout_s,
                             ReadWholeNumber(*value, "limits.max-action-timeout", 1, kWeek));
    }
    if (const ConfigNode* value = limits->Get("default-action-timeout")) {
      CAIRN_ASSIGN_OR_RETURN(config.limits.default_action_timeout_s,
                             ReadWholeNumber(*value, "limits.default-action-timeout", 1, kWeek));
      if (config.limits.default_action_timeout_s > config.limits.max_action_timeout_s) {
        return ConfigError(value->location(),
                           "'limits.default-action-timeout' (" + value->scalar() +
                               ") is longer than 'limits.max-action-timeout' (" +
                               std::to_string(config.limits.max_action_timeout_s) + ")");
      }
    }
  }
  if (const ConfigNode* value = root.Get("metrics-listen")) {
    config.metrics_listen = value->scalar();
    size_t colon = config.metrics_listen.rfind(':');
    if (colon == std::string::npos || !ParsePort(config.metrics_listen.substr(colon + 1))) {
      return ConfigError(value->location(),
                         "'metrics-listen' must be HOST:PORT, got '" + config.metrics_listen + "'");
    }
  }
  if (const ConfigNode* value = root.Get("log-level")) {
    CAIRN_RETURN_IF_ERROR(CheckLogLevel(*value, "log-level"));
    config.log_level = value->scalar();
  }
  if (const ConfigNode* value = root.Get("request-log-level")) {
    CAIRN_RETURN_IF_ERROR(CheckLogLevel(*value, "request-log-level"));
    config.request_log_level = value->scalar();
  }
  return config;
}

Status FinishServerConfig(ServerConfig* config, bool host_tools) {
  if (config->listen.empty()) {
    return InvalidArgument(
        "no listen address: give --listen grpc://HOST:PORT (or 'listen:' in --config FILE)");
  }
  if (config->cache_dir.empty()) {
    const char* xdg = std::getenv("XDG_CACHE_HOME");
    const char* home = std::getenv("HOME");
    if (xdg != nullptr && *xdg != '\0') {
      config->cache_dir = std::string(xdg) + "/cairn-server";
    } else if (home != nullptr && *home != '\0') {
      config->cache_dir = std::string(home) + "/.cache/cairn-server";
    } else {
      return InvalidArgument("no cache directory: give --cache-dir DIR");
    }
  }
  if (config->storage.plugin.empty()) config->storage.plugin = "cas-local";
  if (config->storage.plugin == "cas-local") {
    CAIRN_RETURN_IF_ERROR(AddCasLocalPath(&config->storage, config->cache_dir));
  }
  if (config->sandbox.plugin.empty()) {
    config->sandbox.plugin = "bwrap";
  } else if (config->sandbox.plugin == kNoSandbox) {
    config->sandbox.plugin.clear();
  }
  if (config->instances.empty()) {
    InstanceConfig instance;
    instance.location.file = config->file.empty() ? "<command line>" : config->file;
    config->instances.push_back(instance);
  }
  if (host_tools) {
    for (InstanceConfig& instance : config->instances) {
      // An instance that does not execute has no actions to run on the host.
      if (instance.sandbox.plugin != kNoSandbox) instance.host_tools = true;
    }
  }
  if (config->executions <= 0) {
    unsigned cores = std::thread::hardware_concurrency();
    config->executions = cores == 0 ? 1 : static_cast<int>(cores);
  }
  // Flags and programmatic configurations reach here unchecked; the file's
  // values were checked where they were read, with their position.
  if (!config->metrics_listen.empty()) {
    size_t colon = config->metrics_listen.rfind(':');
    if (colon == std::string::npos || !ParsePort(config->metrics_listen.substr(colon + 1))) {
      return InvalidArgument("the metrics address must be HOST:PORT, got '" +
                             config->metrics_listen + "'");
    }
  }
  for (const std::string* level : {&config->log_level, &config->request_log_level}) {
    if (!IsLogLevel(*level)) {
      return InvalidArgument("log level '" + *level +
                             "' is not one of trace, debug, info, warn, error, off");
    }
  }
  bool tls = false;
  for (const ListenAddress& address : config->listen) {
    tls = tls || address.kind == ListenAddress::Kind::kTls;
  }
  if (tls && (config->tls.certificate.empty() || config->tls.key.empty())) {
    return InvalidArgument("a grpcs:// listen address needs tls.certificate and tls.key");
  }
  if (!tls && !config->tls.client_ca.empty()) {
    return InvalidArgument("tls.client-ca is set but no listen address is grpcs://");
  }
  return Status::Ok();
}

}  // namespace cairn::server
