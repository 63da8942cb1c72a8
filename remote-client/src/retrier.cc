#include "cairn/remote_client/retrier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <thread>

#include "cairn/status_details.h"
#include "google/rpc/error_details.pb.h"

namespace cairn::remote_client {

bool IsRetryable(Code code, Idempotency idempotency) {
  switch (code) {
    case Code::kUnavailable:
    case Code::kResourceExhausted:
    case Code::kAborted:
      return true;
    case Code::kDeadlineExceeded:
      return idempotency == Idempotency::kIdempotent;
    default:
      return false;
  }
}

bool IsRetryable(const Status& status, Idempotency idempotency) {
  if (!IsRetryable(status.code(), idempotency)) return false;
  const std::string& message = status.message();
  return message.find("certificate verify failed") == std::string::npos &&
         message.find("Ssl handshake failed") == std::string::npos;
}

namespace {

// The sleep before retry number `retry` (0-based): full jitter over an
// exponential ceiling, so many clients failing together spread out.
std::chrono::milliseconds Backoff(std::chrono::milliseconds base, int64_t retry) {
  int64_t ceiling = std::max<int64_t>(base.count(), 1);
  for (int64_t i = 0; i < retry && ceiling < kMaxBackoff.count(); ++i) ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, kMaxBackoff.count());
  thread_local std::mt19937_64 random{std::random_device{}()};
  return std::chrono::milliseconds(std::uniform_int_distribution<int64_t>(0, ceiling)(random));
}

// What the server asked us to wait at least, or zero.
std::chrono::milliseconds ServerDelay(const Status& status) {
  std::optional<google::rpc::RetryInfo> info = FindDetail<google::rpc::RetryInfo>(status);
  if (!info.has_value() || !info->has_retry_delay()) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(info->retry_delay().seconds() * 1000 +
                                   info->retry_delay().nanos() / 1000000);
}

}  // namespace

Status Retrier::Run(const std::string& method, Idempotency idempotency, const Attempt& attempt,
                    const Cancelled& cancelled) const {
  for (int64_t retry = 0;; ++retry) {
    Status status = attempt(std::chrono::system_clock::now() + policy_.request_timeout);
    if (status.ok()) return status;
    if (!IsRetryable(status, idempotency) || retry >= policy_.retry_limit) {
      return Final(method, status, retry + 1);
    }
    CAIRN_RETURN_IF_ERROR(Wait(Delay(method, status, retry), cancelled));
  }
}

std::chrono::milliseconds Retrier::Delay(const std::string& method, const Status& failure,
                                         int64_t retry) const {
  std::chrono::milliseconds delay =
      std::max(Backoff(policy_.retry_delay, retry), ServerDelay(failure));
  spdlog::debug("{}: {} failed ({}), retry {} of {} in {} ms", url_, method, failure.ToString(),
                retry + 1, policy_.retry_limit, delay.count());
  return delay;
}

Status Retrier::Wait(std::chrono::milliseconds delay, const Cancelled& cancelled) {
  constexpr std::chrono::milliseconds kPoll{50};
  auto until = std::chrono::steady_clock::now() + delay;
  while (true) {
    if (cancelled && cancelled()) return ::cairn::Cancelled("cancelled while waiting to retry");
    auto left = until - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return Status::Ok();
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, kPoll));
  }
}

Status Retrier::Final(const std::string& method, const Status& failure, int64_t attempts) const {
  std::string prefix = url_ + ": " + CodeName(failure.code());
  if (attempts > 1) prefix += " (after " + std::to_string(attempts) + " attempts)";
  // WithContext keeps the code and the server's details.
  return failure.WithContext(prefix + ": " + method);
}

}  // namespace cairn::remote_client
