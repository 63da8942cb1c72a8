#include "cairn/storage_client.h"

#include <cstddef>

#include "cairn/abi.h"
#include "cairn/storage_ops.h"

namespace cairn {

// An operation of the table, or NULL when the table is too small to have it
// (a plugin built against an older minor ABI) or the plugin left it out.
#define CAIRN_STORAGE_OP(name)                                                              \
  (ops_->struct_size >= offsetof(cairn_storage_ops, name) + sizeof(ops_->name) ? ops_->name \
                                                                               : nullptr)

#define CAIRN_REQUIRE_OP(name)      \
  auto op = CAIRN_STORAGE_OP(name); \
  if (op == nullptr) return Unimplemented(What(#name) + " is not supported by this store")

namespace {

std::string ExpectedWire(const std::optional<Digest>& expected) {
  return expected ? DigestToWire(*expected) : std::string();
}

// The ABI passes names NUL-terminated: one holding a NUL would be cut short.
Status CheckInstanceName(const std::string& instance) {
  if (instance.find('\0') != std::string::npos) {
    return InvalidArgument("instance name '" + instance.substr(0, instance.find('\0')) +
                           "...' contains a NUL character");
  }
  return Status::Ok();
}

}  // namespace

Status StorageClient::InstancesUnsupported(const std::string& instance) const {
  return Unimplemented(name_ + ": instance '" + instance +
                       "': this store has only the default instance \"\"");
}

StorageClient::StorageClient(const cairn_storage_ops* ops, void* store, std::string name)
    : ops_(ops), store_(store), name_(std::move(name)) {}

StatusOr<std::vector<Digest>> StorageClient::FindMissing(const std::vector<Digest>& digests) {
  CAIRN_REQUIRE_OP(find_missing);
  build::bazel::remote::execution::v2::FindMissingBlobsRequest request;
  for (const Digest& digest : digests) *request.add_blob_digests() = digest;
  std::string wire = request.SerializeAsString();
  OwnedBuffer response;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("find_missing"), [&](cairn_error* error) {
    return op(store_, BytesOf(wire), response.get(), error);
  }));
  build::bazel::remote::execution::v2::FindMissingBlobsResponse parsed;
  if (!parsed.ParseFromString(response.Take())) {
    return Internal(What("find_missing") + " returned a malformed FindMissingBlobsResponse");
  }
  return std::vector<Digest>(parsed.missing_blob_digests().begin(),
                             parsed.missing_blob_digests().end());
}

StatusOr<bool> StorageClient::Contains(const Digest& digest) {
  CAIRN_REQUIRE_OP(contains);
  std::string wire = DigestToWire(digest);
  int32_t present = 0;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("contains"), [&](cairn_error* error) {
    return op(store_, BytesOf(wire), &present, error);
  }));
  return present != 0;
}

StatusOr<std::string> StorageClient::ReadBlob(const Digest& digest, uint64_t offset,
                                              uint64_t limit) {
  CAIRN_REQUIRE_OP(read_blob);
  std::string wire = DigestToWire(digest);
  OwnedBuffer data;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("read_blob"), [&](cairn_error* error) {
    return op(store_, BytesOf(wire), offset, limit, data.get(), error);
  }));
  return data.Take();
}

StatusOr<Digest> StorageClient::WriteBlob(std::string_view data,
                                          const std::optional<Digest>& expected) {
  CAIRN_REQUIRE_OP(write_blob);
  std::string expected_wire = ExpectedWire(expected);
  OwnedBuffer digest;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("write_blob"), [&](cairn_error* error) {
    return op(store_, BytesOf(data), BytesOf(expected_wire), digest.get(), error);
  }));
  return DigestFromWire(digest.Take());
}

Status StorageClient::ReadBlobToFd(const Digest& digest, int fd) {
  CAIRN_REQUIRE_OP(read_blob_to_fd);
  std::string wire = DigestToWire(digest);
  return CallPlugin(What("read_blob_to_fd"),
                    [&](cairn_error* error) { return op(store_, BytesOf(wire), fd, error); });
}

StatusOr<Digest> StorageClient::WriteBlobFromFd(int fd, const std::optional<Digest>& expected) {
  CAIRN_REQUIRE_OP(write_blob_from_fd);
  std::string expected_wire = ExpectedWire(expected);
  OwnedBuffer digest;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("write_blob_from_fd"), [&](cairn_error* error) {
    return op(store_, fd, BytesOf(expected_wire), digest.get(), error);
  }));
  return DigestFromWire(digest.Take());
}

