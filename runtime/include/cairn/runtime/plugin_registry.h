// cairn/runtime/plugin_registry.h — finding and checking plugins.
//
// The search path is, in order:
//   1. the configured `plugin-paths`,
//   2. the directories in $CAIRN_PLUGIN_PATH (colon-separated),
//   3. the installed plugin directory (<prefix>/lib/cairn/plugins, found
//      relative to the cairn executable).
// An entry is a directory (its `*.so` files, in name order) or one file; a
// directory listed twice counts once. Checking a library loads it, calls
// the entry symbol with the host's ABI version, negotiates the version,
// checks struct sizes and required callbacks. A plugin that fails any step
// is a disabled record with the reason; nothing is skipped silently.
//
// Shadowing: the first loadable plugin of a kind and name on the search
// path wins; later ones are disabled as shadowed. A file named
// `cairn-NAME.so` must hold the plugin NAME (else it is disabled), which
// lets a lookup skip the files promised to other plugins.
//
// Two ways to build a registry:
//   - OnSearchPath() loads nothing up front. Find() loads only the plugin
//     asked for: files named cairn-NAME.so are checked in this process, any
//     other file is first probed in a child process (plugin_probe.h) and
//     loaded here only if it is the one wanted. A library that crashes
//     while loading therefore never takes down a command that does not use
//     it. Survey() probes every library in a child, for `cairn plugins`.
//   - Discover() checks every library in this process up front: for tests
//     and tools whose search path holds only libraries known not to crash.
//
// A record's library stays loaded as long as anything holds its `library`
// pointer; clients created from a plugin keep a copy. Records Find()
// returns live as long as the registry. Find() and Survey() are
// thread-safe.
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
  // Every library on the search path, checked in this process now.
  static PluginRegistry Discover(const std::vector<std::string>& search_paths);
  // The search path alone: Find() loads what it is asked for, when asked.
  static PluginRegistry OnSearchPath(const std::vector<std::string>& search_paths);

  PluginRegistry(PluginRegistry&& other) noexcept;
  PluginRegistry& operator=(PluginRegistry&& other) noexcept;
  ~PluginRegistry();

  // configured + $CAIRN_PLUGIN_PATH + the installed directory.
  static std::vector<std::string> SearchPaths(const std::vector<std::string>& configured);
  // <dir of the cairn executable>/../lib/cairn/plugins
  static std::string InstalledPluginDir();

  // Discover(): every plugin found. OnSearchPath(): none (see Survey()).
  const std::vector<PluginRecord>& plugins() const { return plugins_; }
  // The search path, each directory once.
  const std::vector<std::string>& search_paths() const { return search_paths_; }

  // The loaded plugin of that kind and name. NOT_FOUND lists what there is
  // and where it looked; FAILED_PRECONDITION when it exists but is
  // disabled, with the reason.
  StatusOr<const PluginRecord*> Find(PluginKind kind, const std::string& name) const;

  // Every library on the search path, each probed in a child process, with
  // the shadowing rule applied. The records describe; none is usable.
  std::vector<PluginRecord> Survey() const;

  // Checks one library in this process; exposed for tests.
  static PluginRecord Inspect(const std::string& path);

 private:
  struct Lookups;  // what OnSearchPath()'s Find() has loaded so far

  PluginRegistry();
  StatusOr<const PluginRecord*> LookUp(PluginKind kind, const std::string& name) const;

  std::vector<PluginRecord> plugins_;
  std::vector<std::string> search_paths_;
  std::unique_ptr<Lookups> lookups_;
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_PLUGIN_REGISTRY_H
