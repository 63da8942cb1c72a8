#include "cairn/host/host_runtime.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include <boost/dll/shared_library.hpp>

#include "cairn/abi.h"
#include "cairn/host/cancellation.h"
#include "cairn/sandbox_client.h"
#include "cairn/storage_client.h"
#include "cairn/storage_ops.h"

namespace cairn {

struct HostRuntime::PluginContext {
  std::string plugin_name;
  cairn_host_services services{};
};

namespace {

void LogFromPlugin(void* host, int32_t level, const char* message, uint64_t size) {
  try {
    auto* context = static_cast<const std::string*>(host);
    std::string_view text(message != nullptr ? message : "", message != nullptr ? size : 0);
    spdlog::level::level_enum spd_level = spdlog::level::info;
    switch (level) {
      case CAIRN_LOG_TRACE: spd_level = spdlog::level::trace; break;
      case CAIRN_LOG_DEBUG: spd_level = spdlog::level::debug; break;
      case CAIRN_LOG_INFO: spd_level = spdlog::level::info; break;
      case CAIRN_LOG_WARN: spd_level = spdlog::level::warn; break;
      default: spd_level = spdlog::level::err; break;
    }
    spdlog::log(spd_level, "[{}] {}", *context, text);
  } catch (...) {
    // Logging must never fail the plugin's operation.
  }
}

int32_t IsCancelled(void*) { return CancellationRequested() ? 1 : 0; }

// A storage plugin's store: closed, and its library released, with the
// last reference.
class OwnedStorage : public StorageClient {
 public:
  OwnedStorage(const PluginRecord& record, void* store)
      : StorageClient(record.storage()->ops, store, "storage plugin " + record.name),
        library_(record.library),
        vtable_(record.storage()),
        store_(store) {}
  ~OwnedStorage() override {
    try {
      vtable_->close(store_);
    } catch (...) {
    }
  }

 private:
  std::shared_ptr<boost::dll::shared_library> library_;
  const cairn_storage_vtable* vtable_;
  void* store_;
};

struct OwnedSandbox {
  std::shared_ptr<boost::dll::shared_library> library;
  std::unique_ptr<SandboxClient> client;
};

// "FILE:LINE:COLUMN: " when the options came from a file.
std::string OptionsPrefix(const PluginChoice& choice) {
  const SourceLocation& where =
      choice.options_location.file.empty() ? choice.location : choice.options_location;
  return where.file.empty() ? std::string() : where.ToString();
}

}  // namespace

HostRuntime::HostRuntime(const Config& config, const PluginRegistry& registry)
    : config_(config), registry_(registry) {}

Status HostRuntime::PrepareScratchDir() {
  if (!scratch_dir_.empty()) return Status::Ok();
  std::string dir = config_.cache_dir + "/scratch";
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return Status(CodeFromErrno(error.value()),
                  "cannot create the scratch directory " + dir + ": " + error.message());
  }
  scratch_dir_ = dir;
  return Status::Ok();
}

HostRuntime::~HostRuntime() {
  sandboxes_.clear();
  storage_.reset();
}

HostRuntime::PluginContext* HostRuntime::NewContext(const std::string& plugin_name,
                                                    bool with_cas) {
  auto context = std::make_unique<PluginContext>();
  context->plugin_name = plugin_name;
  cairn_host_services& services = context->services;
  services.struct_size = sizeof(cairn_host_services);
  services.abi_major = CAIRN_ABI_VERSION_MAJOR;
  services.abi_minor = CAIRN_ABI_VERSION_MINOR;
  services.host = &context->plugin_name;
  services.log = &LogFromPlugin;
  services.is_cancelled = &IsCancelled;
  if (with_cas) {
    services.cas = MakeStorageOps();
    services.cas_store = static_cast<Storage*>(storage_.get());
  }
  services.scratch_dir = scratch_dir_.empty() ? nullptr : scratch_dir_.c_str();
  contexts_.push_back(std::move(context));
  return contexts_.back().get();
}

StatusOr<std::shared_ptr<Storage>> HostRuntime::OpenStorage() {
  if (storage_) return storage_;
  const PluginChoice& choice = config_.storage;
  StatusOr<const PluginRecord*> record = registry_.Find(PluginKind::kStorage, choice.plugin);
  if (!record.ok()) return record.status().WithContext(choice.location.ToString());
  PluginContext* context = NewContext((*record)->name, /*with_cas=*/false);
  void* store = nullptr;
  const cairn_storage_vtable* vtable = (*record)->storage();
  Status opened = CallPlugin("storage plugin " + (*record)->name + ": open", [&](cairn_error* error) {
    return vtable->open(&context->services, choice.options_yaml.c_str(),
                        choice.options_yaml.size(), &store, error);
  });
  if (!opened.ok()) {
    std::string prefix = OptionsPrefix(choice);
    return prefix.empty() ? opened : opened.WithContext(prefix);
  }
  if (store == nullptr) {
    return Internal("storage plugin " + (*record)->name + ": open returned OK but no store");
  }
  storage_ = std::make_shared<OwnedStorage>(**record, store);
  return storage_;
}

StatusOr<std::shared_ptr<Sandbox>> HostRuntime::OpenSandbox(const std::string& name) {
  std::string wanted = name.empty() ? config_.sandbox.plugin : name;
  auto found = sandboxes_.find(wanted);
  if (found != sandboxes_.end()) return found->second;
  // The configured options belong to the configured plugin only.
  bool configured = wanted == config_.sandbox.plugin;
  std::string options = configured ? config_.sandbox.options_yaml : std::string();
  StatusOr<const PluginRecord*> record = registry_.Find(PluginKind::kSandbox, wanted);
  if (!record.ok()) {
    return configured && name.empty() ? record.status().WithContext(config_.sandbox.location.ToString())
                                      : record.status();
  }
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Storage> storage, OpenStorage());
  (void)storage;
  CAIRN_RETURN_IF_ERROR(PrepareScratchDir());
  PluginContext* context = NewContext((*record)->name, /*with_cas=*/true);
  StatusOr<std::unique_ptr<SandboxClient>> client = SandboxClient::Create(
      (*record)->sandbox(), &context->services, options, "sandbox plugin " + (*record)->name);
  if (!client.ok()) {
    std::string prefix = configured ? OptionsPrefix(config_.sandbox) : std::string();
    return prefix.empty() ? client.status() : client.status().WithContext(prefix);
  }
  auto owned = std::make_shared<OwnedSandbox>();
  owned->library = (*record)->library;
  owned->client = std::move(client).value();
  std::shared_ptr<Sandbox> sandbox(owned, owned->client.get());
  sandboxes_[wanted] = sandbox;
  return sandbox;
}

}  // namespace cairn
