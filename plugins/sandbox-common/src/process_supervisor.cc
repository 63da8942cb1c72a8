#include "cairn/sandbox_common/process_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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
// Without a pidfd the child's exit cannot wake poll(): look more often.
constexpr milliseconds kPollWithoutPidfd(5);

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    data += written;
    size -= static_cast<size_t>(written);
  }
}

// The real process side: a child of this process, its pipes and a pidfd.
class ChildProcess final : public SupervisedProcess {
 public:
  explicit ChildProcess(SupervisedChild child) : child_(std::move(child)) {
    AddStream(child_.stdout_pipe, &ProcessOutput::stdout_data);
    AddStream(child_.stderr_pipe, &ProcessOutput::stderr_data);
    AddStream(child_.status_fd, &ProcessOutput::status_data);
    pidfd_ = PidfdOpen(child_.pid);
  }
  ~ChildProcess() override {
    for (const Stream& stream : streams_) close(stream.fd);
    ClosePidfd();
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  std::optional<int> TryReap() override {
    if (!reaped_) {
      int status = 0;
      pid_t done = waitpid(child_.pid, &status, WNOHANG);
      // ECHILD: somebody else reaped it; nothing is left to wait for.
      if (done == child_.pid || (done < 0 && errno == ECHILD)) MarkReaped(status);
    }
    return reaped_ ? std::optional<int>(wait_status_) : std::nullopt;
  }

  Status WaitForActivity(milliseconds max_wait, ProcessOutput* output) override {
    std::vector<pollfd> fds;
    for (const Stream& stream : streams_) fds.push_back({stream.fd, POLLIN, 0});
    if (!reaped_ && pidfd_ >= 0) fds.push_back({pidfd_, POLLIN, 0});
    if (!reaped_ && pidfd_ < 0) max_wait = std::min(max_wait, kPollWithoutPidfd);
    int ready = poll(fds.data(), fds.size(), static_cast<int>(max_wait.count()));
    if (ready < 0 && errno == EINTR) return Status::Ok();
    if (ready < 0) return ErrnoStatus("poll", "the sandbox's output", errno);
    // Backwards, so that erasing a finished stream keeps the indices valid.
    for (size_t i = streams_.size(); i-- > 0;) {
      if (fds[i].revents == 0) continue;
      ssize_t got = read(streams_[i].fd, buffer_.data(), buffer_.size());
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        close(streams_[i].fd);
        streams_.erase(streams_.begin() + static_cast<long>(i));
        continue;
      }
      (output->*streams_[i].destination).append(buffer_.data(), static_cast<size_t>(got));
    }
    return Status::Ok();
  }

  bool HasOpenStreams() const override { return !streams_.empty(); }

  void KillTree(const std::string& status_text) override {
    if (child_.kill) child_.kill(status_text);
  }

  void KillProcessGroup() override { kill(-child_.pid, SIGKILL); }

  int Reap() override {
    while (!reaped_) {
      int status = 0;
      pid_t done = waitpid(child_.pid, &status, 0);
      if (done < 0 && errno == EINTR) continue;
      MarkReaped(done == child_.pid ? status : 0);
    }
    return wait_status_;
  }

  void WaitForTree(const std::string& status_text) override {
    if (child_.wait_for_tree) child_.wait_for_tree(status_text);
  }

 private:
  struct Stream {
    int fd;
    std::string ProcessOutput::*destination;
  };

  void AddStream(int fd, std::string ProcessOutput::*destination) {
    if (fd < 0) return;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    streams_.push_back({fd, destination});
  }
  void MarkReaped(int status) {
    reaped_ = true;
    wait_status_ = status;
    ClosePidfd();
  }
  void ClosePidfd() {
    if (pidfd_ >= 0) close(pidfd_);
    pidfd_ = -1;
  }

  SupervisedChild child_;
  std::vector<Stream> streams_;
  int pidfd_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  std::vector<char> buffer_ = std::vector<char>(1 << 16);
};

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

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

std::unique_ptr<SupervisedProcess> AdoptChild(SupervisedChild child) {
  return std::make_unique<ChildProcess>(std::move(child));
}

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
