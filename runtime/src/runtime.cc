#include "cairn/runtime/runtime.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include <boost/dll/shared_library.hpp>

#include "cairn/abi.h"
#include "cairn/sandbox_client.h"
#include "cairn/status_details.h"
#include "cairn/storage_client.h"
#include "cairn/storage_ops.h"

namespace cairn {

struct Runtime::PluginContext {
  std::string plugin_name;
  const CancellationFlag* cancellation = nullptr;
  cairn_host_services services{};
};

namespace {

void LogFromPlugin(void* host, int32_t level, const char* message, uint64_t size) {
  try {
    const auto* context = static_cast<const Runtime::PluginContext*>(host);
    std::string_view text(message != nullptr ? message : "", message != nullptr ? size : 0);
    spdlog::level::level_enum spd_level = spdlog::level::err;
    switch (level) {
      case CAIRN_LOG_TRACE:
        spd_level = spdlog::level::trace;
        break;
      case CAIRN_LOG_DEBUG:
        spd_level = spdlog::level::debug;
        break;
      case CAIRN_LOG_INFO:
        spd_level = spdlog::level::info;
        break;
      case CAIRN_LOG_WARN:
        spd_level = spdlog::level::warn;
        break;
      default:
        break;
    }
    spdlog::log(spd_level, "[{}] {}", context->plugin_name, text);
  } catch (...) {
    // Logging must never fail the plugin's operation.
  }
}

int32_t IsCancelled(void* host) {
  const CancellationFlag* flag = static_cast<const Runtime::PluginContext*>(host)->cancellation;
  return flag != nullptr && flag->IsCancelled() ? 1 : 0;
}

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

// A sandbox plugin's instance: destroyed, then its library released.
class OwnedSandbox : public Sandbox {
 public:
  OwnedSandbox(std::shared_ptr<boost::dll::shared_library> library,
               std::unique_ptr<SandboxClient> client)
      : library_(std::move(library)), client_(std::move(client)) {}
  ~OwnedSandbox() override { client_.reset(); }

  StatusOr<SandboxCapabilities> Capabilities() override { return client_->Capabilities(); }
  ExecuteOutcome Execute(const Action& action, const ExecuteOptions& options) override {
    return client_->Execute(action, options);
  }
  StatusOr<int> RunInteractive(const Action& action, const InteractiveOptions& options) override {
    return client_->RunInteractive(action, options);
  }

 private:
  std::shared_ptr<boost::dll::shared_library> library_;
  std::unique_ptr<SandboxClient> client_;
};

// "FILE:LINE:COLUMN" of the options when they came from a file, else of
// the choice; "" when neither did.
std::string OptionsPlace(const PluginChoice& choice) {
  const SourceLocation& where =
      choice.options_location.file.empty() ? choice.location : choice.options_location;
  return where.file.empty() ? std::string() : where.ToString();
}

Status PluginFailure(Status status, const std::string& place) {
  if (!place.empty()) status = status.WithContext(place);
  return WithErrorReason(std::move(status), kReasonPlugin);
}

}  // namespace

Runtime::Runtime(RuntimeOptions options, std::shared_ptr<const PluginRegistry> registry)
    : options_(std::move(options)), registry_(std::move(registry)) {}

Runtime::~Runtime() {
  sandboxes_.clear();
  storage_.reset();
}

Status Runtime::PrepareScratchDir() {
  if (scratch_ready_ || options_.scratch_dir.empty()) return Status::Ok();
  std::error_code error;
  std::filesystem::create_directories(options_.scratch_dir, error);
  if (error) {
    return Status(CodeFromErrno(error.value()), "cannot create the scratch directory " +
                                                    options_.scratch_dir + ": " + error.message());
  }
  scratch_ready_ = true;
  return Status::Ok();
}

Runtime::PluginContext* Runtime::NewContext(const PluginRecord& record, bool with_cas) {
  auto context = std::make_unique<PluginContext>();
  context->plugin_name = record.name;
  context->cancellation = options_.cancellation;
  cairn_host_services& services = context->services;
  services.struct_size = sizeof(cairn_host_services);
  services.abi_major = CAIRN_ABI_VERSION_MAJOR;
  services.abi_minor = CAIRN_ABI_VERSION_MINOR;
  services.host = context.get();
  services.log = &LogFromPlugin;
  services.is_cancelled = &IsCancelled;
  if (with_cas) {
    // The plugin's cairn_error is of its own minor: details only for 1.1+.
    services.cas = MakeStorageOps(DetailsFor(record.abi_minor));
    services.cas_store = static_cast<Storage*>(storage_.get());
  }
  services.scratch_dir =
      scratch_ready_ && !options_.scratch_dir.empty() ? options_.scratch_dir.c_str() : nullptr;
  contexts_.push_back(std::move(context));
  return contexts_.back().get();
}

StatusOr<std::shared_ptr<Storage>> Runtime::OpenStorage() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  return OpenStorageLocked();
}

