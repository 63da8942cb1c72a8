#include "cairn/runtime/plugin_descriptor_check.h"

#include <cstddef>

namespace cairn {

namespace {

// Size of a struct up to and including `member`.
#define CAIRN_SIZE_THROUGH(type, member) \
  (offsetof(type, member) + sizeof(decltype(((type*)nullptr)->member)))

// The size of each table a plugin hands over, as every minor version of
// ABI 1 defines it (index = minor). A new minor appends one entry to each.
struct TableSizes {
  const char* what;
  size_t by_minor[CAIRN_ABI_VERSION_MINOR + 1];
};
constexpr TableSizes kDescriptorSizes = {"its descriptor",
                                         {CAIRN_SIZE_THROUGH(cairn_plugin_descriptor, vtable),
                                          CAIRN_SIZE_THROUGH(cairn_plugin_descriptor, vtable)}};
constexpr TableSizes kSandboxVtableSizes = {
    "the sandbox function table",
    {CAIRN_SIZE_THROUGH(cairn_sandbox_vtable, run_interactive),
     CAIRN_SIZE_THROUGH(cairn_sandbox_vtable, run_interactive)}};
constexpr TableSizes kStorageVtableSizes = {
    "the storage function table",
    {CAIRN_SIZE_THROUGH(cairn_storage_vtable, ops), CAIRN_SIZE_THROUGH(cairn_storage_vtable, ops)}};
constexpr TableSizes kStorageOpsSizes = {"the storage operations table",
                                         {CAIRN_SIZE_THROUGH(cairn_storage_ops, stats),
                                          CAIRN_SIZE_THROUGH(cairn_storage_ops, remove_asset)}};
static_assert(kStorageOpsSizes.by_minor[CAIRN_ABI_VERSION_MINOR] == sizeof(cairn_storage_ops),
              "a table grew: give it its size for the new minor version");
static_assert(kDescriptorSizes.by_minor[CAIRN_ABI_VERSION_MINOR] == sizeof(cairn_plugin_descriptor),
              "a table grew: give it its size for the new minor version");
static_assert(kSandboxVtableSizes.by_minor[CAIRN_ABI_VERSION_MINOR] == sizeof(cairn_sandbox_vtable),
              "a table grew: give it its size for the new minor version");

std::string AbiText(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// A table of a minor this host knows must have exactly the size that minor
// defines; one of a newer minor may only have grown past the newest size
// this host knows (the host then uses only the part it knows).
std::string CheckStructSize(const TableSizes& sizes, uint32_t size, uint32_t minor) {
  bool known = minor <= CAIRN_ABI_VERSION_MINOR;
  size_t expected = sizes.by_minor[known ? minor : CAIRN_ABI_VERSION_MINOR];
  if (known ? size == expected : size >= expected) return "";
  return std::string(sizes.what) + " has struct_size " + std::to_string(size) +
         ", but plugin ABI " + AbiText(CAIRN_ABI_VERSION_MAJOR, minor) +
         (known ? " defines it as " : " needs at least ") + std::to_string(expected) + " bytes";
}

std::string CheckSandbox(const cairn_sandbox_vtable* vtable, uint32_t minor) {
  std::string problem = CheckStructSize(kSandboxVtableSizes, vtable->struct_size, minor);
  if (!problem.empty()) return problem;
  if (vtable->create == nullptr) return "required callback 'create' is NULL";
  if (vtable->destroy == nullptr) return "required callback 'destroy' is NULL";
  if (vtable->capabilities == nullptr) return "required callback 'capabilities' is NULL";
  if (vtable->execute == nullptr) return "required callback 'execute' is NULL";
  return "";
}

std::string CheckStorage(const cairn_storage_vtable* vtable, uint32_t minor) {
  std::string problem = CheckStructSize(kStorageVtableSizes, vtable->struct_size, minor);
  if (!problem.empty()) return problem;
  if (vtable->open == nullptr) return "required callback 'open' is NULL";
  if (vtable->close == nullptr) return "required callback 'close' is NULL";
  const cairn_storage_ops* ops = vtable->ops;
  if (ops == nullptr) return "required table 'ops' is NULL";
  problem = CheckStructSize(kStorageOpsSizes, ops->struct_size, minor);
  if (!problem.empty()) return problem;
  struct Required {
    const char* name;
    const void* pointer;
  };
  const Required required[] = {
      {"find_missing", reinterpret_cast<const void*>(ops->find_missing)},
      {"contains", reinterpret_cast<const void*>(ops->contains)},
      {"read_blob", reinterpret_cast<const void*>(ops->read_blob)},
      {"write_blob", reinterpret_cast<const void*>(ops->write_blob)},
      {"read_blob_to_fd", reinterpret_cast<const void*>(ops->read_blob_to_fd)},
      {"write_blob_from_fd", reinterpret_cast<const void*>(ops->write_blob_from_fd)},
      {"read_blob_to_path", reinterpret_cast<const void*>(ops->read_blob_to_path)},
      {"write_blob_from_path", reinterpret_cast<const void*>(ops->write_blob_from_path)},
      {"stage_tree", reinterpret_cast<const void*>(ops->stage_tree)},
      {"capture_tree", reinterpret_cast<const void*>(ops->capture_tree)},
      {"get_action_result", reinterpret_cast<const void*>(ops->get_action_result)},
      {"update_action_result", reinterpret_cast<const void*>(ops->update_action_result)},
      {"get_reference", reinterpret_cast<const void*>(ops->get_reference)},
      {"set_reference", reinterpret_cast<const void*>(ops->set_reference)},
  };
  for (const Required& callback : required) {
    if (callback.pointer == nullptr) {
      return std::string("required callback 'ops.") + callback.name + "' is NULL";
    }
  }
  return "";
}

}  // namespace

std::string CheckPluginDescriptor(const cairn_plugin_descriptor* descriptor, PluginRecord* record) {
  // Negotiate first: the layout of anything past the version fields is
  // only known once the major version matches.
  if (descriptor->struct_size < offsetof(cairn_plugin_descriptor, kind)) {
    return "its descriptor is too small (" + std::to_string(descriptor->struct_size) +
           " bytes) to hold an ABI version";
  }
  record->abi_major = descriptor->abi_major;
  record->abi_minor = descriptor->abi_minor;
  if (descriptor->abi_major != CAIRN_ABI_VERSION_MAJOR) {
    return "it was built for plugin ABI " + AbiText(descriptor->abi_major, descriptor->abi_minor) +
           ", but this host speaks plugin ABI " +
           AbiText(CAIRN_ABI_VERSION_MAJOR, CAIRN_ABI_VERSION_MINOR) +
           " (major versions must match)";
  }
  std::string problem =
      CheckStructSize(kDescriptorSizes, descriptor->struct_size, descriptor->abi_minor);
  if (!problem.empty()) return problem;
  if (descriptor->name == nullptr || descriptor->name[0] == '\0')
    return "its descriptor has no name";
  record->name = descriptor->name;
  record->version = descriptor->version != nullptr ? descriptor->version : "";
  record->description = descriptor->description != nullptr ? descriptor->description : "";
  if (descriptor->version == nullptr) return "its descriptor has no version";
  if (descriptor->vtable == nullptr) return "its descriptor has no function table";
  switch (descriptor->kind) {
    case CAIRN_PLUGIN_KIND_SANDBOX:
      record->kind = PluginKind::kSandbox;
      return CheckSandbox(static_cast<const cairn_sandbox_vtable*>(descriptor->vtable),
                          descriptor->abi_minor);
    case CAIRN_PLUGIN_KIND_STORAGE:
      record->kind = PluginKind::kStorage;
      return CheckStorage(static_cast<const cairn_storage_vtable*>(descriptor->vtable),
                          descriptor->abi_minor);
    default:
      return "its descriptor has the unknown kind " + std::to_string(descriptor->kind) +
             " (expected 1 = sandbox or 2 = storage)";
  }
}

}  // namespace cairn
