// bench_util.h — what the cas-local benchmarks share: timing, shell steps,
// generated trees, the store opened as `cairn` opens it, report rows.
// Every helper exits the benchmark with a message on failure.
#ifndef CAIRN_BENCH_CAS_BENCH_UTIL_H
#define CAIRN_BENCH_CAS_BENCH_UTIL_H

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cairn/runtime/runtime.h"
#include "cairn/status.h"

namespace cairn::bench {

[[noreturn]] void Die(const std::string& message);
void Check(const Status& status, const std::string& what);
// Runs a shell command; dies when it fails.
void Sh(const std::string& command);

// Wall-clock seconds of `body`, started with no dirty pages (sync first), so
// neither side pays for the writeback of the one before it.
double Seconds(const std::function<void()>& body);

void WriteFile(const std::string& path, const std::string& data, mode_t mode);

// `files` small files (64 B .. 8 KiB) in `dirs` directories; one file in
// `executable_every` is executable (mode 0755).
void BuildSmallTree(const std::string& root, int files, int dirs, uint64_t seed,
                    int executable_every = 20);

// The store at `path`, opened by a Runtime as `cairn` opens it. The
// runtime lives as long as the store.
struct OpenedStore {
  std::unique_ptr<Runtime> runtime;
  std::shared_ptr<Storage> store;
  Storage& storage() { return *store; }
};
std::unique_ptr<OpenedStore> OpenStore(const std::string& path);

// One row: the measurement, its baseline, the ratio and the target.
void Report(const std::string& what, double measured, const std::string& baseline_name,
            double baseline, double target);

double Median(std::vector<double> values);

}  // namespace cairn::bench

#endif  // CAIRN_BENCH_CAS_BENCH_UTIL_H
