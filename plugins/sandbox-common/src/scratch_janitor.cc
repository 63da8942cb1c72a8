#include "cairn/sandbox_common/scratch_janitor.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "cairn/sandbox_common/file_tree.h"

namespace cairn {
namespace {

// How a removal that failed is retried: up to about half a second.
constexpr int kRemoveAttempts = 50;
constexpr std::chrono::milliseconds kRemoveRetryDelay{10};

// The owner's pid in `name` (`prefix` + digits + "-" ...), or -1.
pid_t OwnerOf(const std::string& name, const std::string& prefix) {
  if (name.compare(0, prefix.size(), prefix) != 0) return -1;
  size_t end = name.find('-', prefix.size());
  if (end == std::string::npos || end == prefix.size() || end - prefix.size() > 9) return -1;
  std::string digits = name.substr(prefix.size(), end - prefix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return static_cast<pid_t>(std::atol(digits.c_str()));
}

}  // namespace

bool OwnedByDeadProcess(const std::string& name, const std::string& prefix) {
  pid_t owner = OwnerOf(name, prefix);
  return owner > 0 && owner != getpid() && kill(owner, 0) != 0 && errno == ESRCH;
}

std::string OwnedScratchPrefix(const std::string& prefix) {
  return prefix + std::to_string(getpid()) + "-";
}

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
  if (std::rename(path.c_str(), doomed.c_str()) != 0) doomed = std::move(path);
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

size_t ScratchJanitor::DisposeLeftovers(const std::string& scratch_parent,
                                        const std::string& prefix) {
  std::vector<std::string> leftovers;
  DIR* dir = opendir(scratch_parent.c_str());
  if (dir == nullptr) return 0;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (OwnedByDeadProcess(name, prefix)) leftovers.push_back(scratch_parent + "/" + name);
  }
  closedir(dir);
  for (std::string& path : leftovers) Dispose(std::move(path));
  return leftovers.size();
}

void ScratchJanitor::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, nothing left
    std::string path = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    // An overlay root's directories stay busy for a moment after its run:
    // the kernel unmounts it a little after the run's last process exits.
    for (int attempt = 1; !RemoveTree(path).ok() && attempt < kRemoveAttempts; ++attempt) {
      std::this_thread::sleep_for(kRemoveRetryDelay);
    }
    lock.lock();
  }
}

}  // namespace cairn
