#include "cairn/scheduler/scheduler.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "cairn/unique_fd.h"

namespace cairn::scheduler {
namespace {

using project::Element;

enum class Slot { kPending, kRunning, kDone, kFailed, kSkipped };

std::string Timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%d-%H%M%S", &parts);
  return text;
}

std::string LogPath(const BuildOptions& options, const BuildContext& context,
                    const Element& element, const std::string& key) {
  std::filesystem::path directory =
      std::filesystem::path(options.log_directory) / context.project->name() / element.name;
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  return (directory / (key.substr(0, 16) + "-" + Timestamp() + ".log")).string();
}

std::string Tail(const std::string& text, size_t lines) {
  size_t at = text.size();
  if (at > 0 && text[at - 1] == '\n') --at;
  for (size_t found = 0; at > 0; --at) {
    if (text[at - 1] == '\n' && ++found == lines) break;
  }
  return text.substr(at);
}

// Holds the cross-process lock of one cache key.
class KeyLock {
 public:
  static StatusOr<KeyLock> Acquire(const std::string& directory, const std::string& key,
                                   const std::function<bool()>& is_cancelled,
                                   const std::function<void()>& on_wait) {
    std::error_code error;
    std::filesystem::create_directories(directory, error);
    std::string path = directory + "/" + key + ".lock";
    UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoStatus("cannot open the build lock", path, errno);
    bool told = false;
    while (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) return ErrnoStatus("flock", path, errno);
      if (is_cancelled && is_cancelled()) return Cancelled("interrupted");
      if (!told && on_wait) on_wait();
      told = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return KeyLock(std::move(fd));
  }

 private:
  explicit KeyLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

// Pushes built artifacts to the remote caches on threads of its own, so
// the next elements build meanwhile.
class PushQueue {
 public:
  PushQueue(RemoteArtifacts& remote, Storage& storage, int threads, ProgressReporter& progress)
      : remote_(remote), storage_(storage), progress_(progress) {
    for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Work(); });
  }
  ~PushQueue() { Finish({}); }

  void Add(Artifact artifact) {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(artifact));
    changed_.notify_one();
  }

  // Waits for the queue to empty, or drops what is left once
  // `is_cancelled` turns true; then stops the threads.
  void Finish(const std::function<bool()>& is_cancelled) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!queue_.empty() || busy_ > 0) {
        if (is_cancelled && is_cancelled()) {
          queue_.clear();
          break;
        }
        changed_.wait_for(lock, std::chrono::milliseconds(100));
      }
      closing_ = true;
    }
    changed_.notify_all();
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

  size_t pushed() const { return pushed_; }
  size_t failed() const { return failed_; }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      Artifact artifact = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
      lock.unlock();
      // The cache's failure was reported once by RemoteArtifacts.
      Status pushed = remote_.Push(artifact, storage_);
      if (pushed.ok()) progress_.Log("pushed " + artifact.element());
      lock.lock();
      --busy_;
      ++(pushed.ok() ? pushed_ : failed_);
      changed_.notify_all();
    }
  }

  RemoteArtifacts& remote_;
  Storage& storage_;
  ProgressReporter& progress_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Artifact> queue_;
  int busy_ = 0;
  bool closing_ = false;
  size_t pushed_ = 0;
  size_t failed_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace

std::string ElementStateName(ElementState state) {
  switch (state) {
    case ElementState::kCached:
      return "cached";
    case ElementState::kBuildable:
      return "buildable";
    case ElementState::kWaiting:
      return "waiting";
    case ElementState::kFailed:
      return "failed";
    case ElementState::kDownloadable:
      return "downloadable";
  }
  return "unknown";
}

