// cairn/scheduler/element_builder.h — building one element.
//
// What each kind does, as BuildStream 1.6 does it:
//   import   its sources merged, the `source` directory of them placed at
//            `target`; no sandbox.
//   stack    no files; it only gathers runtime dependencies.
//   manual   the runtime closure of the build dependencies merged as one
//            Merkle tree (overlaps warned about, later elements winning),
//            the sources at %{build-root}, then one Action: the staged
//            elements' integration commands, then configure-, build-,
//            install- and strip-commands, each run as `sh -c -e`, in
//            %{build-root} (or %{command-subdir} below it). %{install-root}
//            is the artifact.
//   script   like manual, with `layout` placing elements at destinations
//            and `commands` run in %{cwd}.
//   compose  the dependencies' files, filtered by split-rule domains
//            (include, exclude, include-orphans), after their integration
//            commands when `integrate` says so.
// Absolute symlinks in artifacts are made relative; a file staged through a
// symlink pointing out of the root is an error. Every command is labelled,
// so a failure says which one failed and with which exit code.
//
// Thread-safe: several elements build at once, each on its own thread.
#ifndef CAIRN_SCHEDULER_ELEMENT_BUILDER_H
#define CAIRN_SCHEDULER_ELEMENT_BUILDER_H

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/project/project.h"
#include "cairn/sandbox.h"
#include "cairn/scheduler/artifact_store.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::scheduler {

// Source content as trees in the store, each imported once per process.
//
// A local source's tree is also remembered between processes, in
// `memo_directory` (when given), under a fingerprint of what lstat says of
// every entry (path, type, mode, size, inode, mtime, ctime, link target):
// an unchanged directory of 20,000 files is not read and hashed again by
// every `show` and `build`. As git's index does, entries changed within
// the last two seconds make the fingerprint unusable (a file written twice
// in one timestamp tick would otherwise go unnoticed), and a remembered
// tree missing from the store is imported again.
class SourceTrees {
 public:
  explicit SourceTrees(Storage& storage, std::string memo_directory = "")
      : storage_(storage), memo_directory_(std::move(memo_directory)) {}
  // The tree of one source (a local directory or file, a tar archive).
  StatusOr<Digest> Tree(const project::Source& source);
  // What the cache key holds of a source (cairn/project/cache_key.h).
  StatusOr<std::string> Key(const project::Source& source);

 private:
  StatusOr<Digest> LocalTree(const project::Source& source);

  Storage& storage_;
  std::string memo_directory_;
  std::mutex mutex_;
  std::map<std::string, Digest> trees_;  // by kind and path
};

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
  // Warnings (overlaps) go here; may be empty.
  std::function<void(const std::string&)> warn;
};

// What the sandbox is given for an element: the whole input root (the
// staged dependencies after their integration commands, and the sources),
// the script and its environment. Also what `cairn shell --build` enters.
struct PreparedBuild {
  Digest input_root;
  std::vector<std::string> arguments;  // sh -c SCRIPT
  std::map<std::string, std::string> environment;
  std::string working_directory;  // where the commands run, absolute in the sandbox
  // Relative to the root: %{install-root} (the artifact) first, then
  // %{build-root} for manual elements; the only writable places.
  std::vector<std::string> output_paths;
  std::vector<std::string> commands;  // labelled, as the artifact records them
  uint32_t uid = 0;                   // sandbox: build-uid, build-gid
  uint32_t gid = 0;
  Digest integration_action;  // set when integration commands ran
};

// The merged files of `elements` (artifacts that must exist), in order.
StatusOr<Digest> StageArtifacts(const BuildContext& context,
                                const std::vector<const project::Element*>& elements,
                                bool warn_overlaps);

// The Action's inputs for a manual or script element. The staged
// elements' integration commands run first, as an Action of their own
// (root writable, as bst runs them), their output going to `log_fd`; a
// failing one is FAILED_PRECONDITION naming it. With `with_sources` false,
// no sources.
StatusOr<PreparedBuild> PrepareBuild(const BuildContext& context, const project::Element& element,
                                     int log_fd, bool with_sources = true);

// The shell script running `integration` commands (at /) and then
// `commands` (labelled), each stopping the build on failure with a line
// "cairn: LABEL failed with exit code N" on stderr.
std::string BuildScript(const std::vector<std::pair<std::string, std::string>>& integration,
                        const std::vector<std::pair<std::string, std::string>>& commands,
                        const std::string& working_directory,
                        const std::vector<std::string>& make_directories);

// `root` after the integration commands of `elements` ran on it in the
// context's sandbox (for compose and `artifact checkout`): each directory
// at the top of the root is an output of the Action. The commands' output
// goes to `log_fd`. A failing command is FAILED_PRECONDITION naming it.
StatusOr<Digest> IntegrateTree(const BuildContext& context, const Digest& root,
                               const std::vector<const project::Element*>& elements,
                               const std::map<std::string, std::string>& environment, int log_fd,
                               Digest* action = nullptr);

// The failing command's line in a log ("" when there is none).
std::string FailedCommandLine(const std::string& log_tail);

// Builds `element`, whose build dependencies' artifacts are in the store.
// `log_path` receives the build's output as it is produced. Returns the
// artifact (success or failure) to store; a non-OK status is an error of
// Cairn's or the sandbox's, not of the build.
StatusOr<Artifact> BuildElement(const BuildContext& context, const project::Element& element,
                                const std::string& log_path);

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_ELEMENT_BUILDER_H
