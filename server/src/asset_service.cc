// The Remote Asset services, Fetch and Push: URIs plus qualifiers naming
// a blob or a directory tree in the CAS, per instance name.
//
// cairn-server never downloads anything. Push records what a trusted
// client says a URI is (Storage::PushAsset); Fetch serves only what was
// pushed (Storage::FetchAsset), as a push-only server of the Remote Asset
// API does. What follows from that:
//
// - Qualifiers are part of an asset's key and must match exactly: the
//   API lets a Fetch server require an exact match with what was pushed,
//   and a server that cannot verify a qualifier against an origin can
//   only honour it that way. Order does not matter; names must be unique.
//   Other qualifiers of the same URI make another asset.
// - Which names are supported (asset_qualifiers.h): those that describe
//   content — the standard ones of qualifiers.md, Bazel's
//   bazel.canonical_id and Cairn's own cache-key. The same set applies to
//   Push, so nothing can be pushed that a fetch could not ask for. Bazel's
//   http_header:* qualifiers are taken and ignored: a Bazel client using
//   this server as its remote downloader sends them with every fetch.
//   Any other name is INVALID_ARGUMENT with a BadRequest violation
//   {field "qualifiers.name", description "\"NAME\" not supported"} per
//   name, as the API requires of a server that does not support it.
// - "Nothing pushed matches" is an answer about the origin's content, not
//   a failure of the call: the RPC is OK and the response's status is
//   NOT_FOUND (the API puts origin outcomes there, and clients check
//   both). Its uri stays empty: every URI was tried, none failed alone. A malformed request, a
//   missing permission, an unknown instance or a failing store are RPC errors.
// - `timeout` bounds a download from the origin; with none it bounds
//   nothing, but a negative one is still refused.
// - expire_at: an expired asset is not served (the store keeps the record
//   until it is pushed again, and stops keeping its blobs alive).
//   oldest_content_accepted: an asset pushed before it is not served.
// - Push requires the content and every references_blobs /
//   references_directories entry (directories with their whole trees) to
//   be in the CAS: FAILED_PRECONDITION otherwise, with a
//   PreconditionFailure listing each missing blob, so a client knows what
//   to upload. While the asset lives they all survive garbage collection.
#include "asset_qualifiers.h"
#include "build/bazel/remote/asset/v1/remote_asset.grpc.pb.h"
#include "cairn/status_details.h"
#include "request_checks.h"
#include "request_scope.h"
#include "services.h"

