// The gRPC side of remote artifact caches (cairn/scheduler/remote_artifacts.h
// says what they do), built as the module cairn-remote-artifacts.so so that
// only a process that uses a cache loads gRPC.
#include "cairn/scheduler/remote_artifacts.h"

#include <mutex>

#include "cairn/merkle.h"
#include "cairn/remote_client/asset_client.h"
#include "cairn/remote_client/cas_client.h"
#include "cairn/remote_client/remote_connection.h"

namespace cairn::scheduler {

using remote_client::AssetClient;
using remote_client::CasClient;
using remote_client::RemoteConnection;
using remote_client::RemoteConnectionOptions;

struct Remote {
  RemoteEndpoint endpoint;
  std::shared_ptr<RemoteConnection> connection;
  std::unique_ptr<CasClient> cas;       // storage and all
  std::unique_ptr<AssetClient> assets;  // index and all
  std::atomic<bool> failed{false};

  bool index() const { return assets != nullptr; }
  bool storage() const { return cas != nullptr; }
  bool usable() const { return !failed.load(); }
};

namespace {

RemoteConnectionOptions ConnectionOptionsOf(const RemoteEndpoint& endpoint) {
  RemoteConnectionOptions options;
  options.url = endpoint.url;
  options.instance_name = endpoint.instance_name;
  options.server_cert = endpoint.server_cert;
  options.client_cert = endpoint.client_cert;
  options.client_key = endpoint.client_key;
  options.access_token = endpoint.access_token;
  options.retry_limit = endpoint.connection.retry_limit;
  options.retry_delay_ms = endpoint.connection.retry_delay_ms;
  options.request_timeout_s = endpoint.connection.request_timeout_s;
  options.keepalive_time_s = endpoint.connection.keepalive_time_s;
  return options;
}

int64_t SizeOf(const std::vector<Digest>& digests) {
  int64_t total = 0;
  for (const Digest& digest : digests) total += digest.size_bytes();
  return total;
}

// Every blob an artifact's content is: its files' tree (Directories and
// files) and its log. `local` must hold them.
StatusOr<std::vector<Digest>> ContentOf(const Artifact& artifact, Storage& local) {
  std::vector<Digest> blobs;
  if (artifact.has_files()) {
    CAIRN_ASSIGN_OR_RETURN(CollectedTree tree, CollectTree(local, artifact.files()));
    blobs = tree.AllDigests();
  }
  if (artifact.has_log()) blobs.push_back(artifact.log());
  return blobs;
}

}  // namespace

class GrpcRemoteArtifacts final : public RemoteArtifacts {
 public:
  static StatusOr<std::unique_ptr<RemoteArtifacts>> Connect(
      const std::vector<RemoteEndpoint>& caches, const std::string& tool_version, Warn warn);
  ~GrpcRemoteArtifacts() override;

  bool can_pull() const override;
  bool can_push() const override;
  StatusOr<std::optional<Artifact>> Pull(const std::string& project, const std::string& element,
                                         const std::string& cache_key, Storage& local,
                                         ArtifactStore& artifacts) override;
  bool Available(const std::string& project, const std::string& element,
                 const std::string& cache_key) override;
  Status Push(const Artifact& artifact, Storage& local) override;
  const TransferTotals& pulled() const override { return pulled_; }
  const TransferTotals& pushed() const override { return pushed_; }

 private:
  GrpcRemoteArtifacts(std::vector<std::unique_ptr<Remote>> remotes, Warn warn);
  // The record `index` names for the artifact; nullopt when it names none
  // or fails (reported).
  std::optional<Digest> Lookup(Remote& index, const std::string& project,
                               const std::string& element, const std::string& cache_key);
  // Records a failure of `remote`; it is used no more.
  void Fail(Remote& remote, const Status& status, const std::string& doing);
  StatusOr<bool> FetchContent(Remote& storage, const Digest& record, const std::string& element,
                              Storage& local, Artifact* artifact);

