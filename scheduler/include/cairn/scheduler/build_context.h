// cairn/scheduler/build_context.h — what building an element reaches:
// the project, its graph and keys, the store, the artifacts, the sources
// and where Actions run.
#ifndef CAIRN_SCHEDULER_BUILD_CONTEXT_H
#define CAIRN_SCHEDULER_BUILD_CONTEXT_H

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/project/project.h"
#include "cairn/sandbox.h"
#include "cairn/scheduler/artifact_store.h"
#include "cairn/scheduler/remote_artifacts.h"
#include "cairn/scheduler/source_trees.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::scheduler {

// A sandbox opened on first use, once, from any thread: a build whose
// elements are all cached never loads a sandbox plugin.
class LazySandbox {
 public:
  using Opener = std::function<StatusOr<std::shared_ptr<Sandbox>>()>;
  explicit LazySandbox(Opener open) : open_(std::move(open)) {}
  StatusOr<std::shared_ptr<Sandbox>> Get();

 private:
  std::mutex mutex_;
  Opener open_;
  std::shared_ptr<Sandbox> sandbox_;
  Status error_;
  bool tried_ = false;
};

// Everything an element build needs besides the element.
struct BuildContext {
  const project::Project* project = nullptr;
  const project::ElementGraph* graph = nullptr;
  const std::vector<std::string>* keys = nullptr;  // indexed like graph->elements()
  Storage* storage = nullptr;
  ArtifactStore* artifacts = nullptr;
  SourceTrees* sources = nullptr;
  // Where Actions run: `sandbox` when set, else opened through
  // `lazy_sandbox` when the first Action runs.
  std::shared_ptr<Sandbox> sandbox;
  std::shared_ptr<LazySandbox> lazy_sandbox;
  std::string sandbox_name;
  std::function<bool()> is_cancelled;
  // Remote artifact caches: pulled from before building, pushed to after.
  // Null = none (--no-remote, or none configured).
  RemoteArtifacts* remote = nullptr;
  // Warnings (overlaps) go here; may be empty.
  std::function<void(const std::string&)> warn;
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_BUILD_CONTEXT_H
