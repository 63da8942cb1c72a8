// cairn/runtime/config_schema.h — which keys each configuration file may hold.
//
// Unknown keys are errors, never silently ignored: a misspelt `sandbx:`
// must not quietly fall back to the default sandbox. Each file kind has its
// own schema (the project's cairn.yaml chooses plugins; the user's
// config.yaml also holds caches, credentials and per-project overrides).
#ifndef CAIRN_RUNTIME_CONFIG_SCHEMA_H
#define CAIRN_RUNTIME_CONFIG_SCHEMA_H

#include <string>
#include <vector>

#include "cairn/runtime/config_node.h"
#include "cairn/status.h"

namespace cairn {

enum class ConfigType {
  kString,
  kInt,
  kBool,
  kStringList,
  kSection,        // a mapping with the keys in `children`
  kAnyMap,         // a mapping passed on as it is (plugin options)
  kNamedSections,  // NAME: {children} for any NAME (projects:)
  kNamedMaps,      // NAME: {any mapping} for any NAME (sandboxes:)
  kSectionList,    // a list of {children} (artifact-caches:)
};

struct ConfigKey {
  std::string name;
  ConfigType type;
  std::vector<ConfigKey> children;
};

enum class ConfigFileKind { kDefaults, kProject, kUser, kCommandLine };

const std::vector<ConfigKey>& SchemaFor(ConfigFileKind kind);

// The keys of one artifact cache (an `artifact-caches:` entry of the user
// configuration, or of a project's `artifacts:`).
const std::vector<ConfigKey>& ArtifactCacheKeys();

// Checks `node` (a whole file) against the schema. The first problem is an
// INVALID_ARGUMENT "FILE:LINE:COLUMN: message" naming the key and what was
// expected.
Status ValidateConfig(const ConfigNode& node, const std::vector<ConfigKey>& schema);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CONFIG_SCHEMA_H