Status StorageClient::ReadBlobToPath(const Digest& digest, const std::string& path,
                                     bool executable) {
  CAIRN_REQUIRE_OP(read_blob_to_path);
  std::string wire = DigestToWire(digest);
  return CallPlugin(What("read_blob_to_path"), [&](cairn_error* error) {
    return op(store_, BytesOf(wire), path.c_str(), executable ? 1 : 0, error);
  });
}

StatusOr<Digest> StorageClient::WriteBlobFromPath(const std::string& path, bool move_source,
                                                  const std::optional<Digest>& expected) {
  CAIRN_REQUIRE_OP(write_blob_from_path);
  std::string expected_wire = ExpectedWire(expected);
  OwnedBuffer digest;
  uint32_t flags = move_source ? CAIRN_WRITE_MOVE_SOURCE : 0u;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("write_blob_from_path"), [&](cairn_error* error) {
    return op(store_, path.c_str(), flags, BytesOf(expected_wire), digest.get(), error);
  }));
  return DigestFromWire(digest.Take());
}

Status StorageClient::StageTree(const Digest& root, const std::string& path,
                                const StageOptions& options) {
  CAIRN_REQUIRE_OP(stage_tree);
  std::string wire = DigestToWire(root);
  uint32_t flags = options.hardlinks ? CAIRN_STAGE_HARDLINKS : 0u;
  return CallPlugin(What("stage_tree"), [&](cairn_error* error) {
    return op(store_, BytesOf(wire), path.c_str(), flags, error);
  });
}

StatusOr<CapturedTree> StorageClient::CaptureTree(const std::string& path,
                                                  const CaptureOptions& options) {
  CAIRN_REQUIRE_OP(capture_tree);
  OwnedBuffer root;
  OwnedBuffer tree;
  uint32_t flags = options.store_tree ? CAIRN_CAPTURE_STORE_TREE : 0u;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("capture_tree"), [&](cairn_error* error) {
    return op(store_, path.c_str(), flags, root.get(), options.store_tree ? tree.get() : nullptr,
              error);
  }));
  CapturedTree captured;
  CAIRN_ASSIGN_OR_RETURN(captured.root, DigestFromWire(root.Take()));
  if (options.store_tree) {
    CAIRN_ASSIGN_OR_RETURN(captured.tree, DigestFromWire(tree.Take()));
  }
  return captured;
}

StatusOr<ActionResult> StorageClient::GetActionResult(const std::string& instance,
                                                      const Digest& action) {
  CAIRN_RETURN_IF_ERROR(CheckInstanceName(instance));
  std::string wire = DigestToWire(action);
  OwnedBuffer result;
  const char* operation = "get_action_result_in";
  if (auto op_in = CAIRN_STORAGE_OP(get_action_result_in)) {
    CAIRN_RETURN_IF_ERROR(CallPlugin(What(operation), [&](cairn_error* error) {
      return op_in(store_, instance.c_str(), BytesOf(wire), result.get(), error);
    }));
  } else if (instance.empty()) {
    operation = "get_action_result";
    CAIRN_REQUIRE_OP(get_action_result);
    CAIRN_RETURN_IF_ERROR(CallPlugin(What(operation), [&](cairn_error* error) {
      return op(store_, BytesOf(wire), result.get(), error);
    }));
  } else {
    return InstancesUnsupported(instance);
  }
  ActionResult parsed;
  if (!parsed.ParseFromString(result.Take())) {
    return DataLoss(What(operation) + " returned a malformed ActionResult for " +
                    DigestToString(action));
  }
  return parsed;
}

Status StorageClient::UpdateActionResult(const std::string& instance, const Digest& action,
                                         const ActionResult& result) {
  CAIRN_RETURN_IF_ERROR(CheckInstanceName(instance));
  std::string wire = DigestToWire(action);
  std::string result_wire = result.SerializeAsString();
  if (auto op_in = CAIRN_STORAGE_OP(update_action_result_in)) {
    return CallPlugin(What("update_action_result_in"), [&](cairn_error* error) {
      return op_in(store_, instance.c_str(), BytesOf(wire), BytesOf(result_wire), error);
    });
  }
  if (!instance.empty()) return InstancesUnsupported(instance);
  CAIRN_REQUIRE_OP(update_action_result);
  return CallPlugin(What("update_action_result"), [&](cairn_error* error) {
    return op(store_, BytesOf(wire), BytesOf(result_wire), error);
  });
}

StatusOr<Digest> StorageClient::GetReference(const std::string& name) {
  CAIRN_REQUIRE_OP(get_reference);
  OwnedBuffer digest;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("get_reference"), [&](cairn_error* error) {
    return op(store_, name.c_str(), digest.get(), error);
  }));
  return DigestFromWire(digest.Take());
}

