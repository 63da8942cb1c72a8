#include "cairn/sandbox_common/scratch_janitor.h"

#include <cstdio>

#include "cairn/sandbox_common/file_tree.h"

namespace cairn {

ScratchJanitor::~ScratchJanitor() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
  // Anything left (the thread could not start): remove it here.
  for (const std::string& path : pending_) (void)RemoveTree(path);
}

void ScratchJanitor::Dispose(std::string path) {
  // Renamed first, so the name is free and the removal is visibly pending.
  std::string doomed = path + ".removing";
  if (std::rename(path.c_str(), doomed.c_str()) != 0) doomed = path;
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.push_back(std::move(doomed));
  if (!worker_.joinable()) {
    try {
      worker_ = std::thread(&ScratchJanitor::Loop, this);
    } catch (...) {
      // No thread: remove synchronously.
      std::string now = std::move(pending_.back());
      pending_.pop_back();
      (void)RemoveTree(now);
      return;
    }
  }
  wake_.notify_one();
}

void ScratchJanitor::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, nothing left
    std::string path = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    (void)RemoveTree(path);
    lock.lock();
  }
}

}  // namespace cairn
