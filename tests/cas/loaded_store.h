// loaded_store.h — the real cas-local plugin, loaded the way the host loads it.
//
// A cairn::Runtime over the one plugin file: discovered, negotiated and
// opened exactly as `cairn` opens its store, then driven through the C ABI
// by the Runtime's StorageClient. Shared by the tests and their helper
// executable (header-only on purpose).
#ifndef CAIRN_TESTS_CAS_LOADED_STORE_H
#define CAIRN_TESTS_CAS_LOADED_STORE_H

#include <memory>
#include <string>

#include "cairn/runtime/runtime.h"
#include "cairn/status.h"

namespace cairn::testing {

class LoadedStore {
 public:
  // options_yaml: the plugin's options, e.g. "path: /tmp/x\nquota: 10M\n".
  static StatusOr<std::unique_ptr<LoadedStore>> Open(const std::string& plugin_path,
                                                     const std::string& options_yaml) {
    auto registry = std::make_shared<PluginRegistry>(PluginRegistry::Discover({plugin_path}));
    if (registry->plugins().empty()) return NotFound("no plugin at " + plugin_path);
    const PluginRecord& record = registry->plugins().front();
    if (!record.loaded) return FailedPrecondition(plugin_path + ": " + record.reason);
    RuntimeOptions options;
    options.storage.plugin = record.name;
    options.storage.options_yaml = options_yaml;
    std::unique_ptr<LoadedStore> loaded(new LoadedStore());
    loaded->runtime_ = std::make_unique<Runtime>(options, registry);
    CAIRN_ASSIGN_OR_RETURN(loaded->storage_, loaded->runtime_->OpenStorage());
    return loaded;
  }

  ~LoadedStore() {
    storage_.reset();
    runtime_.reset();
  }

  Storage& storage() { return *storage_; }
  Storage* operator->() { return storage_.get(); }

 private:
  LoadedStore() = default;

  std::unique_ptr<Runtime> runtime_;
  std::shared_ptr<Storage> storage_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_CAS_LOADED_STORE_H
