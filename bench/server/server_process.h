// server_process.h — the processes server_bench starts: a cairn-server
// (its port read from the line it prints once bound, its memory read from
// /proc, stopped with SIGTERM) and short-lived commands such as `cairn run`.
//
//   auto server = ServerProcess::Start(CAIRN_SERVER_BINARY,
//                                      {"--cache-dir", dir + "/cache"}, dir + "/server.log");
//   Connect("127.0.0.1:" + std::to_string(server->port()));
//   uint64_t peak = server->PeakMemoryBytes();
//   server->Stop();
//
// Errors throw BenchError (the benchmark's one exception type; it never
// leaves bench/server), whose message names what failed.
#ifndef CAIRN_BENCH_SERVER_SERVER_PROCESS_H
#define CAIRN_BENCH_SERVER_SERVER_PROCESS_H

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace cairn::bench {

class BenchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ServerProcess {
 public:
  // Starts `binary --listen grpc://127.0.0.1:0 ARGUMENTS...` with stdout
  // and stderr appended to `log_path`, and waits up to 30 s for its
  // "listening on grpc://127.0.0.1:PORT" line.
  static std::unique_ptr<ServerProcess> Start(const std::string& binary,
                                              const std::vector<std::string>& arguments,
                                              const std::string& log_path);
  // Stops the server if Stop() has not.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // VmHWM and VmRSS of /proc/PID/status, in bytes.
  uint64_t PeakMemoryBytes() const;
  uint64_t ResidentMemoryBytes() const;
  // The user and system CPU seconds the server has used so far.
  struct CpuTimes {
    double user = 0;
    double system = 0;
  };
  CpuTimes CpuSeconds() const;

  // SIGTERM, then up to 40 s for the server to drain (it gives calls in
  // flight 30 s), then SIGKILL. Returns the exit status, -1 when killed.
  int Stop();

 private:
  ServerProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  uint64_t StatusField(const char* name) const;

  pid_t pid_;
  std::string log_path_;
  int port_ = 0;
  bool stopped_ = false;
};

// Runs `argv` (argv[0] a path) with exactly `environment`, its stdout and
// stderr discarded, and waits for it. Returns its exit status, -1 when it
// could not start or died of a signal.
int RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& environment);

}  // namespace cairn::bench

#endif  // CAIRN_BENCH_SERVER_SERVER_PROCESS_H
