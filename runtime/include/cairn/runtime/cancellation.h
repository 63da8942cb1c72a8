// cairn/runtime/cancellation.h — a request to stop, shared by everything a
// runtime runs.
//
// One CancellationFlag belongs to whoever drives the runtime (the `cairn`
// process, a server request, a test). Plugins poll it through
// cairn_host_services.is_cancelled and stop with CANCELLED. Setting it is
// async-signal-safe (a lock-free atomic), so a SIGINT handler may call
// Cancel(). Thread-safe.
//
//   CancellationFlag cancel;
//   RuntimeOptions options;
//   options.cancellation = &cancel;
//   ...
//   cancel.Cancel();   // every running sandbox stops
#ifndef CAIRN_RUNTIME_CANCELLATION_H
#define CAIRN_RUNTIME_CANCELLATION_H

#include <atomic>

namespace cairn {

class CancellationFlag {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool IsCancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
  static_assert(std::atomic<bool>::is_always_lock_free, "Cancel() must be signal-safe");
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CANCELLATION_H
