// server_rows.h — server_bench's three groups of rows. Each prints its rows
// (bench_support.h's Row) against a baseline timed in the same run and
// throws BenchError when a call fails or answers wrongly. `dir` is the
// benchmark's own directory, on the filesystem of the server's cache.
#ifndef CAIRN_BENCH_SERVER_SERVER_ROWS_H
#define CAIRN_BENCH_SERVER_SERVER_ROWS_H

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>

#include "bench_support.h"
#include "server_process.h"

namespace cairn::bench {

// 1. ByteStream Write of a generated blob in 1 MiB messages against OpenSSL
// SHA-256 of the same chunks (target >= 0.5x), the server's VmHWM after it
// (target < 100 MiB), and write() of the same bytes to a file for context.
void UploadRows(const Settings& settings, const std::string& dir, ServerProcess& server,
                const std::shared_ptr<grpc::Channel>& channel);

// 2. FindMissingBlobs (half present) and BatchUpdateBlobs of small blobs,
// per digest, against a cas-local store opened in this process. No target.
void CasRows(const Settings& settings, const std::string& dir,
             const std::shared_ptr<grpc::Channel>& channel, uint64_t batch_limit);

// 3. A cache-hit Execute against GetCapabilities (target <= 3x); a
// cache-miss Execute of /bin/true against the `cairn run` process
// (target <= 1.5x). Prints why and returns when Execute is UNIMPLEMENTED.
void ExecuteRows(const Settings& settings, const std::string& dir,
                 const std::shared_ptr<grpc::Channel>& channel, uint64_t batch_limit);

}  // namespace cairn::bench

#endif  // CAIRN_BENCH_SERVER_SERVER_ROWS_H