StatusOr<std::vector<ElementState>> ElementStates(const BuildContext& context) {
  const auto& elements = context.graph->elements();
  std::vector<ElementState> states(elements.size(), ElementState::kWaiting);
  std::vector<char> cached(elements.size(), 0);
  for (const auto& element : elements) {
    const std::string& key = (*context.keys)[element->index];
    CAIRN_ASSIGN_OR_RETURN(std::optional<Artifact> artifact,
                           context.artifacts->Find(context.project->name(), element->name, key));
    if (artifact && artifact->success()) {
      states[element->index] = ElementState::kCached;
      cached[element->index] = 1;
      continue;
    }
    if (artifact) {
      states[element->index] = ElementState::kFailed;
      continue;
    }
    if (context.remote != nullptr && context.remote->can_pull() &&
        context.remote->Available(context.project->name(), element->name, key)) {
      states[element->index] = ElementState::kDownloadable;
      // Its dependents can be had without building it.
      cached[element->index] = 1;
      continue;
    }
    bool ready = true;
    for (const Element* dependency : context.graph->BuildClosure(*element)) {
      if (!cached[dependency->index]) {
        ready = false;
        break;
      }
    }
    states[element->index] = ready ? ElementState::kBuildable : ElementState::kWaiting;
  }
  return states;
}

