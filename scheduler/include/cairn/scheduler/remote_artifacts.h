// cairn/scheduler/remote_artifacts.h — artifacts on remote caches: pulled
// before building, pushed after.
//
// An artifact cache is a REAPI CAS (the bytes: the record, its files' tree,
// its log) and a Remote Asset server (the index: the record's digest
// under the same name the local store uses, ArtifactStore::Uri with the
// cache-key qualifier). A cache of type `all` is both; `index` and
// `storage` caches split the two, as BuildStream 2's do: a name found in
// an index is fetched from the storage caches in order. An index-only
// cache gets the name and the small record, without references (it
// cannot keep alive bytes it does not hold); what the storage caches keep
// is their own policy.
//
// Pull brings the record, every file of its tree and its log into the
// local store (only what is missing there) and names the artifact locally
// last, so an interrupted pull leaves no artifact that lacks its content.
// Push uploads the blobs a storage cache lacks and names the artifact on
// the index last, listing the tree and the log as references so the
// server keeps them: an interrupted push names nothing, and the next push
// completes it. Failed builds are never pushed.
//
// A cache that fails (down, refusing, wrong credentials) costs one retry
// sequence of its connection; it is then reported once through `warn`
// with its URL and the gRPC code, and left alone for the rest of this
// process: the build goes on without it.
//
// Thread-safe.
#ifndef CAIRN_SCHEDULER_REMOTE_ARTIFACTS_H
#define CAIRN_SCHEDULER_REMOTE_ARTIFACTS_H

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/runtime/endpoint.h"
#include "cairn/scheduler/artifact_store.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::scheduler {

// Bytes and blobs moved, for progress and summaries.
struct TransferTotals {
  std::atomic<int64_t> bytes{0};
  std::atomic<int64_t> blobs{0};
  std::atomic<int64_t> elements{0};
};

class RemoteArtifacts {
 public:
  using Warn = std::function<void(const std::string&)>;

  // Connects (lazily: nothing is sent until the first pull or push) to
  // every cache. INVALID_ARGUMENT / NOT_FOUND for a URL or credential file
  // that cannot be used.
  static StatusOr<std::unique_ptr<RemoteArtifacts>> Connect(
      const std::vector<RemoteEndpoint>& caches, const std::string& tool_version, Warn warn);
  ~RemoteArtifacts();

  bool can_pull() const;
  bool can_push() const;

  // The artifact from the first index that names it, with its content
  // brought into `local` and named in `artifacts`; nullopt when no cache
  // has it (or none answers).
  StatusOr<std::optional<Artifact>> Pull(const std::string& project, const std::string& element,
                                         const std::string& cache_key, Storage& local,
                                         ArtifactStore& artifacts);
  // Whether some index names the artifact (for `cairn show`).
  bool Available(const std::string& project, const std::string& element,
                 const std::string& cache_key);
  // Pushes a successful artifact whose content is in `local` to every
  // push-enabled cache. OK when every such cache took it (or was already
  // left alone); the first failure otherwise (also reported through warn).
  Status Push(const Artifact& artifact, Storage& local);

  const TransferTotals& pulled() const { return pulled_; }
  const TransferTotals& pushed() const { return pushed_; }

 private:
  struct Remote;
  RemoteArtifacts(std::vector<std::unique_ptr<Remote>> remotes, Warn warn);
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

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_REMOTE_ARTIFACTS_H
