// cairn/plugin_support.h — writing a Cairn plugin in C++.
//
// Implement cairn::Sandbox or cairn::Storage, give the class a static
// factory, and let one macro define the descriptor and the exported entry
// symbol. Every C callback it generates is guarded (GuardedCall), so an
// exception inside the plugin becomes CAIRN_CODE_INTERNAL, never a crash.
//
//   class MySandbox : public cairn::Sandbox {
//    public:
//     static cairn::StatusOr<std::unique_ptr<cairn::Sandbox>> Create(
//         const cairn::HostServices& host, std::string_view options_yaml);
//     ...
//   };
//   CAIRN_DEFINE_SANDBOX_PLUGIN(MySandbox, "mine", "1.0.0", "Runs actions my way")
//
// Storage plugins use CAIRN_DEFINE_STORAGE_PLUGIN with a static
// `Open(const HostServices&, std::string_view) -> StatusOr<std::unique_ptr<Storage>>`.
#ifndef CAIRN_PLUGIN_SUPPORT_H
#define CAIRN_PLUGIN_SUPPORT_H

#include <memory>
#include <string_view>

#include "cairn/abi.h"
#include "cairn/host_services.h"
#include "cairn/plugin.h"
#include "cairn/sandbox.h"
#include "cairn/storage.h"
#include "cairn/storage_ops.h"

namespace cairn {

// The caller's cairn_execute_options as ExecuteOptions: only the fields its
// struct_size holds; its callbacks are called through the returned
// functions, which are valid while `options` is (the execute call).
ExecuteOptions ExecuteOptionsFromAbi(const cairn_execute_options* options);
// Fills the caller's cairn_execute_report (when it gave one, within its
// struct_size) from the outcome.
void FillExecuteReport(const ExecuteOutcome& outcome, const cairn_execute_options* options);

template <typename Impl>
struct SandboxPluginAdapter {
  struct Instance {
    HostServices host;
    std::unique_ptr<Sandbox> sandbox;
  };

  // Details go into the host's cairn_error only when it has the field.
  static ErrorDetails Details(void* instance) {
    return DetailsFor(static_cast<Instance*>(instance)->host.abi_minor());
  }

  static int32_t Create(const cairn_host_services* host, const char* options, uint64_t options_size,
                        void** out, cairn_error* error) {
    HostServices services(host);
    return GuardedCall(
        error, "create",
        [&]() -> Status {
          CAIRN_ASSIGN_OR_RETURN(
              std::unique_ptr<Sandbox> sandbox,
              Impl::Create(services,
                           std::string_view(options ? options : "", options ? options_size : 0)));
          *out = new Instance{services, std::move(sandbox)};
          return Status::Ok();
        },
        DetailsFor(services.abi_minor()));
  }

  static void Destroy(void* instance) noexcept {
    try {
      delete static_cast<Instance*>(instance);
    } catch (...) {
    }
  }

  static int32_t Capabilities(void* instance, cairn_buffer* platform, uint32_t* flags,
                              cairn_error* error) {
    return GuardedCall(
        error, "capabilities",
        [&]() -> Status {
          CAIRN_ASSIGN_OR_RETURN(SandboxCapabilities capabilities,
                                 static_cast<Instance*>(instance)->sandbox->Capabilities());
          FillBuffer(platform, capabilities.platform.SerializeAsString());
          *flags = capabilities.flags;
          return Status::Ok();
        },
        Details(instance));
  }

  static int32_t Execute(void* instance, cairn_bytes action, const cairn_execute_options* options,
                         cairn_buffer* result, cairn_error* error) {
    return GuardedCall(
        error, "execute",
        [&]() -> Status {
          Action parsed;
          if (!parsed.ParseFromArray(action.data, static_cast<int>(action.size))) {
            return InvalidArgument("execute: the action is not a serialized REAPI Action");
          }
          ExecuteOutcome outcome = static_cast<Instance*>(instance)->sandbox->Execute(
              parsed, ExecuteOptionsFromAbi(options));
          if (outcome.result) FillBuffer(result, outcome.result->SerializeAsString());
          FillExecuteReport(outcome, options);
          return outcome.status;
        },
        Details(instance));
  }

