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
#include "cairn/scheduler/build_context.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::scheduler {

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

// The shell script running `commands` (labelled) in `working_directory`
// after creating `make_directories`, each stopping the build on failure
// with a line "cairn: LABEL failed with exit code N" on stderr.
std::string BuildScript(const std::vector<std::pair<std::string, std::string>>& commands,
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
