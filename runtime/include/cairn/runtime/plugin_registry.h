// cairn/runtime/plugin_registry.h — finding and checking plugins.
//
// Discover() looks at every `*.so` in the search paths, in order:
//   1. the configured `plugin-paths`,
//   2. the directories in $CAIRN_PLUGIN_PATH (colon-separated),
//   3. the installed plugin directory (<prefix>/lib/cairn/plugins, found
//      relative to the cairn executable).
// For each it loads the library, calls the entry symbol with the host's ABI
// version, negotiates the version, checks struct sizes and required
// callbacks. A plugin that fails any step is kept as a disabled record with
// the reason, so `cairn plugins` can show it; nothing is skipped silently.
// The first plugin of a kind and name wins; later ones are disabled as
// shadowed.
//
// A record's library stays loaded as long as anything holds its
// `library` pointer; clients created from a plugin keep a copy.
#ifndef CAIRN_RUNTIME_PLUGIN_REGISTRY_H
#define CAIRN_RUNTIME_PLUGIN_REGISTRY_H

#include <memory>
#include <string>
#include <vector>

#include "cairn/plugin.h"
#include "cairn/status.h"

namespace boost::dll {
class shared_library;
}

namespace cairn {

enum class PluginKind { kUnknown, kSandbox, kStorage };
std::string PluginKindName(PluginKind kind);

struct PluginRecord {
  std::string path;
  std::string name;  // from the descriptor; the file name when unknown
  PluginKind kind = PluginKind::kUnknown;
  std::string version;
  std::string description;
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  bool loaded = false;
  std::string reason;  // why it is disabled, when !loaded

  std::shared_ptr<boost::dll::shared_library> library;
  const cairn_plugin_descriptor* descriptor = nullptr;

  const cairn_sandbox_vtable* sandbox() const {
    return static_cast<const cairn_sandbox_vtable*>(descriptor->vtable);
  }
  const cairn_storage_vtable* storage() const {
    return static_cast<const cairn_storage_vtable*>(descriptor->vtable);
  }
};

class PluginRegistry {
 public:
  static PluginRegistry Discover(const std::vector<std::string>& search_paths);

  // configured + $CAIRN_PLUGIN_PATH + the installed directory.
  static std::vector<std::string> SearchPaths(const std::vector<std::string>& configured);
  // <dir of the cairn executable>/../lib/cairn/plugins
  static std::string InstalledPluginDir();

  const std::vector<PluginRecord>& plugins() const { return plugins_; }
  const std::vector<std::string>& search_paths() const { return search_paths_; }

  // The loaded plugin of that kind and name. NOT_FOUND lists what there is;
  // FAILED_PRECONDITION when it exists but is disabled, with the reason.
  StatusOr<const PluginRecord*> Find(PluginKind kind, const std::string& name) const;

  // Checks one library; exposed for tests.
  static PluginRecord Inspect(const std::string& path);

 private:
  std::vector<PluginRecord> plugins_;
  std::vector<std::string> search_paths_;
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_PLUGIN_REGISTRY_H
