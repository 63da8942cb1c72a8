// bench_support.h — what server_bench's rows share: the settings, timing,
// one printed row, and the CAS calls more than one row makes. Failures
// throw BenchError (server_process.h) naming the call and its status.
#ifndef CAIRN_BENCH_SERVER_BENCH_SUPPORT_H
#define CAIRN_BENCH_SERVER_BENCH_SUPPORT_H

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/digest.h"

namespace cairn::bench {

namespace reapi = build::bazel::remote::execution::v2;

inline constexpr double kMiB = 1 << 20;

struct Settings {
  std::string dir = "/tmp";  // where the benchmark's directory is made
  uint64_t upload_mib = 1024;
  int upload_runs = 3;
  int rounds = 5;  // of FindMissingBlobs and BatchUpdateBlobs
  int small_blobs = 10000;
  int round_trips = 300;  // cache-hit Execute and GetCapabilities calls
  int execute_runs = 21;  // cache-miss Execute calls and `cairn run`s
  bool keep = false;
};

// Wall-clock seconds of `body`.
double SecondsOf(const std::function<void()>& body);
// The same, started with no dirty pages (sync first), so neither side of a
// comparison pays for the writeback of the one before it.
double SyncedSecondsOf(const std::function<void()>& body);
double Median(std::vector<double> values);
// The median of measured[i] / baseline[i]: each run against the baseline
// timed next to it, so the ratio holds while the machine's speed drifts.
double MedianRatio(const std::vector<double>& measured, const std::vector<double>& baseline);
uint64_t SplitMix64(uint64_t* state);

// A client context with a deadline, so no call can hang the benchmark.
std::unique_ptr<grpc::ClientContext> Context(int seconds);
// Throws BenchError("WHAT failed: code N: MESSAGE") unless `status` is OK.
void Check(const grpc::Status& status, const std::string& what);

// One result line: what was measured, its baseline, their ratio (none
// when `ratio` < 0), the target, and MET or MISSED (nothing when `met` < 0).
void Row(const std::string& what, const std::string& measured, const std::string& baseline,
         double ratio, const std::string& target, int met);
std::string Format(const char* format, double value);

struct Blob {
  std::string data;
  Digest digest;
};

// Uploads `blobs` in as few BatchUpdateBlobs calls as `limit` bytes allow
// (counting a generous 100 bytes of framing per blob); returns the calls.
// Throws unless every blob's status is OK.
int BatchUpload(reapi::ContentAddressableStorage::Stub& cas, const std::vector<Blob>& blobs,
                uint64_t limit);
// FindMissingBlobs of `digests` in one call; returns how many are missing.
size_t CountMissing(reapi::ContentAddressableStorage::Stub& cas,
                    const std::vector<Digest>& digests);

}  // namespace cairn::bench

#endif  // CAIRN_BENCH_SERVER_BENCH_SUPPORT_H
