#include "cairn/scheduler/artifact_store.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace cairn::scheduler {
namespace {

constexpr char kKeyQualifier[] = "cache-key";

}  // namespace

AssetFetchRequest ArtifactStore::FetchRequest(const std::string& project,
                                              const std::string& element,
                                              const std::string& cache_key) {
  AssetFetchRequest request;
  request.add_uris(Uri(project, element));
  auto* qualifier = request.add_qualifiers();
  qualifier->set_name(kKeyQualifier);
  qualifier->set_value(cache_key);
  return request;
}

AssetPushRequest ArtifactStore::PushRequest(const Artifact& artifact, const Digest& record) {
  AssetPushRequest request;
  request.add_uris(Uri(artifact.project(), artifact.element()));
  auto* qualifier = request.add_qualifiers();
  qualifier->set_name(kKeyQualifier);
  qualifier->set_value(artifact.cache_key());
  *request.mutable_blob_digest() = record;
  if (artifact.has_files()) *request.add_references_directories() = artifact.files();
  if (artifact.has_log()) *request.add_references_blobs() = artifact.log();
  return request;
}

std::string ArtifactStore::Uri(const std::string& project, const std::string& element) {
  return "cairn-artifact:" + project + "/" + element;
}

StatusOr<std::optional<Artifact>> ArtifactStore::Find(const std::string& project,
                                                      const std::string& element,
                                                      const std::string& cache_key) {
  StatusOr<AssetFetchResponse> fetched =
      storage_->FetchAsset(AssetKind::kBlob, FetchRequest(project, element, cache_key));
  if (!fetched.ok()) {
    if (fetched.status().code() == Code::kNotFound) return std::optional<Artifact>();
    return fetched.status().WithContext("looking up the artifact of " + element);
  }
  StatusOr<std::string> bytes = storage_->ReadBlob(fetched->blob_digest());
  if (!bytes.ok()) {
    if (bytes.status().code() == Code::kNotFound) return std::optional<Artifact>();
    return bytes.status().WithContext("reading the artifact of " + element);
  }
  Artifact artifact;
  if (!artifact.ParseFromString(*bytes)) {
    return DataLoss("the artifact record of " + element + " (" +
                    DigestToString(fetched->blob_digest()) + ") does not parse");
  }
  return std::optional<Artifact>(std::move(artifact));
}

std::string ArtifactStore::Serialize(const Artifact& artifact) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    artifact.SerializeToCodedStream(&coded);
  }
  return bytes;
}

Status ArtifactStore::Put(const Artifact& artifact) {
  std::string bytes = Serialize(artifact);
  CAIRN_ASSIGN_OR_RETURN(Digest record, storage_->WriteBlob(bytes));
  return storage_->PushAsset(AssetKind::kBlob, PushRequest(artifact, record))
      .WithContext("storing the artifact of " + artifact.element());
}

Status ArtifactStore::Remove(const std::string& project, const std::string& element,
                             const std::string& cache_key) {
  return storage_->RemoveAsset(AssetKind::kBlob, FetchRequest(project, element, cache_key));
}

}  // namespace cairn::scheduler
