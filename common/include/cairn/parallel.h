// cairn/parallel.h — running independent work items on a few threads.
//
// Parallelism here is deliberately small (hashing and I/O on a few
// cores): ParallelFor starts `threads - 1` helper threads for the duration
// of one call and runs items on the calling thread too, so there is no
// long-lived pool to shut down when the plugin is unloaded.
#ifndef CAIRN_PARALLEL_H
#define CAIRN_PARALLEL_H

#include <cstddef>
#include <functional>

#include "cairn/status.h"

namespace cairn {

// Calls body(i) for every i in [0, count), on up to `threads` threads.
// Stops handing out new items after the first error and returns it (the
// error of the lowest index among those that failed). Thread-safe if body is.
Status ParallelFor(size_t count, int threads, const std::function<Status(size_t)>& body);

// The same, calling body(worker, i) where `worker` in [0, threads) is
// fixed for each thread, so the body can keep per-worker state (an open
// directory, say) in a vector of `threads` slots without locking.
Status ParallelForWithWorker(size_t count, int threads,
                             const std::function<Status(int worker, size_t)>& body);

}  // namespace cairn

#endif  // CAIRN_PARALLEL_H