Status StorageClient::SetReference(const std::string& name, const Digest& digest) {
  CAIRN_REQUIRE_OP(set_reference);
  std::string wire = DigestToWire(digest);
  return CallPlugin(What("set_reference"), [&](cairn_error* error) {
    return op(store_, name.c_str(), BytesOf(wire), error);
  });
}

StatusOr<VerifyReport> StorageClient::Verify(bool repair) {
  CAIRN_REQUIRE_OP(verify);
  OwnedBuffer report;
  VerifyReport result;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("verify"), [&](cairn_error* error) {
    return op(store_, repair ? 1 : 0, report.get(), &result.problems, error);
  }));
  result.lines = report.Take();
  return result;
}

StatusOr<uint64_t> StorageClient::CollectGarbage(uint64_t target_bytes) {
  CAIRN_REQUIRE_OP(collect_garbage);
  uint64_t freed = 0;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("collect_garbage"), [&](cairn_error* error) {
    return op(store_, target_bytes, &freed, error);
  }));
  return freed;
}

StatusOr<StorageStats> StorageClient::Stats() {
  CAIRN_REQUIRE_OP(stats);
  cairn_storage_stats raw{};
  raw.struct_size = sizeof(raw);
  CAIRN_RETURN_IF_ERROR(
      CallPlugin(What("stats"), [&](cairn_error* error) { return op(store_, &raw, error); }));
  return StatsFromAbi(raw);
}

StatusOr<StorageCapabilities> StorageClient::Capabilities() {
  auto op = CAIRN_STORAGE_OP(capabilities);
  if (op == nullptr) return StorageCapabilities{};
  cairn_storage_capabilities raw{};
  raw.struct_size = sizeof(raw);
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("capabilities"),
                                   [&](cairn_error* error) { return op(store_, &raw, error); }));
  return CapabilitiesFromAbi(raw);
}

StatusOr<UploadStatus> StorageClient::UploadWrite(const std::string& upload_id,
                                                  const Digest& expected, uint64_t offset,
                                                  std::string_view data, bool finish) {
  CAIRN_REQUIRE_OP(upload_write);
  std::string wire = DigestToWire(expected);
  UploadStatus status;
  int32_t complete = 0;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("upload_write"), [&](cairn_error* error) {
    return op(store_, upload_id.c_str(), BytesOf(wire), offset, BytesOf(data), finish ? 1 : 0,
              &status.committed_size, &complete, error);
  }));
  status.complete = complete != 0;
  return status;
}

StatusOr<UploadStatus> StorageClient::QueryUpload(const std::string& upload_id,
                                                  const Digest& expected) {
  CAIRN_REQUIRE_OP(upload_status);
  std::string wire = DigestToWire(expected);
  UploadStatus status;
  int32_t complete = 0;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("upload_status"), [&](cairn_error* error) {
    return op(store_, upload_id.c_str(), BytesOf(wire), &status.committed_size, &complete, error);
  }));
  status.complete = complete != 0;
  return status;
}

Status StorageClient::AbortUpload(const std::string& upload_id) {
  CAIRN_REQUIRE_OP(upload_abort);
  return CallPlugin(What("upload_abort"),
                    [&](cairn_error* error) { return op(store_, upload_id.c_str(), error); });
}

Status StorageClient::PushAsset(AssetKind kind, const AssetPushRequest& request) {
  CAIRN_REQUIRE_OP(push_asset);
  std::string wire = request.SerializeAsString();
  return CallPlugin(What("push_asset"), [&](cairn_error* error) {
    return op(store_, static_cast<int32_t>(kind), BytesOf(wire), error);
  });
}

StatusOr<AssetFetchResponse> StorageClient::FetchAsset(AssetKind kind,
                                                       const AssetFetchRequest& request) {
  CAIRN_REQUIRE_OP(fetch_asset);
  std::string wire = request.SerializeAsString();
  OwnedBuffer response;
  CAIRN_RETURN_IF_ERROR(CallPlugin(What("fetch_asset"), [&](cairn_error* error) {
    return op(store_, static_cast<int32_t>(kind), BytesOf(wire), response.get(), error);
  }));
  AssetFetchResponse parsed;
  if (!parsed.ParseFromString(response.Take())) {
    return Internal(What("fetch_asset") + " returned a malformed FetchBlobResponse");
  }
  return parsed;
}

Status StorageClient::RemoveAsset(AssetKind kind, const AssetFetchRequest& request) {
  CAIRN_REQUIRE_OP(remove_asset);
  std::string wire = request.SerializeAsString();
  return CallPlugin(What("remove_asset"), [&](cairn_error* error) {
    return op(store_, static_cast<int32_t>(kind), BytesOf(wire), error);
  });
}

}  // namespace cairn
