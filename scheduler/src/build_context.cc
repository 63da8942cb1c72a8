#include "cairn/scheduler/build_context.h"

namespace cairn::scheduler {

StatusOr<std::shared_ptr<Sandbox>> LazySandbox::Get() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!tried_) {
    tried_ = true;
    StatusOr<std::shared_ptr<Sandbox>> opened = open_();
    if (opened.ok()) {
      sandbox_ = *opened;
    } else {
      error_ = opened.status();
    }
  }
  if (!error_.ok()) return error_;
  return sandbox_;
}

}  // namespace cairn::scheduler
