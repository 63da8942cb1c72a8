#include "cairn/sandbox_common/process_supervisor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

namespace cairn {
namespace {

using std::chrono::milliseconds;

// How long one wait lasts at most, so that is_cancelled is polled.
constexpr milliseconds kPollInterval(100);

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    data += written;
    size -= static_cast<size_t>(written);
  }
}

// A stream's file, created when its first bytes arrive.
class StreamFile {
 public:
  explicit StreamFile(std::string path) : path_(std::move(path)) {}
  ~StreamFile() {
    if (fd_ >= 0) close(fd_);
  }
  StreamFile(const StreamFile&) = delete;
  StreamFile& operator=(const StreamFile&) = delete;

  Status Append(const std::string& data) {
    if (data.empty()) return Status::Ok();
    if (fd_ < 0) {
      fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd_ < 0) return ErrnoStatus("create", path_, errno);
    }
    WriteAll(fd_, data.data(), data.size());
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

// The time left until `until`, rounded up to whole milliseconds.
milliseconds Until(SupervisionClock::TimePoint until, SupervisionClock::TimePoint now) {
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(until - now));
}

}  // namespace

int SupervisionResult::ExitCode() const {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

StatusOr<SupervisionResult> Supervise(SupervisedProcess& process, SupervisionClock& clock,
                                      const SupervisionOptions& options) {
  SupervisionResult result;
  Status failure;  // the first; supervision goes on so the tree is never left behind
  StreamFile stdout_file(options.stdout_path);
  StreamFile stderr_file(options.stderr_path);
  auto keep_first = [&failure](Status status) {
    if (failure.ok()) failure = std::move(status);
  };
  std::optional<int> wait_status;
  bool killed = false;
  SupervisionClock::TimePoint killed_at;

  while (true) {
    if (!wait_status) wait_status = process.TryReap();
    if (wait_status && !process.HasOpenStreams()) break;
    SupervisionClock::TimePoint now = clock.Now();
    milliseconds wait = kPollInterval;
    if (!wait_status && !killed) {
      bool expired = options.deadline && now >= *options.deadline;
      bool cancelled = !expired && options.is_cancelled && options.is_cancelled();
      if (expired || cancelled) {
        result.timed_out = expired;
        result.cancelled = cancelled;
        process.KillTree(result.status_text);
        killed = true;
        killed_at = now;
      } else if (options.deadline) {
        wait = std::min(wait, Until(*options.deadline, now));
      }
    }
    if (!wait_status && killed && !result.escalated) {
      if (now - killed_at >= options.kill_grace) {
        process.KillProcessGroup();
        result.escalated = true;
      } else {
        wait = std::min(wait, Until(killed_at + options.kill_grace, now));
      }
    }

    ProcessOutput output;
    Status waited = process.WaitForActivity(wait, &output);
    result.status_text += output.status_data;
    keep_first(stdout_file.Append(output.stdout_data));
    keep_first(stderr_file.Append(output.stderr_data));
    if (options.live_output_fd >= 0) {
      WriteAll(options.live_output_fd, output.stdout_data.data(), output.stdout_data.size());
      WriteAll(options.live_output_fd, output.stderr_data.data(), output.stderr_data.size());
    }
    if (!waited.ok()) {
      keep_first(waited);
      break;
    }
  }
  if (!wait_status) {
    // Only after a failed wait: never leave the tree behind.
    process.KillTree(result.status_text);
    process.KillProcessGroup();
    wait_status = process.Reap();
  }
  process.WaitForTree(result.status_text);
  result.wait_status = *wait_status;
  if (!failure.ok()) return failure;
  return result;
}

StatusOr<SupervisionResult> Supervise(SupervisedChild child, const SupervisionOptions& options) {
  SteadyClock clock;
  std::unique_ptr<SupervisedProcess> process = AdoptChild(std::move(child));
  return Supervise(*process, clock, options);
}

}  // namespace cairn
