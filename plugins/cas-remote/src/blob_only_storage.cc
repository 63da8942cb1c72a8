#include "blob_only_storage.h"

namespace cairn::cas_remote {

Status BlobOnlyStorage::Refuse(const std::string& operation) const {
  return Unimplemented("cas-remote: " + name_ + " does not " + operation);
}

StatusOr<std::vector<Digest>> BlobOnlyStorage::FindMissing(const std::vector<Digest>&) {
  return Refuse("answer FindMissing");
}
StatusOr<bool> BlobOnlyStorage::Contains(const Digest&) { return Refuse("answer Contains"); }
StatusOr<std::string> BlobOnlyStorage::ReadBlob(const Digest&, uint64_t, uint64_t) {
  return Refuse("read blobs");
}
StatusOr<Digest> BlobOnlyStorage::WriteBlob(std::string_view, const std::optional<Digest>&) {
  return Refuse("write blobs");
}
Status BlobOnlyStorage::ReadBlobToFd(const Digest&, int) { return Refuse("read blobs"); }
StatusOr<Digest> BlobOnlyStorage::WriteBlobFromFd(int, const std::optional<Digest>&) {
  return Refuse("write blobs");
}
Status BlobOnlyStorage::ReadBlobToPath(const Digest&, const std::string&, bool) {
  return Refuse("read blobs");
}
StatusOr<Digest> BlobOnlyStorage::WriteBlobFromPath(const std::string&, bool,
                                                    const std::optional<Digest>&) {
  return Refuse("write blobs");
}
Status BlobOnlyStorage::StageTree(const Digest&, const std::string&, const StageOptions&) {
  return Refuse("stage trees");
}
StatusOr<CapturedTree> BlobOnlyStorage::CaptureTree(const std::string&, const CaptureOptions&) {
  return Refuse("capture trees");
}
StatusOr<ActionResult> BlobOnlyStorage::GetActionResult(const std::string&, const Digest&) {
  return Refuse("keep action results");
}
Status BlobOnlyStorage::UpdateActionResult(const std::string&, const Digest&, const ActionResult&) {
  return Refuse("keep action results");
}
StatusOr<Digest> BlobOnlyStorage::GetReference(const std::string&) {
  return Refuse("keep references");
}
Status BlobOnlyStorage::SetReference(const std::string&, const Digest&) {
  return Refuse("keep references");
}
StatusOr<VerifyReport> BlobOnlyStorage::Verify(bool) { return Refuse("verify"); }
StatusOr<uint64_t> BlobOnlyStorage::CollectGarbage(uint64_t) { return Refuse("collect garbage"); }
StatusOr<StorageStats> BlobOnlyStorage::Stats() { return Refuse("keep statistics"); }

}  // namespace cairn::cas_remote
