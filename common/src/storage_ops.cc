#include "cairn/storage_ops.h"

#include <cstring>
#include <utility>

#include "cairn/abi.h"

namespace cairn {
namespace {

Storage* AsStorage(void* store) { return static_cast<Storage*>(store); }

// GuardedCall, writing typed error details only when the caller's
// cairn_error has the field (D).
template <ErrorDetails D, typename Body>
int32_t Guarded(cairn_error* error, const char* what, Body&& body) noexcept {
  return GuardedCall(error, what, std::forward<Body>(body), D);
}

StatusOr<AssetKind> ParseAssetKind(const char* what, int32_t kind) {
  if (kind == CAIRN_ASSET_BLOB) return AssetKind::kBlob;
  if (kind == CAIRN_ASSET_DIRECTORY) return AssetKind::kDirectory;
  return InvalidArgument(std::string(what) + ": unknown asset kind " + std::to_string(kind));
}

template <typename Message>
Status ParseRequest(const char* what, cairn_bytes bytes, Message* message) {
  if (!message->ParseFromArray(bytes.data, static_cast<int>(bytes.size))) {
    return InvalidArgument(std::string(what) + ": the request is not a " +
                           message->GetDescriptor()->name());
  }
  return Status::Ok();
}

Status RequireOutput(const char* what, const void* output) {
  if (output == nullptr) return InvalidArgument(std::string(what) + ": an output pointer is NULL");
  return Status::Ok();
}

// An empty expected digest means "none"; anything else must parse.
StatusOr<std::optional<Digest>> OptionalDigest(cairn_bytes bytes) {
  if (bytes.size == 0) return std::optional<Digest>();
  CAIRN_ASSIGN_OR_RETURN(Digest digest, DigestFromWire(ViewOf(bytes)));
  return std::optional<Digest>(std::move(digest));
}

template <ErrorDetails D>
int32_t FindMissing(void* store, cairn_bytes request, cairn_buffer* response, cairn_error* error) {
  return Guarded<D>(error, "find_missing", [&]() -> Status {
    build::bazel::remote::execution::v2::FindMissingBlobsRequest parsed;
    if (!parsed.ParseFromArray(request.data, static_cast<int>(request.size))) {
      return InvalidArgument("find_missing: the request is not a FindMissingBlobsRequest");
    }
    std::vector<Digest> digests(parsed.blob_digests().begin(), parsed.blob_digests().end());
    CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> missing, AsStorage(store)->FindMissing(digests));
    build::bazel::remote::execution::v2::FindMissingBlobsResponse answer;
    for (Digest& digest : missing) *answer.add_missing_blob_digests() = std::move(digest);
    FillBuffer(response, answer.SerializeAsString());
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t Contains(void* store, cairn_bytes digest, int32_t* present, cairn_error* error) {
  return Guarded<D>(error, "contains", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    CAIRN_ASSIGN_OR_RETURN(bool found, AsStorage(store)->Contains(parsed));
    *present = found ? 1 : 0;
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t ReadBlob(void* store, cairn_bytes digest, uint64_t offset, uint64_t limit,
                 cairn_buffer* data, cairn_error* error) {
  return Guarded<D>(error, "read_blob", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, AsStorage(store)->ReadBlob(parsed, offset, limit));
    FillBuffer(data, std::move(bytes));
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t WriteBlob(void* store, cairn_bytes data, cairn_bytes expected, cairn_buffer* digest,
                  cairn_error* error) {
  return Guarded<D>(error, "write_blob", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Digest> expected_digest, OptionalDigest(expected));
    CAIRN_ASSIGN_OR_RETURN(Digest written,
                           AsStorage(store)->WriteBlob(ViewOf(data), expected_digest));
    FillBuffer(digest, DigestToWire(written));
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t ReadBlobToFd(void* store, cairn_bytes digest, int32_t fd, cairn_error* error) {
  return Guarded<D>(error, "read_blob_to_fd", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    return AsStorage(store)->ReadBlobToFd(parsed, fd);
  });
}

template <ErrorDetails D>
int32_t WriteBlobFromFd(void* store, int32_t fd, cairn_bytes expected, cairn_buffer* digest,
                        cairn_error* error) {
  return Guarded<D>(error, "write_blob_from_fd", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Digest> expected_digest, OptionalDigest(expected));
    CAIRN_ASSIGN_OR_RETURN(Digest written, AsStorage(store)->WriteBlobFromFd(fd, expected_digest));
    FillBuffer(digest, DigestToWire(written));
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t ReadBlobToPath(void* store, cairn_bytes digest, const char* path, int32_t executable,
                       cairn_error* error) {
  return Guarded<D>(error, "read_blob_to_path", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    return AsStorage(store)->ReadBlobToPath(parsed, path, executable != 0);
  });
}

template <ErrorDetails D>
int32_t WriteBlobFromPath(void* store, const char* path, uint32_t flags, cairn_bytes expected,
                          cairn_buffer* digest, cairn_error* error) {
  return Guarded<D>(error, "write_blob_from_path", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Digest> expected_digest, OptionalDigest(expected));
    CAIRN_ASSIGN_OR_RETURN(Digest written,
                           AsStorage(store)->WriteBlobFromPath(
                               path, (flags & CAIRN_WRITE_MOVE_SOURCE) != 0, expected_digest));
    FillBuffer(digest, DigestToWire(written));
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t StageTree(void* store, cairn_bytes root, const char* path, uint32_t flags,
                  cairn_error* error) {
  return Guarded<D>(error, "stage_tree", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(root)));
    StageOptions options;
    options.hardlinks = (flags & CAIRN_STAGE_HARDLINKS) != 0;
    return AsStorage(store)->StageTree(parsed, path, options);
  });
}

template <ErrorDetails D>
int32_t CaptureTree(void* store, const char* path, uint32_t flags, cairn_buffer* root,
                    cairn_buffer* tree, cairn_error* error) {
  return Guarded<D>(error, "capture_tree", [&]() -> Status {
    CaptureOptions options;
    options.store_tree = (flags & CAIRN_CAPTURE_STORE_TREE) != 0 && tree != nullptr;
    CAIRN_ASSIGN_OR_RETURN(CapturedTree captured, AsStorage(store)->CaptureTree(path, options));
    FillBuffer(root, DigestToWire(captured.root));
    if (captured.tree && tree != nullptr) FillBuffer(tree, DigestToWire(*captured.tree));
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t GetActionResultIn(void* store, const char* instance, cairn_bytes action,
                          cairn_buffer* result, cairn_error* error) {
  return Guarded<D>(error, "get_action_result", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(action)));
    CAIRN_ASSIGN_OR_RETURN(ActionResult found,
                           AsStorage(store)->GetActionResult(instance ? instance : "", parsed));
    FillBuffer(result, found.SerializeAsString());
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t UpdateActionResultIn(void* store, const char* instance, cairn_bytes action,
                             cairn_bytes result, cairn_error* error) {
  return Guarded<D>(error, "update_action_result", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(action)));
    ActionResult value;
    if (!value.ParseFromArray(result.data, static_cast<int>(result.size))) {
      return InvalidArgument("update_action_result: the result is not an ActionResult");
    }
    return AsStorage(store)->UpdateActionResult(instance ? instance : "", parsed, value);
  });
}

template <ErrorDetails D>
int32_t GetActionResult(void* store, cairn_bytes action, cairn_buffer* result, cairn_error* error) {
  return GetActionResultIn<D>(store, "", action, result, error);
}

template <ErrorDetails D>
int32_t UpdateActionResult(void* store, cairn_bytes action, cairn_bytes result,
                           cairn_error* error) {
  return UpdateActionResultIn<D>(store, "", action, result, error);
}

template <ErrorDetails D>
int32_t GetReference(void* store, const char* name, cairn_buffer* digest, cairn_error* error) {
  return Guarded<D>(error, "get_reference", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest found, AsStorage(store)->GetReference(name));
    FillBuffer(digest, DigestToWire(found));
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t SetReference(void* store, const char* name, cairn_bytes digest, cairn_error* error) {
  return Guarded<D>(error, "set_reference", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    return AsStorage(store)->SetReference(name, parsed);
  });
}

template <ErrorDetails D>
int32_t Verify(void* store, int32_t repair, cairn_buffer* report, uint64_t* problems,
               cairn_error* error) {
  return Guarded<D>(error, "verify", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(VerifyReport result, AsStorage(store)->Verify(repair != 0));
    *problems = result.problems;
    FillBuffer(report, std::move(result.lines));
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t CollectGarbage(void* store, uint64_t target_bytes, uint64_t* freed, cairn_error* error) {
  return Guarded<D>(error, "collect_garbage", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(*freed, AsStorage(store)->CollectGarbage(target_bytes));
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t Stats(void* store, cairn_storage_stats* out, cairn_error* error) {
  return Guarded<D>(error, "stats", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(StorageStats stats, AsStorage(store)->Stats());
    StatsToAbi(stats, out);
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t Capabilities(void* store, cairn_storage_capabilities* out, cairn_error* error) {
  return Guarded<D>(error, "capabilities", [&]() -> Status {
    CAIRN_RETURN_IF_ERROR(RequireOutput("capabilities", out));
    CAIRN_ASSIGN_OR_RETURN(StorageCapabilities capabilities, AsStorage(store)->Capabilities());
    CapabilitiesToAbi(capabilities, out);
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t UploadWrite(void* store, const char* upload_id, cairn_bytes expected, uint64_t offset,
                    cairn_bytes data, int32_t finish, uint64_t* committed_size, int32_t* complete,
                    cairn_error* error) {
  return Guarded<D>(error, "upload_write", [&]() -> Status {
    CAIRN_RETURN_IF_ERROR(RequireOutput("upload_write", committed_size));
    CAIRN_RETURN_IF_ERROR(RequireOutput("upload_write", complete));
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(expected)));
    CAIRN_ASSIGN_OR_RETURN(UploadStatus status,
                           AsStorage(store)->UploadWrite(upload_id ? upload_id : "", parsed, offset,
                                                         ViewOf(data), finish != 0));
    *committed_size = status.committed_size;
    *complete = status.complete ? 1 : 0;
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t UploadStatusOp(void* store, const char* upload_id, cairn_bytes expected,
                       uint64_t* committed_size, int32_t* complete, cairn_error* error) {
  return Guarded<D>(error, "upload_status", [&]() -> Status {
    CAIRN_RETURN_IF_ERROR(RequireOutput("upload_status", committed_size));
    CAIRN_RETURN_IF_ERROR(RequireOutput("upload_status", complete));
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(expected)));
    CAIRN_ASSIGN_OR_RETURN(UploadStatus status,
                           AsStorage(store)->QueryUpload(upload_id ? upload_id : "", parsed));
    *committed_size = status.committed_size;
    *complete = status.complete ? 1 : 0;
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t UploadAbort(void* store, const char* upload_id, cairn_error* error) {
  return Guarded<D>(error, "upload_abort", [&]() -> Status {
    return AsStorage(store)->AbortUpload(upload_id ? upload_id : "");
  });
}

template <ErrorDetails D>
int32_t PushAsset(void* store, int32_t kind, cairn_bytes request, cairn_error* error) {
  return Guarded<D>(error, "push_asset", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(AssetKind parsed_kind, ParseAssetKind("push_asset", kind));
    AssetPushRequest parsed;
    CAIRN_RETURN_IF_ERROR(ParseRequest("push_asset", request, &parsed));
    return AsStorage(store)->PushAsset(parsed_kind, parsed);
  });
}

template <ErrorDetails D>
int32_t FetchAsset(void* store, int32_t kind, cairn_bytes request, cairn_buffer* response,
                   cairn_error* error) {
  return Guarded<D>(error, "fetch_asset", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(AssetKind parsed_kind, ParseAssetKind("fetch_asset", kind));
    AssetFetchRequest parsed;
    CAIRN_RETURN_IF_ERROR(ParseRequest("fetch_asset", request, &parsed));
    CAIRN_ASSIGN_OR_RETURN(AssetFetchResponse found,
                           AsStorage(store)->FetchAsset(parsed_kind, parsed));
    FillBuffer(response, found.SerializeAsString());
    return Status::Ok();
  });
}

template <ErrorDetails D>
int32_t RemoveAsset(void* store, int32_t kind, cairn_bytes request, cairn_error* error) {
  return Guarded<D>(error, "remove_asset", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(AssetKind parsed_kind, ParseAssetKind("remove_asset", kind));
    AssetFetchRequest parsed;
    CAIRN_RETURN_IF_ERROR(ParseRequest("remove_asset", request, &parsed));
    return AsStorage(store)->RemoveAsset(parsed_kind, parsed);
  });
}

// One table per way of reporting errors: the two differ only in whether
// cairn_error.details is written.
template <ErrorDetails D>
const cairn_storage_ops kStorageOps = {
    sizeof(cairn_storage_ops),
    &FindMissing<D>,
    &Contains<D>,
    &ReadBlob<D>,
    &WriteBlob<D>,
    &ReadBlobToFd<D>,
    &WriteBlobFromFd<D>,
    &ReadBlobToPath<D>,
    &WriteBlobFromPath<D>,
    &StageTree<D>,
    &CaptureTree<D>,
    &GetActionResult<D>,
    &UpdateActionResult<D>,
    &GetReference<D>,
    &SetReference<D>,
    &Verify<D>,
    &CollectGarbage<D>,
    &Stats<D>,
    // ABI 1.1
    &Capabilities<D>,
    &GetActionResultIn<D>,
    &UpdateActionResultIn<D>,
    &UploadWrite<D>,
    &UploadStatusOp<D>,
    &UploadAbort<D>,
    &PushAsset<D>,
    &FetchAsset<D>,
    &RemoveAsset<D>,
};

// Copies the first out->struct_size bytes of `full` (whose struct_size is
// already out's) into `out`: a caller of an older minor gets what it knows.
template <typename Raw>
void CopyFitting(const Raw& full, Raw* out) {
  size_t size = out->struct_size < sizeof(full) ? out->struct_size : sizeof(full);
  std::memcpy(out, &full, size);
}

}  // namespace

const cairn_storage_ops* MakeStorageOps(ErrorDetails details) {
  return details == ErrorDetails::kWrite ? &kStorageOps<ErrorDetails::kWrite>
                                         : &kStorageOps<ErrorDetails::kOmit>;
}

void StatsToAbi(const StorageStats& stats, cairn_storage_stats* out) {
  cairn_storage_stats full{};
  full.struct_size = out->struct_size;
  full.object_count = stats.object_count;
  full.total_bytes = stats.total_bytes;
  full.quota_bytes = stats.quota_bytes;
  full.high_watermark_bytes = stats.high_watermark_bytes;
  full.low_watermark_bytes = stats.low_watermark_bytes;
  full.action_result_count = stats.action_result_count;
  full.reference_count = stats.reference_count;
  CopyFitting(full, out);
}

StorageStats StatsFromAbi(const cairn_storage_stats& raw) {
  StorageStats stats;
  stats.object_count = raw.object_count;
  stats.total_bytes = raw.total_bytes;
  stats.quota_bytes = raw.quota_bytes;
  stats.high_watermark_bytes = raw.high_watermark_bytes;
  stats.low_watermark_bytes = raw.low_watermark_bytes;
  stats.action_result_count = raw.action_result_count;
  stats.reference_count = raw.reference_count;
  return stats;
}

void CapabilitiesToAbi(const StorageCapabilities& capabilities, cairn_storage_capabilities* out) {
  cairn_storage_capabilities full{};
  full.struct_size = out->struct_size;
  full.flags = capabilities.flags;
  full.max_blob_size = capabilities.max_blob_size;
  full.max_batch_size = capabilities.max_batch_size;
  CopyFitting(full, out);
}

StorageCapabilities CapabilitiesFromAbi(const cairn_storage_capabilities& raw) {
  StorageCapabilities capabilities;
  capabilities.flags = raw.flags;
  capabilities.max_blob_size = raw.max_blob_size;
  capabilities.max_batch_size = raw.max_batch_size;
  return capabilities;
}

}  // namespace cairn