StatusOr<std::shared_ptr<Storage>> Runtime::OpenStorageLocked() {
  if (storage_) return storage_;
  const PluginChoice& choice = options_.storage;
  StatusOr<const PluginRecord*> record = registry_->Find(PluginKind::kStorage, choice.plugin);
  if (!record.ok()) return PluginFailure(record.status(), choice.location.ToString());
  // A store may keep files of its own there (cas-remote's cache of
  // recently read blobs).
  CAIRN_RETURN_IF_ERROR(PrepareScratchDir());
  PluginContext* context = NewContext(**record, /*with_cas=*/false);
  void* store = nullptr;
  const cairn_storage_vtable* vtable = (*record)->storage();
  Status opened =
      CallPlugin("storage plugin " + (*record)->name + ": open", [&](cairn_error* error) {
        return vtable->open(&context->services, choice.options_yaml.c_str(),
                            choice.options_yaml.size(), &store, error);
      });
  if (!opened.ok()) return PluginFailure(opened, OptionsPlace(choice));
  if (store == nullptr) {
    return PluginFailure(
        Internal("storage plugin " + (*record)->name + ": open returned OK but no store"), "");
  }
  storage_ = std::make_shared<OwnedStorage>(**record, store);
  return storage_;
}

StatusOr<std::shared_ptr<Sandbox>> Runtime::OpenSandbox(const std::string& name) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  return OpenSandboxLocked(name, nullptr);
}

StatusOr<std::shared_ptr<Sandbox>> Runtime::OpenSandboxLocked(const std::string& name,
                                                              const PluginChoice* chosen_by) {
  auto found = sandboxes_.find(name);
  if (found != sandboxes_.end()) return found->second;
  // The options: those of the choice that named this plugin, else the
  // plugin's own entry.
  const PluginChoice* options = nullptr;
  if (chosen_by != nullptr && !chosen_by->options_yaml.empty()) options = chosen_by;
  auto configured = options_.sandbox_options.find(name);
  if (options == nullptr && configured != options_.sandbox_options.end()) {
    options = &configured->second;
  }
  if (options == nullptr) options = chosen_by;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> sandbox, NewSandboxLocked(name, options));
  std::shared_ptr<Sandbox> shared = std::move(sandbox);
  sandboxes_[name] = shared;
  return shared;
}

StatusOr<std::unique_ptr<Sandbox>> Runtime::CreateSandbox(const PluginChoice& choice) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  return NewSandboxLocked(choice.plugin, &choice);
}

// `options` (may be null) gives the options and where they came from.
StatusOr<std::unique_ptr<Sandbox>> Runtime::NewSandboxLocked(const std::string& name,
                                                             const PluginChoice* options) {
  StatusOr<const PluginRecord*> record = registry_->Find(PluginKind::kSandbox, name);
  if (!record.ok()) {
    return PluginFailure(record.status(),
                         options != nullptr ? options->location.ToString() : std::string());
  }
  CAIRN_RETURN_IF_ERROR(OpenStorageLocked().status());
  CAIRN_RETURN_IF_ERROR(PrepareScratchDir());
  PluginContext* context = NewContext(**record, /*with_cas=*/true);
  std::string options_yaml = options != nullptr ? options->options_yaml : std::string();
  StatusOr<std::unique_ptr<SandboxClient>> client = SandboxClient::Create(
      (*record)->sandbox(), &context->services, options_yaml, "sandbox plugin " + (*record)->name);
  if (!client.ok()) {
    return PluginFailure(client.status(), options != nullptr ? OptionsPlace(*options) : "");
  }
  return std::unique_ptr<Sandbox>(
      std::make_unique<OwnedSandbox>((*record)->library, std::move(client).value()));
}

StatusOr<std::shared_ptr<Sandbox>> Runtime::BuildSandbox() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  const PluginChoice& choice = options_.build_sandbox;
  if (choice.plugin.empty()) {
    return WithErrorReason(FailedPrecondition("no sandbox is configured ('sandbox.plugin')"),
                           kReasonConfiguration);
  }
  return OpenSandboxLocked(choice.plugin, &choice);
}

StatusOr<std::shared_ptr<Sandbox>> Runtime::LocalSandbox() {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  const PluginChoice& local = options_.local_sandbox;
  if (!local.plugin.empty()) {
    local_sandbox_name_ = local.plugin;
    return OpenSandboxLocked(local.plugin, &local);
  }
  std::string name = kDefaultLocalSandbox;
  const PluginChoice& build = options_.build_sandbox;
  if (!build.plugin.empty()) {
    CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Sandbox> sandbox,
                           OpenSandboxLocked(build.plugin, &build));
    CAIRN_ASSIGN_OR_RETURN(SandboxCapabilities capabilities, sandbox->Capabilities());
    if ((capabilities.flags & CAIRN_SANDBOX_REMOTE) == 0) {
      local_sandbox_name_ = build.plugin;
      return sandbox;
    }
  }
  local_sandbox_name_ = name;
  return OpenSandboxLocked(name, nullptr);
}

std::string Runtime::LocalSandboxName() const {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  return local_sandbox_name_;
}

}  // namespace cairn
