// One source, storage plugins of every minor version of ABI 1: each build
// with CAIRN_MINOR_* claims one minor and hands over the operations table
// of that minor's size, so the host's negotiation is tested against real
// shared objects.
//
//   CAIRN_MINOR_1_0            ABI 1.0, the 1.0-sized table
//   CAIRN_MINOR_1_0_OVERSIZED  ABI 1.0, but a 1.1-sized table (refused)
//   CAIRN_MINOR_1_1            ABI 1.1, the whole table
//   CAIRN_MINOR_NEWER          a minor newer than the host's, with a table
//                              grown past what the host knows
//
// Written against plugin.h alone. The store keeps nothing: every operation
// answers with a message naming the operation, so a test sees which one the
// host called. Callbacks a table's minor does not have abort the process:
// a host that reads past struct_size fails the test loudly.
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "cairn/plugin.h"
#include "raw_error.h"

namespace {

#define ANSWER(name) raw_plugin::Fail(error, CAIRN_CODE_NOT_FOUND, "minor-storage: " name)

int32_t Open(const cairn_host_services*, const char*, uint64_t, void** store, cairn_error*) {
  static int instance;
  *store = &instance;
  return CAIRN_CODE_OK;
}
void Close(void*) {}

int32_t FindMissing(void*, cairn_bytes, cairn_buffer*, cairn_error* error) {
  return ANSWER("find_missing");
}
int32_t Contains(void*, cairn_bytes, int32_t* present, cairn_error*) {
  *present = 1;
  return CAIRN_CODE_OK;
}
int32_t ReadBlob(void*, cairn_bytes, uint64_t, uint64_t, cairn_buffer*, cairn_error* error) {
  return ANSWER("read_blob");
}
int32_t WriteBlob(void*, cairn_bytes, cairn_bytes, cairn_buffer*, cairn_error* error) {
  return ANSWER("write_blob");
}
int32_t ReadBlobToFd(void*, cairn_bytes, int32_t, cairn_error* error) {
  return ANSWER("read_blob_to_fd");
}
int32_t WriteBlobFromFd(void*, int32_t, cairn_bytes, cairn_buffer*, cairn_error* error) {
  return ANSWER("write_blob_from_fd");
}
int32_t ReadBlobToPath(void*, cairn_bytes, const char*, int32_t, cairn_error* error) {
  return ANSWER("read_blob_to_path");
}
int32_t WriteBlobFromPath(void*, const char*, uint32_t, cairn_bytes, cairn_buffer*,
                          cairn_error* error) {
  return ANSWER("write_blob_from_path");
}
int32_t StageTree(void*, cairn_bytes, const char*, uint32_t, cairn_error* error) {
  return ANSWER("stage_tree");
}
int32_t CaptureTree(void*, const char*, uint32_t, cairn_buffer*, cairn_buffer*,
                    cairn_error* error) {
  return ANSWER("capture_tree");
}
int32_t GetActionResult(void*, cairn_bytes, cairn_buffer*, cairn_error* error) {
  return ANSWER("get_action_result (1.0)");
}
int32_t UpdateActionResult(void*, cairn_bytes, cairn_bytes, cairn_error* error) {
  return ANSWER("update_action_result (1.0)");
}
int32_t GetReference(void*, const char*, cairn_buffer*, cairn_error* error) {
  return ANSWER("get_reference");
}
int32_t SetReference(void*, const char*, cairn_bytes, cairn_error* error) {
  return ANSWER("set_reference");
}

#if defined(CAIRN_MINOR_1_0)
// Any 1.1 callback: the host must not even look at it.
int32_t Capabilities(void*, cairn_storage_capabilities*, cairn_error*) { std::abort(); }
#else
int32_t Capabilities(void*, cairn_storage_capabilities* capabilities, cairn_error*) {
  if (capabilities->struct_size >= sizeof(cairn_storage_capabilities)) {
    capabilities->flags = CAIRN_STORAGE_INSTANCES;
    capabilities->max_blob_size = 4096;
  }
  return CAIRN_CODE_OK;
}
#endif
int32_t GetActionResultIn(void*, const char*, cairn_bytes, cairn_buffer*, cairn_error* error) {
  return ANSWER("get_action_result_in (1.1)");
}
int32_t UpdateActionResultIn(void*, const char*, cairn_bytes, cairn_bytes, cairn_error* error) {
  return ANSWER("update_action_result_in (1.1)");
}
int32_t UploadWrite(void*, const char*, cairn_bytes, uint64_t, cairn_bytes, int32_t, uint64_t*,
                    int32_t*, cairn_error* error) {
  return ANSWER("upload_write");
}
int32_t UploadStatus(void*, const char*, cairn_bytes, uint64_t*, int32_t*, cairn_error* error) {
  return ANSWER("upload_status");
}
int32_t UploadAbort(void*, const char*, cairn_error* error) { return ANSWER("upload_abort"); }
int32_t PushAsset(void*, int32_t, cairn_bytes, cairn_error* error) { return ANSWER("push_asset"); }
int32_t FetchAsset(void*, int32_t, cairn_bytes, cairn_buffer*, cairn_error* error) {
  return ANSWER("fetch_asset");
}
int32_t RemoveAsset(void*, int32_t, cairn_bytes, cairn_error* error) {
  return ANSWER("remove_asset");
}

// The table as a newer minor would hand it over: the known part, then
// callbacks this host has never heard of.
struct GrownOps {
  cairn_storage_ops known;
  void (*added_in_a_later_minor)(void);
};

constexpr uint32_t kOps10Size = offsetof(cairn_storage_ops, stats) + sizeof(void*);

#if defined(CAIRN_MINOR_1_0)
constexpr uint32_t kMinor = 0;
constexpr uint32_t kOpsSize = kOps10Size;
#elif defined(CAIRN_MINOR_1_0_OVERSIZED)
constexpr uint32_t kMinor = 0;
constexpr uint32_t kOpsSize = sizeof(cairn_storage_ops);
#elif defined(CAIRN_MINOR_NEWER)
constexpr uint32_t kMinor = CAIRN_ABI_VERSION_MINOR + 1;
constexpr uint32_t kOpsSize = sizeof(GrownOps);
#else
constexpr uint32_t kMinor = 1;
constexpr uint32_t kOpsSize = sizeof(cairn_storage_ops);
#endif

const GrownOps kOps = {
    {kOpsSize,
     &FindMissing,
     &Contains,
     &ReadBlob,
     &WriteBlob,
     &ReadBlobToFd,
     &WriteBlobFromFd,
     &ReadBlobToPath,
     &WriteBlobFromPath,
     &StageTree,
     &CaptureTree,
     &GetActionResult,
     &UpdateActionResult,
     &GetReference,
     &SetReference,
     nullptr,
     nullptr,
     nullptr,
     &Capabilities,
     &GetActionResultIn,
     &UpdateActionResultIn,
     &UploadWrite,
     &UploadStatus,
     &UploadAbort,
     &PushAsset,
     &FetchAsset,
     &RemoveAsset},
    nullptr,
};

const cairn_storage_vtable kVtable = {sizeof(cairn_storage_vtable), &Open, &Close, &kOps.known};

const cairn_plugin_descriptor kDescriptor = {
    sizeof(cairn_plugin_descriptor),
    CAIRN_ABI_VERSION_MAJOR,
    kMinor,
    CAIRN_PLUGIN_KIND_STORAGE,
    CAIRN_VARIANT_NAME,
    "0.1.0",
    "a storage plugin of one ABI minor",
    &kVtable,
};

}  // namespace

extern "C" CAIRN_PLUGIN_EXPORT const cairn_plugin_descriptor* cairn_plugin_entry(uint32_t,
                                                                                 uint32_t) {
  return &kDescriptor;
}
