// cairn/remote_client/retrier.h — one remote call, retried with backoff.
//
// Each attempt gets request_timeout_s as its deadline. Retried are
// UNAVAILABLE, RESOURCE_EXHAUSTED and ABORTED, and DEADLINE_EXCEEDED for
// idempotent calls only (a non-idempotent call may have taken effect).
// Between attempts the retrier sleeps a random time in [0, d] ("full
// jitter"), d = retry_delay_ms * 2^retry capped at kMaxBackoff, but at
// least the server's RetryInfo.retry_delay when it sent one; at most
// retry_limit retries. Each retry is logged (debug: the final error says
// how many attempts it took). The final failure keeps the
// call's code and details, its message prefixed with the endpoint URL and
// the code: "grpcs://host:443: UNAVAILABLE: connection refused".
//
// Thread-safe (const).
//
//   Status status = retrier.Run("FindMissingBlobs", Idempotency::kIdempotent,
//       [&](std::chrono::system_clock::time_point deadline) -> Status { ... });
#ifndef CAIRN_REMOTE_CLIENT_RETRIER_H
#define CAIRN_REMOTE_CLIENT_RETRIER_H

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "cairn/status.h"

namespace cairn::remote_client {

enum class Idempotency { kIdempotent, kNotIdempotent };

struct RetryPolicy {
  int64_t retry_limit = 4;
  std::chrono::milliseconds retry_delay{1000};
  std::chrono::milliseconds request_timeout{60000};
};

// The longest sleep between two attempts.
inline constexpr std::chrono::milliseconds kMaxBackoff{60000};

// Whether a call that failed with `code` may be tried again.
bool IsRetryable(Code code, Idempotency idempotency);
// The same for a whole status: a TLS handshake that failed on the
// certificate arrives as UNAVAILABLE, yet no wait makes an untrusted
// certificate trusted.
bool IsRetryable(const Status& status, Idempotency idempotency);

class Retrier {
 public:
  // `url` names the endpoint in the final error.
  Retrier(RetryPolicy policy, std::string url) : policy_(policy), url_(std::move(url)) {}

  // One attempt: the call with `deadline`, its status converted with
  // FromGrpcStatus (or a Status of its own, e.g. a digest mismatch).
  using Attempt = std::function<Status(std::chrono::system_clock::time_point deadline)>;

  // Polled while waiting between attempts; true = stop waiting.
  using Cancelled = std::function<bool()>;

  // Runs `attempt` until it succeeds, fails with a code not to retry, or
  // the retries are used up. `method` names the call in logs. When
  // `cancelled` turns true during a wait, CANCELLED.
  Status Run(const std::string& method, Idempotency idempotency, const Attempt& attempt,
             const Cancelled& cancelled = {}) const;

  // The wait before retry number `retry` (0-based) after `failure`:
  // full jitter, and at least the server's RetryInfo. Logs the retry.
  std::chrono::milliseconds Delay(const std::string& method, const Status& failure,
                                  int64_t retry) const;
  // Sleeps `delay`, waking every 50 ms to poll `cancelled`: CANCELLED when
  // it turned true, else OK.
  static Status Wait(std::chrono::milliseconds delay, const Cancelled& cancelled);
  // The final error of a call that is not retried (again): the endpoint's
  // URL, the code and the method before the call's message.
  Status Final(const std::string& method, const Status& failure, int64_t attempts) const;

  const RetryPolicy& policy() const { return policy_; }
  const std::string& url() const { return url_; }

 private:
  RetryPolicy policy_;
  std::string url_;
};

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_RETRIER_H
