// build_action.h — what element_builder.cc and build_action.cc share.
//
// build_action.cc prepares an element's commands as one Action and runs it
// in the context's sandbox (PrepareBuild, IntegrateTree and their helpers,
// declared in cairn/scheduler/element_builder.h); element_builder.cc turns
// each kind of element into an artifact, and for manual, script and
// compose elements runs the Actions built here. These are the pieces both
// use. Thread-safe as the functions of element_builder.h are: no state.
#ifndef CAIRN_SCHEDULER_BUILD_ACTION_H
#define CAIRN_SCHEDULER_BUILD_ACTION_H

#include <string>
#include <utility>
#include <vector>

#include "cairn/digest.h"
#include "cairn/project/project.h"
#include "cairn/scheduler/build_context.h"
#include "cairn/scheduler/element_builder.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::scheduler {

// What running one Action gave.
struct ActionRun {
  bool completed = false;  // the commands ran to the end (any exit code)
  int exit_code = 0;
  Digest output;  // the output directory (empty when it was not produced)
  Digest action;
};

// Runs `prepared` in the context's sandbox (the lazy one is started if
// need be), its output going to `log_fd`. `outputs` receives the tree of
// each of `output_paths`, in order (an empty tree for one not produced).
// A non-OK status is an error of Cairn's or the sandbox's; a failing
// command is a run with a non-zero exit code.
StatusOr<ActionRun> RunAction(const BuildContext& context, const PreparedBuild& prepared,
                              const std::vector<std::string>& output_paths, int log_fd,
                              std::vector<Digest>* outputs);

// The labelled integration commands of `elements`, in order:
// ("integration-commands[N] of NAME", command).
std::vector<std::pair<std::string, std::string>> IntegrationOf(
    const std::vector<const project::Element*>& elements);

// "/buildstream/p/e.bst" -> "buildstream/p/e.bst"; "/" -> "".
std::string RelativeToRoot(const std::string& path);

// The empty directory, written to `storage`.
StatusOr<Digest> EmptyTree(Storage& storage);

// The last `bytes` of what the log file open at `fd` holds.
std::string ReadTail(int fd, size_t bytes);

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_BUILD_ACTION_H
