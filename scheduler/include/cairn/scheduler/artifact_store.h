// cairn/scheduler/artifact_store.h — element artifacts in any Storage.
//
// An artifact (cairn.artifact.v1.Artifact) is a blob in CAS named by a
// Remote Asset: the URI "cairn-artifact:PROJECT/ELEMENT" with the
// qualifier cache-key=KEY. The asset's references (the files' tree, the
// log) keep them alive through garbage collection, and the same names work
// in a remote Remote Asset server, so an artifact cache needs nothing else.
// Failures are artifacts too (success false, the log, no files): `show`
// reports them and a build does not retry them unless asked.
//
// Thread-safe when the Storage is.
#ifndef CAIRN_SCHEDULER_ARTIFACT_STORE_H
#define CAIRN_SCHEDULER_ARTIFACT_STORE_H

#include <memory>
#include <optional>
#include <string>

#include "cairn/artifact/v1/artifact.pb.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::scheduler {

using Artifact = cairn::artifact::v1::Artifact;

class ArtifactStore {
 public:
  explicit ArtifactStore(std::shared_ptr<Storage> storage) : storage_(std::move(storage)) {}

  static std::string Uri(const std::string& project, const std::string& element);
  // The Remote Asset requests that find and name an artifact, here and on
  // remote caches alike. `record` is the digest of the serialized record.
  static AssetFetchRequest FetchRequest(const std::string& project, const std::string& element,
                                        const std::string& cache_key);
  static AssetPushRequest PushRequest(const Artifact& artifact, const Digest& record);
  // The record's bytes: deterministic (map entries sorted), so the same
  // record has the same digest wherever it is written, pulled or pushed.
  static std::string Serialize(const Artifact& artifact);

  // The artifact of that key, or nullopt when there is none (or its
  // content is gone).
  StatusOr<std::optional<Artifact>> Find(const std::string& project, const std::string& element,
                                         const std::string& cache_key);
  // Stores the record (its files and log must be in the store already);
  // replaces an earlier record of the same key (a failure by a success).
  Status Put(const Artifact& artifact);
  // Forgets the artifact of that key; its content goes at the next GC.
  Status Remove(const std::string& project, const std::string& element,
                const std::string& cache_key);

  Storage& storage() { return *storage_; }

 private:
  std::shared_ptr<Storage> storage_;
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_ARTIFACT_STORE_H