  static int32_t RunInteractive(void* instance, cairn_bytes action,
                                const cairn_interactive_options* options, int32_t* exit_code,
                                cairn_error* error) {
    return GuardedCall(
        error, "run_interactive",
        [&]() -> Status {
          Action parsed;
          if (!parsed.ParseFromArray(action.data, static_cast<int>(action.size))) {
            return InvalidArgument("run_interactive: the action is not a serialized REAPI Action");
          }
          InteractiveOptions interactive;
          if (options != nullptr) {
            interactive.stdin_fd = options->stdin_fd;
            interactive.stdout_fd = options->stdout_fd;
            interactive.stderr_fd = options->stderr_fd;
          }
          CAIRN_ASSIGN_OR_RETURN(
              int code,
              static_cast<Instance*>(instance)->sandbox->RunInteractive(parsed, interactive));
          *exit_code = code;
          return Status::Ok();
        },
        Details(instance));
  }

  static const cairn_sandbox_vtable* Vtable(ErrorDetails) {
    static const cairn_sandbox_vtable kVtable = {
        sizeof(cairn_sandbox_vtable), &Create, &Destroy, &Capabilities, &Execute, &RunInteractive,
    };
    return &kVtable;
  }
};

template <typename Impl>
struct StoragePluginAdapter {
  static int32_t Open(const cairn_host_services* host, const char* options, uint64_t options_size,
                      void** out, cairn_error* error) {
    HostServices services(host);
    return GuardedCall(
        error, "open",
        [&]() -> Status {
          CAIRN_ASSIGN_OR_RETURN(
              std::unique_ptr<Storage> storage,
              Impl::Open(services,
                         std::string_view(options ? options : "", options ? options_size : 0)));
          *out = storage.release();  // the ops' store argument is a Storage*
          return Status::Ok();
        },
        DetailsFor(services.abi_minor()));
  }

  static void Close(void* store) noexcept {
    try {
      delete static_cast<Storage*>(store);
    } catch (...) {
    }
  }

  // The host's minor, known at the entry call, says whether its
  // cairn_error has room for details.
  static const cairn_storage_vtable* Vtable(ErrorDetails details) {
    static const cairn_storage_vtable kWithDetails = {sizeof(cairn_storage_vtable), &Open, &Close,
                                                      MakeStorageOps(ErrorDetails::kWrite)};
    static const cairn_storage_vtable kWithoutDetails = {
        sizeof(cairn_storage_vtable), &Open, &Close, MakeStorageOps(ErrorDetails::kOmit)};
    return details == ErrorDetails::kWrite ? &kWithDetails : &kWithoutDetails;
  }
};

}  // namespace cairn

// One descriptor for a host that reads error details (ABI 1.1 and later)
// and one for an older host; the entry call picks by the host's minor.
#define CAIRN_DEFINE_PLUGIN_DESCRIPTOR_(kind, Adapter, name, version, description)                \
  extern "C" CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor* cairn_plugin_entry(               \
      uint32_t host_abi_major, uint32_t host_abi_minor) {                                         \
    (void)host_abi_major;                                                                         \
    static const cairn_plugin_descriptor descriptors[2] = {                                       \
        {sizeof(cairn_plugin_descriptor), CAIRN_ABI_VERSION_MAJOR, CAIRN_ABI_VERSION_MINOR, kind, \
         name, version, description, Adapter::Vtable(::cairn::ErrorDetails::kOmit)},              \
        {sizeof(cairn_plugin_descriptor), CAIRN_ABI_VERSION_MAJOR, CAIRN_ABI_VERSION_MINOR, kind, \
         name, version, description, Adapter::Vtable(::cairn::ErrorDetails::kWrite)},             \
    };                                                                                            \
    return &descriptors[::cairn::DetailsFor(host_abi_minor) == ::cairn::ErrorDetails::kWrite];    \
  }

#define CAIRN_DEFINE_SANDBOX_PLUGIN(Impl, name, version, description)                             \
  CAIRN_DEFINE_PLUGIN_DESCRIPTOR_(CAIRN_PLUGIN_KIND_SANDBOX, ::cairn::SandboxPluginAdapter<Impl>, \
                                  name, version, description)

#define CAIRN_DEFINE_STORAGE_PLUGIN(Impl, name, version, description)                             \
  CAIRN_DEFINE_PLUGIN_DESCRIPTOR_(CAIRN_PLUGIN_KIND_STORAGE, ::cairn::StoragePluginAdapter<Impl>, \
                                  name, version, description)

#endif  // CAIRN_PLUGIN_SUPPORT_H