Status BuildGraph(const BuildContext& context, const BuildOptions& options,
                  ProgressReporter& progress, BuildSummary* summary) {
  const auto& elements = context.graph->elements();
  size_t count = elements.size();
  // An element waits for everything staged to build it.
  std::vector<std::vector<size_t>> waiters(count);
  std::vector<size_t> waiting(count, 0);
  for (const auto& element : elements) {
    std::vector<const Element*> closure = context.graph->BuildClosure(*element);
    waiting[element->index] = closure.size();
    for (const Element* dependency : closure) waiters[dependency->index].push_back(element->index);
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<size_t> ready;
  std::vector<Slot> slots(count, Slot::kPending);
  size_t finished = 0;
  size_t running = 0;
  bool stop = false;
  Status internal_error;
  BuildSummary totals;
  std::vector<std::string> failed_names;
  for (size_t i = 0; i < count; ++i) {
    if (waiting[i] == 0) ready.push_back(i);
  }

  auto is_cancelled = [&]() { return context.is_cancelled && context.is_cancelled(); };
  std::unique_ptr<PushQueue> pushes;
  if (context.remote != nullptr && context.remote->can_push()) {
    pushes =
        std::make_unique<PushQueue>(*context.remote, *context.storage, options.pushers, progress);
  }

  // Called with the mutex held.
  auto skip_dependents = [&](size_t failed) {
    std::vector<size_t> stack(waiters[failed].begin(), waiters[failed].end());
    while (!stack.empty()) {
      size_t index = stack.back();
      stack.pop_back();
      if (slots[index] != Slot::kPending) continue;
      slots[index] = Slot::kSkipped;
      ++finished;
      ++totals.skipped;
      const Element& element = *elements[index];
      ProgressEvent event;
      event.event = ElementEvent::kSkipped;
      event.element = element.name;
      event.cache_key = (*context.keys)[index];
      event.message = "a dependency failed: " + elements[failed]->name;
      progress.Report(event);
      stack.insert(stack.end(), waiters[index].begin(), waiters[index].end());
    }
  };

  // Builds one element; returns the event to report.
  auto process = [&](const Element& element) -> StatusOr<ProgressEvent> {
    const std::string& key = (*context.keys)[element.index];
    ProgressEvent event;
    event.element = element.name;
    event.cache_key = key;
    CAIRN_ASSIGN_OR_RETURN(std::optional<Artifact> found,
                           context.artifacts->Find(context.project->name(), element.name, key));
    auto from_record = [&](const Artifact& artifact) {
      event.event = artifact.success() ? ElementEvent::kCached : ElementEvent::kFailed;
      if (!artifact.success()) {
        event.message =
            artifact.failure() + " (in an earlier build; --retry-failed builds it again)";
      }
      return event;
    };
    if (found && (found->success() || !options.retry_failed)) return from_record(*found);
    CAIRN_ASSIGN_OR_RETURN(
        KeyLock lock, KeyLock::Acquire(options.lock_directory, key, context.is_cancelled, [&] {
          progress.Log("waiting for another cairn process building " + element.name);
        }));
    // The other process may have built it meanwhile.
    CAIRN_ASSIGN_OR_RETURN(found,
                           context.artifacts->Find(context.project->name(), element.name, key));
    if (found && found->success()) return from_record(*found);
    if (context.remote != nullptr && context.remote->can_pull()) {
      CAIRN_ASSIGN_OR_RETURN(std::optional<Artifact> pulled,
                             context.remote->Pull(context.project->name(), element.name, key,
                                                  *context.storage, *context.artifacts));
      if (pulled) {
        event.event = ElementEvent::kPulled;
        return event;
      }
    }
    ProgressEvent started = event;
    started.event = ElementEvent::kStarted;
    progress.Report(started);
    std::string log_path = LogPath(options, context, element, key);
    CAIRN_ASSIGN_OR_RETURN(Artifact artifact, BuildElement(context, element, log_path));
    if (is_cancelled()) return Cancelled("interrupted");
    CAIRN_RETURN_IF_ERROR(context.artifacts->Put(artifact));
    event.log_path = log_path;
    if (artifact.success()) {
      event.event = ElementEvent::kSucceeded;
      if (pushes) pushes->Add(std::move(artifact));
    } else {
      event.event = ElementEvent::kFailed;
      event.message = artifact.failure();
      StatusOr<std::string> log = context.storage->ReadBlob(artifact.log());
      if (log.ok()) event.log_tail = Tail(*log, 20);
    }
    return event;
  };

  auto worker = [&]() {
    std::unique_lock<std::mutex> lock(mutex);
    while (true) {
      changed.wait(lock,
                   [&] { return stop || finished == count || !ready.empty() || running == 0; });
      if (stop || finished == count || (ready.empty() && running == 0)) break;
      if (ready.empty()) continue;
      size_t index = ready.front();
      ready.pop_front();
      slots[index] = Slot::kRunning;
      ++running;
      lock.unlock();
      StatusOr<ProgressEvent> outcome = process(*elements[index]);
      lock.lock();
      --running;
      ++finished;
      if (!outcome.ok()) {
        slots[index] = Slot::kFailed;
        if (outcome.status().code() != Code::kCancelled && internal_error.ok()) {
          internal_error = outcome.status().WithContext("building " + elements[index]->name);
        }
        stop = true;
      } else {
        ProgressEvent event = *outcome;
        if (event.event == ElementEvent::kFailed) {
          slots[index] = Slot::kFailed;
          ++totals.failed;
          failed_names.push_back(elements[index]->name);
          progress.Report(event);
          skip_dependents(index);
          if (options.on_error == OnError::kQuit) stop = true;
        } else {
          slots[index] = Slot::kDone;
          if (event.event == ElementEvent::kCached) {
            ++totals.cached;
          } else if (event.event == ElementEvent::kPulled) {
            ++totals.pulled;
          } else {
            ++totals.built;
          }
          progress.Report(event);
          for (size_t waiter : waiters[index]) {
            if (--waiting[waiter] == 0 && slots[waiter] == Slot::kPending) ready.push_back(waiter);
          }
        }
      }
      if (is_cancelled()) stop = true;
      changed.notify_all();
    }
    changed.notify_all();
  };

  int jobs = std::max(1, options.jobs);
  std::vector<std::thread> threads;
  for (int i = 0; i < jobs; ++i) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();
  if (pushes) {
    // What was built is pushed, even when the build stopped early; an
    // interruption stops the pushes too (the next build pushes again).
    pushes->Finish(is_cancelled);
    totals.pushed = pushes->pushed();
    totals.push_failures = pushes->failed();
  }

  if (summary != nullptr) *summary = totals;
  if (is_cancelled()) return Cancelled("interrupted; the next build continues from here");
  if (!internal_error.ok()) return internal_error;
  if (!failed_names.empty()) {
    std::string names;
    for (const std::string& name : failed_names) names += (names.empty() ? "" : ", ") + name;
    return FailedPrecondition(std::to_string(failed_names.size()) +
                              (failed_names.size() == 1 ? " element" : " elements") +
                              " failed: " + names);
  }
  if (stop && finished < count) return FailedPrecondition("the build stopped early");
  return Status::Ok();
}

}  // namespace cairn::scheduler
