// metrics.h — counters of one server, and the Prometheus text endpoint.
//
// Counted: requests by method and outcome code, bytes received and sent,
// action cache hits and misses (GetActionResult and Execute's lookup),
// executions queued and running. Render() gives Prometheus' text format
// (version 0.0.4); MetricsEndpoint serves it over plain HTTP at GET
// /metrics on its own address, apart from the gRPC ports.
//
// Thread-safe; counting is a mutex-guarded map update or an atomic add.
#ifndef CAIRN_SERVER_METRICS_H
#define CAIRN_SERVER_METRICS_H

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "cairn/status.h"
#include "cairn/unique_fd.h"

namespace cairn::server {

class Metrics {
 public:
  void CountRequest(const std::string& method, Code code);
  void AddBytesIn(uint64_t bytes) { bytes_in_ += bytes; }
  void AddBytesOut(uint64_t bytes) { bytes_out_ += bytes; }
  void CountCacheLookup(bool hit) { (hit ? cache_hits_ : cache_misses_) += 1; }
  // Executions waiting for a slot / running now (gauges).
  void AddQueued(int64_t delta) { queued_ += delta; }
  void AddRunning(int64_t delta) { running_ += delta; }

  int64_t queued() const { return queued_; }
  int64_t running() const { return running_; }

  // The Prometheus text exposition of every counter.
  std::string Render() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, Code>, uint64_t> requests_;
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> bytes_out_{0};
  std::atomic<uint64_t> cache_hits_{0};
  std::atomic<uint64_t> cache_misses_{0};
  std::atomic<int64_t> queued_{0};
  std::atomic<int64_t> running_{0};
};

// A minimal HTTP/1.0 server answering GET /metrics with Metrics::Render()
// (404 for other paths, 405 for other methods), one connection at a time
// with a short read timeout, on its own thread.
class MetricsEndpoint {
 public:
  // `address` is HOST:PORT (port 0 picks one); UNAVAILABLE when it cannot
  // be bound, naming it.
  static StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& address,
                                                          const Metrics& metrics);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // HOST:PORT actually bound.
  const std::string& address() const { return address_; }

 private:
  MetricsEndpoint(UniqueFd listener, std::string address, const Metrics& metrics);
  void Serve();

  UniqueFd listener_;
  std::string address_;
  const Metrics& metrics_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_METRICS_H
