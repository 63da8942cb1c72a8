// cairn/scheduler/scheduler.h — building a graph of elements.
//
// Every element of the graph is visited in dependency order, up to `jobs`
// at once: an element whose artifact is in the store is cached; one whose
// failure is recorded stays failed unless --retry-failed; the others are
// built (cairn/scheduler/element_builder.h) once their build dependencies
// are done. A failure stops what depends on it; independent work goes on
// (OnError::kContinue, the default) or nothing new starts (kQuit).
//
// Between processes: building an element holds an exclusive lock named by
// its cache key under the lock directory, and the store is checked again
// once the lock is held, so two `cairn build`s on one cache never build the
// same element at the same time, and the second finds the first's artifact.
//
// Remote caches (BuildContext::remote): an element missing here is pulled
// (under its key's lock) before it is built; each successful build is
// queued for `pushers` threads that push while the build goes on, and
// BuildGraph returns once the queue is empty. A failed push fails nothing.
//
// Interruption: when the context's is_cancelled turns true, running
// sandboxes are stopped, nothing is recorded for them, and Build returns
// CANCELLED; the next build starts where this one stopped.
#ifndef CAIRN_SCHEDULER_SCHEDULER_H
#define CAIRN_SCHEDULER_SCHEDULER_H

#include <string>
#include <vector>

#include "cairn/scheduler/element_builder.h"
#include "cairn/scheduler/progress.h"
#include "cairn/status.h"

namespace cairn::scheduler {

enum class OnError { kContinue, kQuit };

struct BuildOptions {
  int jobs = 1;
  bool retry_failed = false;
  OnError on_error = OnError::kContinue;
  std::string log_directory;   // one log file per element build
  std::string lock_directory;  // the locks shared by every process on this cache
  // Threads pushing built artifacts to the remote caches while the build
  // goes on (BuildContext::remote).
  int pushers = 2;
};

// What `cairn show` prints for an element.
// kDownloadable: not here, but a remote cache has it (BuildContext::remote).
enum class ElementState { kCached, kBuildable, kWaiting, kFailed, kDownloadable };
std::string ElementStateName(ElementState state);

// The state of every element of the graph, indexed like its elements().
StatusOr<std::vector<ElementState>> ElementStates(const BuildContext& context);

struct BuildSummary {
  size_t built = 0;
  size_t cached = 0;
  size_t failed = 0;
  size_t skipped = 0;
  size_t pulled = 0;
  size_t pushed = 0;         // artifacts pushed to every push cache
  size_t push_failures = 0;  // artifacts some push cache did not take
};

// Builds every element of the context's graph. OK when all of it is
// built or cached; FAILED_PRECONDITION naming the failed elements when a
// build failed; CANCELLED when interrupted.
Status BuildGraph(const BuildContext& context, const BuildOptions& options,
                  ProgressReporter& progress, BuildSummary* summary = nullptr);

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_SCHEDULER_H
