// loaded_store.h — the real cas-local plugin, loaded the way the host loads it.
//
// dlopen()s the built .so, negotiates through its one entry symbol, opens a
// store through the storage vtable and drives it with cairn::StorageClient,
// so every test goes through the C ABI. Shared by the tests, their helper
// executable and the benchmark (header-only on purpose).
#ifndef CAIRN_TESTS_CAS_LOADED_STORE_H
#define CAIRN_TESTS_CAS_LOADED_STORE_H

#include <dlfcn.h>

#include <memory>
#include <string>

#include "cairn/abi.h"
#include "cairn/plugin.h"
#include "cairn/status.h"
#include "cairn/storage_client.h"

namespace cairn::testing {

class LoadedStore {
 public:
  // options_yaml: the plugin's options, e.g. "path: /tmp/x\nquota: 10M\n".
  static StatusOr<std::unique_ptr<LoadedStore>> Open(const std::string& plugin_path,
                                                     const std::string& options_yaml) {
    std::unique_ptr<LoadedStore> loaded(new LoadedStore());
    loaded->library_ = ::dlopen(plugin_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (loaded->library_ == nullptr) return Internal(std::string("dlopen: ") + ::dlerror());
    auto entry = reinterpret_cast<cairn_plugin_entry_fn>(
        ::dlsym(loaded->library_, CAIRN_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr) return Internal("no entry symbol in " + plugin_path);
    const cairn_plugin_descriptor* descriptor =
        entry(CAIRN_ABI_VERSION_MAJOR, CAIRN_ABI_VERSION_MINOR);
    if (descriptor == nullptr || descriptor->kind != CAIRN_PLUGIN_KIND_STORAGE ||
        descriptor->abi_major != CAIRN_ABI_VERSION_MAJOR) {
      return Internal(plugin_path + " is not a storage plugin of ABI 1");
    }
    loaded->vtable_ = static_cast<const cairn_storage_vtable*>(descriptor->vtable);
    loaded->services_.struct_size = sizeof(cairn_host_services);
    loaded->services_.abi_major = CAIRN_ABI_VERSION_MAJOR;
    loaded->services_.abi_minor = CAIRN_ABI_VERSION_MINOR;
    CAIRN_RETURN_IF_ERROR(CallPlugin("open", [&](cairn_error* error) {
      return loaded->vtable_->open(&loaded->services_, options_yaml.data(), options_yaml.size(),
                                   &loaded->store_, error);
    }));
    loaded->client_ =
        std::make_unique<StorageClient>(loaded->vtable_->ops, loaded->store_, "cas-local");
    return loaded;
  }

  ~LoadedStore() {
    client_.reset();
    if (store_ != nullptr) vtable_->close(store_);
    // The library stays loaded: protobuf descriptors registered through it
    // must outlive the process's static destructors.
  }

  Storage& storage() { return *client_; }
  Storage* operator->() { return client_.get(); }

 private:
  LoadedStore() = default;

  void* library_ = nullptr;
  const cairn_storage_vtable* vtable_ = nullptr;
  cairn_host_services services_{};
  void* store_ = nullptr;
  std::unique_ptr<StorageClient> client_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_CAS_LOADED_STORE_H
