#include "cairn/storage_ops.h"

#include <cstring>

#include "cairn/abi.h"

namespace cairn {
namespace {

Storage* AsStorage(void* store) { return static_cast<Storage*>(store); }

// An empty expected digest means "none"; anything else must parse.
StatusOr<std::optional<Digest>> OptionalDigest(cairn_bytes bytes) {
  if (bytes.size == 0) return std::optional<Digest>();
  CAIRN_ASSIGN_OR_RETURN(Digest digest, DigestFromWire(ViewOf(bytes)));
  return std::optional<Digest>(std::move(digest));
}

int32_t FindMissing(void* store, cairn_bytes request, cairn_buffer* response,
                    cairn_error* error) {
  return GuardedCall(error, "find_missing", [&]() -> Status {
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

int32_t Contains(void* store, cairn_bytes digest, int32_t* present, cairn_error* error) {
  return GuardedCall(error, "contains", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    CAIRN_ASSIGN_OR_RETURN(bool found, AsStorage(store)->Contains(parsed));
    *present = found ? 1 : 0;
    return Status::Ok();
  });
}

int32_t ReadBlob(void* store, cairn_bytes digest, uint64_t offset, uint64_t limit,
                 cairn_buffer* data, cairn_error* error) {
  return GuardedCall(error, "read_blob", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    CAIRN_ASSIGN_OR_RETURN(std::string bytes, AsStorage(store)->ReadBlob(parsed, offset, limit));
    FillBuffer(data, std::move(bytes));
    return Status::Ok();
  });
}

int32_t WriteBlob(void* store, cairn_bytes data, cairn_bytes expected, cairn_buffer* digest,
                  cairn_error* error) {
  return GuardedCall(error, "write_blob", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Digest> expected_digest, OptionalDigest(expected));
    CAIRN_ASSIGN_OR_RETURN(Digest written,
                           AsStorage(store)->WriteBlob(ViewOf(data), expected_digest));
    FillBuffer(digest, DigestToWire(written));
    return Status::Ok();
  });
}

int32_t ReadBlobToFd(void* store, cairn_bytes digest, int32_t fd, cairn_error* error) {
  return GuardedCall(error, "read_blob_to_fd", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    return AsStorage(store)->ReadBlobToFd(parsed, fd);
  });
}

int32_t WriteBlobFromFd(void* store, int32_t fd, cairn_bytes expected, cairn_buffer* digest,
                        cairn_error* error) {
  return GuardedCall(error, "write_blob_from_fd", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Digest> expected_digest, OptionalDigest(expected));
    CAIRN_ASSIGN_OR_RETURN(Digest written, AsStorage(store)->WriteBlobFromFd(fd, expected_digest));
    FillBuffer(digest, DigestToWire(written));
    return Status::Ok();
  });
}

int32_t ReadBlobToPath(void* store, cairn_bytes digest, const char* path, int32_t executable,
                       cairn_error* error) {
  return GuardedCall(error, "read_blob_to_path", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    return AsStorage(store)->ReadBlobToPath(parsed, path, executable != 0);
  });
}

int32_t WriteBlobFromPath(void* store, const char* path, uint32_t flags, cairn_bytes expected,
                          cairn_buffer* digest, cairn_error* error) {
  return GuardedCall(error, "write_blob_from_path", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(std::optional<Digest> expected_digest, OptionalDigest(expected));
    CAIRN_ASSIGN_OR_RETURN(
        Digest written, AsStorage(store)->WriteBlobFromPath(
                            path, (flags & CAIRN_WRITE_MOVE_SOURCE) != 0, expected_digest));
    FillBuffer(digest, DigestToWire(written));
    return Status::Ok();
  });
}

int32_t StageTree(void* store, cairn_bytes root, const char* path, uint32_t flags,
                  cairn_error* error) {
  return GuardedCall(error, "stage_tree", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(root)));
    StageOptions options;
    options.hardlinks = (flags & CAIRN_STAGE_HARDLINKS) != 0;
    return AsStorage(store)->StageTree(parsed, path, options);
  });
}

int32_t CaptureTree(void* store, const char* path, uint32_t flags, cairn_buffer* root,
                    cairn_buffer* tree, cairn_error* error) {
  return GuardedCall(error, "capture_tree", [&]() -> Status {
    CaptureOptions options;
    options.store_tree = (flags & CAIRN_CAPTURE_STORE_TREE) != 0 && tree != nullptr;
    CAIRN_ASSIGN_OR_RETURN(CapturedTree captured, AsStorage(store)->CaptureTree(path, options));
    FillBuffer(root, DigestToWire(captured.root));
    if (captured.tree && tree != nullptr) FillBuffer(tree, DigestToWire(*captured.tree));
    return Status::Ok();
  });
}

int32_t GetActionResult(void* store, cairn_bytes action, cairn_buffer* result,
                        cairn_error* error) {
  return GuardedCall(error, "get_action_result", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(action)));
    CAIRN_ASSIGN_OR_RETURN(ActionResult found, AsStorage(store)->GetActionResult(parsed));
    FillBuffer(result, found.SerializeAsString());
    return Status::Ok();
  });
}

int32_t UpdateActionResult(void* store, cairn_bytes action, cairn_bytes result,
                           cairn_error* error) {
  return GuardedCall(error, "update_action_result", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(action)));
    ActionResult value;
    if (!value.ParseFromArray(result.data, static_cast<int>(result.size))) {
      return InvalidArgument("update_action_result: the result is not an ActionResult");
    }
    return AsStorage(store)->UpdateActionResult(parsed, value);
  });
}

int32_t GetReference(void* store, const char* name, cairn_buffer* digest, cairn_error* error) {
  return GuardedCall(error, "get_reference", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest found, AsStorage(store)->GetReference(name));
    FillBuffer(digest, DigestToWire(found));
    return Status::Ok();
  });
}

int32_t SetReference(void* store, const char* name, cairn_bytes digest, cairn_error* error) {
  return GuardedCall(error, "set_reference", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(Digest parsed, DigestFromWire(ViewOf(digest)));
    return AsStorage(store)->SetReference(name, parsed);
  });
}

int32_t Verify(void* store, int32_t repair, cairn_buffer* report, uint64_t* problems,
               cairn_error* error) {
  return GuardedCall(error, "verify", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(VerifyReport result, AsStorage(store)->Verify(repair != 0));
    *problems = result.problems;
    FillBuffer(report, std::move(result.lines));
    return Status::Ok();
  });
}

int32_t CollectGarbage(void* store, uint64_t target_bytes, uint64_t* freed, cairn_error* error) {
  return GuardedCall(error, "collect_garbage", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(*freed, AsStorage(store)->CollectGarbage(target_bytes));
    return Status::Ok();
  });
}

int32_t Stats(void* store, cairn_storage_stats* out, cairn_error* error) {
  return GuardedCall(error, "stats", [&]() -> Status {
    CAIRN_ASSIGN_OR_RETURN(StorageStats stats, AsStorage(store)->Stats());
    StatsToAbi(stats, out);
    return Status::Ok();
  });
}

const cairn_storage_ops kStorageOps = {
    sizeof(cairn_storage_ops),
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
    &Verify,
    &CollectGarbage,
    &Stats,
};

}  // namespace

const cairn_storage_ops* MakeStorageOps() { return &kStorageOps; }

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
  size_t size = out->struct_size < sizeof(full) ? out->struct_size : sizeof(full);
  std::memcpy(out, &full, size);
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

}  // namespace cairn