  std::vector<std::unique_ptr<Remote>> remotes_;
  Warn warn_;
  TransferTotals pulled_;
  TransferTotals pushed_;
};

StatusOr<std::unique_ptr<RemoteArtifacts>> GrpcRemoteArtifacts::Connect(
    const std::vector<RemoteEndpoint>& caches, const std::string& tool_version, Warn warn) {
  std::vector<std::unique_ptr<Remote>> remotes;
  for (const RemoteEndpoint& endpoint : caches) {
    auto remote = std::make_unique<Remote>();
    remote->endpoint = endpoint;
    CAIRN_ASSIGN_OR_RETURN(
        remote->connection,
        RemoteConnection::Create(ConnectionOptionsOf(endpoint),
                                 remote_client::ToolIdentity{"cairn", tool_version}));
    if (endpoint.type != CacheType::kIndex)
      remote->cas = std::make_unique<CasClient>(remote->connection);
    if (endpoint.type != CacheType::kStorage) {
      remote->assets = std::make_unique<AssetClient>(remote->connection);
    }
    remotes.push_back(std::move(remote));
  }
  return std::unique_ptr<RemoteArtifacts>(
      new GrpcRemoteArtifacts(std::move(remotes), std::move(warn)));
}

GrpcRemoteArtifacts::GrpcRemoteArtifacts(std::vector<std::unique_ptr<Remote>> remotes, Warn warn)
    : remotes_(std::move(remotes)), warn_(std::move(warn)) {}

GrpcRemoteArtifacts::~GrpcRemoteArtifacts() = default;

bool GrpcRemoteArtifacts::can_pull() const {
  bool index = false, storage = false;
  for (const auto& remote : remotes_) {
    index = index || remote->index();
    storage = storage || remote->storage();
  }
  return index && storage;
}

bool GrpcRemoteArtifacts::can_push() const {
  bool index = false, storage = false;
  for (const auto& remote : remotes_) {
    if (!remote->endpoint.push) continue;
    index = index || remote->index();
    storage = storage || remote->storage();
  }
  return index && storage;
}

void GrpcRemoteArtifacts::Fail(Remote& remote, const Status& status, const std::string& doing) {
  // Only the first failure of a cache is worth a line: after it the cache
  // is left alone.
  if (!remote.failed.exchange(true) && warn_) {
    warn_("artifact cache " + remote.endpoint.url + " (" + CodeName(status.code()) + ") " + doing +
          ": " + status.message() + "; going on without it");
  }
}

StatusOr<bool> GrpcRemoteArtifacts::FetchContent(Remote& storage, const Digest& record,
                                                 const std::string& element, Storage& local,
                                                 Artifact* artifact) {
  CAIRN_RETURN_IF_ERROR(storage.cas->Download({record}, local));
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, local.ReadBlob(record));
  if (!artifact->ParseFromString(bytes)) {
    return DataLoss("the artifact record of " + element + " on " + storage.endpoint.url + " (" +
                    DigestToString(record) + ") does not parse");
  }
  std::vector<Digest> wanted;
  if (artifact->has_files()) {
    CAIRN_RETURN_IF_ERROR(storage.cas->DownloadTree(artifact->files(), local));
  }
  if (artifact->has_log()) wanted.push_back(artifact->log());
  CAIRN_RETURN_IF_ERROR(storage.cas->Download(wanted, local));
  return true;
}

std::optional<Digest> GrpcRemoteArtifacts::Lookup(Remote& index, const std::string& project,
                                                  const std::string& element,
                                                  const std::string& cache_key) {
  if (!index.index() || !index.usable()) return std::nullopt;
  StatusOr<std::optional<AssetFetchResponse>> named = index.assets->Fetch(
      AssetKind::kBlob, ArtifactStore::FetchRequest(project, element, cache_key));
  if (!named.ok()) {
    Fail(index, named.status(), "looking up " + element);
    return std::nullopt;
  }
  if (!named->has_value()) return std::nullopt;
  return (*named)->blob_digest();
}

StatusOr<std::optional<Artifact>> GrpcRemoteArtifacts::Pull(const std::string& project,
                                                            const std::string& element,
                                                            const std::string& cache_key,
                                                            Storage& local,
                                                            ArtifactStore& artifacts) {
  for (const auto& index : remotes_) {
    std::optional<Digest> named = Lookup(*index, project, element, cache_key);
    if (!named) continue;
    const Digest record = *named;
    // The bytes from the same server when it holds them, else from the
    // storage caches in order.
    std::vector<Remote*> storages;
    if (index->storage()) storages.push_back(index.get());
    for (const auto& other : remotes_) {
      if (other.get() != index.get() && other->storage()) storages.push_back(other.get());
    }
    for (Remote* storage : storages) {
      if (!storage->usable()) continue;
      Artifact artifact;
      StatusOr<bool> fetched = FetchContent(*storage, record, element, local, &artifact);
      if (!fetched.ok()) {
        // A storage cache lacking part of it is not broken; try the next.
        if (fetched.status().code() != Code::kNotFound) {
          Fail(*storage, fetched.status(), "pulling " + element);
        }
        continue;
      }
      if (artifact.project() != project || artifact.element() != element ||
          artifact.cache_key() != cache_key || !artifact.success()) {
        continue;  // not what the name promised: never trusted
      }
      // Named locally last: everything it needs is here now.
      CAIRN_RETURN_IF_ERROR(artifacts.Put(artifact));
      StatusOr<std::vector<Digest>> content = ContentOf(artifact, local);
      if (content.ok()) {
        pulled_.bytes += SizeOf(*content) + record.size_bytes();
        pulled_.blobs += static_cast<int64_t>(content->size()) + 1;
      }
      ++pulled_.elements;
      return std::optional<Artifact>(std::move(artifact));
    }
  }
  return std::optional<Artifact>();
}