namespace cairn::server {
namespace {

namespace rasset = build::bazel::remote::asset::v1;

// The Blob and Directory messages of each call share one wire layout (the
// store takes the Blob ones for both); a Directory message crosses by
// being reparsed as its Blob twin.
template <typename To, typename From>
To Retyped(const From& message) {
  To converted;
  converted.ParseFromString(message.SerializeAsString());
  return converted;
}

const char* ContentField(AssetKind kind) {
  return kind == AssetKind::kBlob ? "blob_digest" : "root_directory_digest";
}

Status CheckUris(const google::protobuf::RepeatedPtrField<std::string>& uris) {
  if (uris.empty()) return BadRequestError("uris", "at least one URI is required");
  for (int i = 0; i < uris.size(); ++i) {
    if (uris[i].empty()) return BadRequestError(Indexed("uris", i), "a URI must not be empty");
  }
  return Status::Ok();
}

Status CheckDigests(const google::protobuf::RepeatedPtrField<Digest>& digests,
                    const std::string& field) {
  for (int i = 0; i < digests.size(); ++i) {
    CAIRN_RETURN_IF_ERROR(CheckDigest(digests[i], Indexed(field, i)));
  }
  return Status::Ok();
}

// Fetch of either kind: the store's answer, or NOT_FOUND inside an OK
// response when nothing pushed matches.
StatusOr<AssetFetchResponse> FetchAsset(RequestScope& scope, AssetKind kind,
                                        AssetFetchRequest request) {
  CAIRN_RETURN_IF_ERROR(scope.Enter(request.instance_name(), Permission::kRead));
  scope.AddBytesIn(request.ByteSizeLong());
  CAIRN_RETURN_IF_ERROR(CheckDigestFunction(request.digest_function(), "digest_function"));
  CAIRN_RETURN_IF_ERROR(CheckUris(request.uris()));
  if (request.has_timeout() && (request.timeout().seconds() < 0 || request.timeout().nanos() < 0)) {
    return BadRequestError("timeout", "a timeout must not be negative");
  }
  CAIRN_ASSIGN_OR_RETURN(*request.mutable_qualifiers(), KeyQualifiers(request.qualifiers()));
  StatusOr<AssetFetchResponse> found = scope.state().storage().FetchAsset(kind, request);
  AssetFetchResponse response;
  if (found.ok()) {
    response = std::move(found).value();
  } else if (found.status().code() == Code::kNotFound) {
    response.mutable_status()->set_code(static_cast<int32_t>(Code::kNotFound));
    response.mutable_status()->set_message(found.status().message());
  } else {
    return found.status();
  }
  response.set_digest_function(DigestFunction::SHA256);
  scope.AddBytesOut(response.ByteSizeLong());
  return response;
}

Status PushAsset(RequestScope& scope, AssetKind kind, AssetPushRequest request) {
  CAIRN_RETURN_IF_ERROR(scope.Enter(request.instance_name(), Permission::kWrite));
  scope.AddBytesIn(request.ByteSizeLong());
  CAIRN_RETURN_IF_ERROR(CheckDigestFunction(request.digest_function(), "digest_function"));
  CAIRN_RETURN_IF_ERROR(CheckUris(request.uris()));
  if (!request.has_blob_digest()) {
    return BadRequestError(ContentField(kind), "the content's digest is required");
  }
  CAIRN_RETURN_IF_ERROR(CheckDigest(request.blob_digest(), ContentField(kind)));
  CAIRN_RETURN_IF_ERROR(CheckDigests(request.references_blobs(), "references_blobs"));
  CAIRN_RETURN_IF_ERROR(CheckDigests(request.references_directories(), "references_directories"));
  CAIRN_ASSIGN_OR_RETURN(*request.mutable_qualifiers(), KeyQualifiers(request.qualifiers()));
  return scope.state().storage().PushAsset(kind, request);
}

class FetchService final : public rasset::Fetch::Service {
 public:
  explicit FetchService(ServerState& state) : state_(state) {}

  grpc::Status FetchBlob(grpc::ServerContext* context, const rasset::FetchBlobRequest* request,
                         rasset::FetchBlobResponse* response) override {
    RequestScope scope(state_, context, "FetchBlob");
    StatusOr<AssetFetchResponse> fetched = FetchAsset(scope, AssetKind::kBlob, *request);
    if (!fetched.ok()) return scope.Finish(fetched.status());
    *response = std::move(fetched).value();
    return scope.Finish(Status::Ok());
  }

  grpc::Status FetchDirectory(grpc::ServerContext* context,
                              const rasset::FetchDirectoryRequest* request,
                              rasset::FetchDirectoryResponse* response) override {
    RequestScope scope(state_, context, "FetchDirectory");
    StatusOr<AssetFetchResponse> fetched =
        FetchAsset(scope, AssetKind::kDirectory, Retyped<AssetFetchRequest>(*request));
    if (!fetched.ok()) return scope.Finish(fetched.status());
    *response = Retyped<rasset::FetchDirectoryResponse>(*fetched);
    return scope.Finish(Status::Ok());
  }

 private:
  ServerState& state_;
};

class PushService final : public rasset::Push::Service {
 public:
  explicit PushService(ServerState& state) : state_(state) {}

  grpc::Status PushBlob(grpc::ServerContext* context, const rasset::PushBlobRequest* request,
                        rasset::PushBlobResponse* /*response*/) override {
    RequestScope scope(state_, context, "PushBlob");
    return scope.Finish(PushAsset(scope, AssetKind::kBlob, *request));
  }

  grpc::Status PushDirectory(grpc::ServerContext* context,
                             const rasset::PushDirectoryRequest* request,
                             rasset::PushDirectoryResponse* /*response*/) override {
    RequestScope scope(state_, context, "PushDirectory");
    return scope.Finish(
        PushAsset(scope, AssetKind::kDirectory, Retyped<AssetPushRequest>(*request)));
  }

 private:
  ServerState& state_;
};

}  // namespace

std::unique_ptr<grpc::Service> MakeFetchService(ServerState& state) {
  return std::make_unique<FetchService>(state);
}

std::unique_ptr<grpc::Service> MakePushService(ServerState& state) {
  return std::make_unique<PushService>(state);
}

}  // namespace cairn::server
