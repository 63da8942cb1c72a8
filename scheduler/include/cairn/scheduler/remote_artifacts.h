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

  virtual ~RemoteArtifacts() = default;

  virtual bool can_pull() const = 0;
  virtual bool can_push() const = 0;

  // The artifact from the first index that names it, with its content
  // brought into `local` and named in `artifacts`; nullopt when no cache
  // has it (or none answers).
  virtual StatusOr<std::optional<Artifact>> Pull(const std::string& project,
                                                 const std::string& element,
                                                 const std::string& cache_key, Storage& local,
                                                 ArtifactStore& artifacts) = 0;
  // Whether some index names the artifact (for `cairn show`).
  virtual bool Available(const std::string& project, const std::string& element,
                         const std::string& cache_key) = 0;
  // Pushes a successful artifact whose content is in `local` to every
  // push-enabled cache. OK when every such cache took it (or was already
  // left alone); the first failure otherwise (also reported through warn).
  virtual Status Push(const Artifact& artifact, Storage& local) = 0;

  virtual const TransferTotals& pulled() const = 0;
  virtual const TransferTotals& pushed() const = 0;
};

// Connects (lazily: nothing is sent until the first pull or push) to
// every cache, through the gRPC implementation in the module
// cairn-remote-artifacts.so beside the plugins' directory. It is loaded
// only here, so the many commands that use no cache never load gRPC
// (about 6 ms of dynamic linking for every process). INVALID_ARGUMENT /
// NOT_FOUND for a URL or credential file that cannot be used;
// FAILED_PRECONDITION naming the module when it cannot be loaded.
StatusOr<std::unique_ptr<RemoteArtifacts>> ConnectRemoteArtifacts(
    const std::vector<RemoteEndpoint>& caches, const std::string& tool_version,
    const RemoteArtifacts::Warn& warn);

// The module's entry point, exported with C linkage under this name (its
// arguments are pointers, as C linkage wants): fills *connected, or
// *error. Host and module are built together, from one tree.
using ConnectRemoteArtifactsFn = void (*)(const std::vector<RemoteEndpoint>* caches,
                                          const std::string* tool_version,
                                          const RemoteArtifacts::Warn* warn,
                                          std::unique_ptr<RemoteArtifacts>* connected,
                                          Status* error);
inline constexpr char kRemoteArtifactsEntry[] = "cairn_connect_remote_artifacts";
inline constexpr char kRemoteArtifactsModule[] = "cairn-remote-artifacts.so";

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_REMOTE_ARTIFACTS_H