bool GrpcRemoteArtifacts::Available(const std::string& project, const std::string& element,
                                    const std::string& cache_key) {
  for (const auto& index : remotes_) {
    if (Lookup(*index, project, element, cache_key)) return true;
  }
  return false;
}

Status GrpcRemoteArtifacts::Push(const Artifact& artifact, Storage& local) {
  if (!artifact.success()) return Status::Ok();
  std::string bytes = ArtifactStore::Serialize(artifact);
  CAIRN_ASSIGN_OR_RETURN(Digest record, local.WriteBlob(bytes));
  CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> content, ContentOf(artifact, local));
  content.push_back(record);
  Status first_failure;
  bool stored = false, named = false, tried_storage = false, tried_index = false;
  for (const auto& storage : remotes_) {
    if (!storage->endpoint.push || !storage->storage() || !storage->usable()) continue;
    tried_storage = true;
    StatusOr<std::vector<Digest>> missing = storage->cas->FindMissing(content);
    Status uploaded =
        missing.ok() ? storage->cas->UploadMissing(*missing, local) : missing.status();
    if (!uploaded.ok()) {
      Fail(*storage, uploaded, "pushing " + artifact.element());
      if (first_failure.ok()) first_failure = uploaded;
      continue;
    }
    stored = true;
    pushed_.bytes += SizeOf(*missing);
    pushed_.blobs += static_cast<int64_t>(missing->size());
  }
  // The name last: a push cut short before this names nothing.
  for (const auto& index : remotes_) {
    if (!stored || !index->endpoint.push || !index->index() || !index->usable()) continue;
    tried_index = true;
    AssetPushRequest request = ArtifactStore::PushRequest(artifact, record);
    Status pushed = Status::Ok();
    if (!index->storage()) {
      // An index-only cache keeps names, not bytes: the server cannot
      // keep alive what it does not hold, so the name lists no
      // references, and the small record goes along where the server
      // has a CAS at all (a server that checks a name's content, as
      // cairn-server does, then serves it).
      request.clear_references_blobs();
      request.clear_references_directories();
      pushed = CasClient(index->connection).Upload({record}, local);
      if (pushed.code() == Code::kUnimplemented) pushed = Status::Ok();
    }
    if (pushed.ok()) pushed = index->assets->Push(AssetKind::kBlob, request);
    if (!pushed.ok()) {
      Fail(*index, pushed, "naming " + artifact.element());
      if (first_failure.ok()) first_failure = pushed;
      continue;
    }
    named = true;
  }
  if (named) ++pushed_.elements;
  if (!first_failure.ok()) return first_failure;
  if (!tried_storage || !tried_index) {
    return Unavailable("no artifact cache left to push " + artifact.element() +
                       " to (each push cache failed earlier, as reported)");
  }
  return Status::Ok();
}

}  // namespace cairn::scheduler

// The name the host looks up (kRemoteArtifactsEntry), not ours to style.
// NOLINTNEXTLINE(readability-identifier-naming)
extern "C" __attribute__((visibility("default"))) void cairn_connect_remote_artifacts(
    const std::vector<cairn::RemoteEndpoint>* caches, const std::string* tool_version,
    const cairn::scheduler::RemoteArtifacts::Warn* warn,
    std::unique_ptr<cairn::scheduler::RemoteArtifacts>* connected, cairn::Status* error) {
  // Nothing may throw across the dlopen boundary.
  try {
    auto made = cairn::scheduler::GrpcRemoteArtifacts::Connect(*caches, *tool_version, *warn);
    if (made.ok()) {
      *connected = std::move(made).value();
    } else {
      *error = made.status();
    }
  } catch (const std::exception& e) {
    *error = cairn::Internal(std::string("connecting to the artifact caches: ") + e.what());
  }
}
