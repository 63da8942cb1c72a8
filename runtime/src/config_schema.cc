#include "cairn/runtime/config_schema.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace cairn {
namespace {

std::vector<ConfigKey> PluginChoiceKeys() {
  return {{"plugin", ConfigType::kString, {}}, {"options", ConfigType::kAnyMap, {}}};
}

std::vector<ConfigKey> EndpointKeys(bool with_push) {
  std::vector<ConfigKey> keys = {{"url", ConfigType::kString, {}},
                                 {"instance-name", ConfigType::kString, {}},
                                 {"server-cert", ConfigType::kString, {}},
                                 {"client-cert", ConfigType::kString, {}},
                                 {"client-key", ConfigType::kString, {}},
                                 {"access-token", ConfigType::kString, {}},
                                 {"connection-config",
                                  ConfigType::kSection,
                                  {{"retry-limit", ConfigType::kInt, {}},
                                   {"retry-delay", ConfigType::kInt, {}},
                                   {"request-timeout", ConfigType::kInt, {}},
                                   {"keepalive-time", ConfigType::kInt, {}}}}};
  if (with_push) {
    // Artifact caches, in BuildStream's keys: what the server is for, and
    // the credentials also under `auth:`.
    keys.push_back({"push", ConfigType::kBool, {}});
    keys.push_back({"type", ConfigType::kString, {}});
    keys.push_back({"auth",
                    ConfigType::kSection,
                    {{"server-cert", ConfigType::kString, {}},
                     {"client-cert", ConfigType::kString, {}},
                     {"client-key", ConfigType::kString, {}},
                     {"access-token", ConfigType::kString, {}}}});
  }
  return keys;
}

// `remote-execution`: one endpoint for everything, and optionally the CAS
// and the action cache somewhere else (BuildStream 2's sub-sections).
std::vector<ConfigKey> RemoteExecutionKeys() {
  std::vector<ConfigKey> keys = EndpointKeys(false);
  keys.push_back({"storage-service", ConfigType::kSection, EndpointKeys(false)});
  keys.push_back({"action-cache-service", ConfigType::kSection, EndpointKeys(false)});
  return keys;
}

std::vector<ConfigKey> ProjectKeys() {
  return {{"sandbox", ConfigType::kSection, PluginChoiceKeys()},
          {"local-sandbox", ConfigType::kSection, PluginChoiceKeys()},
          {"sandboxes", ConfigType::kNamedMaps, {}},
          {"storage", ConfigType::kSection, PluginChoiceKeys()},
          {"plugin-paths", ConfigType::kStringList, {}}};
}

std::vector<ConfigKey> UserKeys(bool with_projects) {
  std::vector<ConfigKey> keys = ProjectKeys();
  keys.push_back({"cache-dir", ConfigType::kString, {}});
  keys.push_back({"jobs", ConfigType::kInt, {}});
  keys.push_back({"log-level", ConfigType::kString, {}});
  keys.push_back({"remote-execution", ConfigType::kSection, RemoteExecutionKeys()});
  keys.push_back({"artifact-caches", ConfigType::kSectionList, EndpointKeys(true)});
  if (with_projects) {
    keys.push_back({"projects", ConfigType::kNamedSections, UserKeys(false)});
  } else {
    // A project's option values (BuildStream's `projects: NAME: options:`).
    keys.push_back({"options", ConfigType::kAnyMap, {}});
  }
  return keys;
}

std::string KeyList(const std::vector<ConfigKey>& keys) {
  std::string list;
  for (const ConfigKey& key : keys) list += (list.empty() ? "" : ", ") + key.name;
  return list;
}

std::string Describe(const ConfigNode& node) {
  switch (node.kind()) {
    case ConfigNode::Kind::kNull:
      return "nothing";
    case ConfigNode::Kind::kScalar:
      return "'" + node.scalar() + "'";
    case ConfigNode::Kind::kSequence:
      return "a list";
    case ConfigNode::Kind::kMap:
      return "a mapping";
  }
  return "something else";
}

Status ValidateValue(const ConfigNode& value, const ConfigKey& key, const std::string& path);

Status ValidateMap(const ConfigNode& node, const std::vector<ConfigKey>& keys,
                   const std::string& path) {
  if (node.is_null()) return Status::Ok();
  if (!node.is_map()) {
    return ConfigError(node.location(),
                       (path.empty() ? std::string("the file") : "'" + path + "'") +
                           " must be a mapping, got " + Describe(node));
  }
  for (const ConfigNode::Entry& entry : node.entries()) {
    const ConfigKey* known = nullptr;
    for (const ConfigKey& key : keys) {
      if (key.name == entry.key) known = &key;
    }
    std::string full = path.empty() ? entry.key : path + "." + entry.key;
    if (known == nullptr) {
      return ConfigError(entry.key_location,
                         "unknown key '" + full + "' (expected one of: " + KeyList(keys) + ")");
    }
    CAIRN_RETURN_IF_ERROR(ValidateValue(entry.value, *known, full));
  }
  return Status::Ok();
}

Status ValidateValue(const ConfigNode& value, const ConfigKey& key, const std::string& path) {
  const SourceLocation& where = value.location();
  switch (key.type) {
    case ConfigType::kString:
      if (!value.is_scalar())
        return ConfigError(where, "'" + path + "' must be a string, got " + Describe(value));
      return Status::Ok();
    case ConfigType::kInt: {
      char* end = nullptr;
      if (value.is_scalar() && !value.scalar().empty()) {
        errno = 0;
        std::strtoll(value.scalar().c_str(), &end, 10);
        if (*end == '\0' && errno == ERANGE) {
          // strtoll saturates; a saturated value must never pass as the one given.
          return ConfigError(where, "'" + path + "' is out of range: " + Describe(value) +
                                        " (allowed " + std::to_string(INT64_MIN) + " to " +
                                        std::to_string(INT64_MAX) + ")");
        }
        if (*end == '\0') return Status::Ok();
      }
      return ConfigError(where, "'" + path + "' must be an integer, got " + Describe(value));
    }
    case ConfigType::kBool:
      if (value.is_scalar() && (value.scalar() == "true" || value.scalar() == "false")) {
        return Status::Ok();
      }
      return ConfigError(where, "'" + path + "' must be true or false, got " + Describe(value));
    case ConfigType::kStringList:
      if (!value.is_sequence()) {
        return ConfigError(where,
                           "'" + path + "' must be a list of strings, got " + Describe(value));
      }
      for (const ConfigNode& item : value.items()) {
        if (!item.is_scalar()) {
          return ConfigError(item.location(), "'" + path + "' must be a list of strings, got " +
                                                  Describe(item) + " in it");
        }
      }
      return Status::Ok();
    case ConfigType::kSection:
      if (value.is_null()) return Status::Ok();
      return ValidateMap(value, key.children, path);
    case ConfigType::kAnyMap:
      if (value.is_null() || value.is_map()) return Status::Ok();
      return ConfigError(where, "'" + path + "' must be a mapping, got " + Describe(value));
    case ConfigType::kNamedMaps:
      if (value.is_null()) return Status::Ok();
      if (!value.is_map())
        return ConfigError(where, "'" + path + "' must be a mapping, got " + Describe(value));
      for (const ConfigNode::Entry& entry : value.entries()) {
        if (!entry.value.is_null() && !entry.value.is_map()) {
          return ConfigError(entry.value.location(), "'" + path + "." + entry.key +
                                                         "' must be a mapping of options, got " +
                                                         Describe(entry.value));
        }
      }
      return Status::Ok();
    case ConfigType::kNamedSections:
      if (value.is_null()) return Status::Ok();
      if (!value.is_map())
        return ConfigError(where, "'" + path + "' must be a mapping, got " + Describe(value));
      for (const ConfigNode::Entry& entry : value.entries()) {
        CAIRN_RETURN_IF_ERROR(ValidateMap(entry.value, key.children, path + "." + entry.key));
      }
      return Status::Ok();
    case ConfigType::kSectionList:
      if (!value.is_sequence()) {
        return ConfigError(where, "'" + path + "' must be a list, got " + Describe(value));
      }
      for (size_t i = 0; i < value.items().size(); ++i) {
        CAIRN_RETURN_IF_ERROR(
            ValidateMap(value.items()[i], key.children, path + "[" + std::to_string(i) + "]"));
      }
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

const std::vector<ConfigKey>& ArtifactCacheKeys() {
  static const std::vector<ConfigKey> kKeys = EndpointKeys(true);
  return kKeys;
}

const std::vector<ConfigKey>& SchemaFor(ConfigFileKind kind) {
  static const std::vector<ConfigKey> kProject = ProjectKeys();
  static const std::vector<ConfigKey> kUser = UserKeys(true);
  static const std::vector<ConfigKey> kDefaults = UserKeys(false);
  switch (kind) {
    case ConfigFileKind::kProject:
      return kProject;
    case ConfigFileKind::kUser:
      return kUser;
    case ConfigFileKind::kDefaults:
    case ConfigFileKind::kCommandLine:
      return kDefaults;
  }
  return kDefaults;
}

Status ValidateConfig(const ConfigNode& node, const std::vector<ConfigKey>& schema) {
  return ValidateMap(node, schema, "");
}

}  // namespace cairn
