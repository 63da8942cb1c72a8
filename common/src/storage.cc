#include "cairn/storage.h"

namespace cairn {
namespace {

Status NotSupported(const char* operation) {
  return Unimplemented(std::string(operation) + " is not supported by this store");
}

}  // namespace

StatusOr<UploadStatus> Storage::UploadWrite(const std::string&, const Digest&, uint64_t,
                                            std::string_view, bool) {
  return NotSupported("upload_write");
}

StatusOr<UploadStatus> Storage::QueryUpload(const std::string&, const Digest&) {
  return NotSupported("upload_status");
}

Status Storage::AbortUpload(const std::string&) { return NotSupported("upload_abort"); }

Status Storage::PushAsset(AssetKind, const AssetPushRequest&) { return NotSupported("push_asset"); }

StatusOr<AssetFetchResponse> Storage::FetchAsset(AssetKind, const AssetFetchRequest&) {
  return NotSupported("fetch_asset");
}

Status Storage::RemoveAsset(AssetKind, const AssetFetchRequest&) {
  return NotSupported("remove_asset");
}

}  // namespace cairn
