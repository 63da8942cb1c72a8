// The real SupervisedProcess: a child of this process, its pipes, its
// status descriptor and a pidfd (see supervised_process.h).
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

#include "cairn/sandbox_common/supervised_process.h"

namespace cairn {
namespace {

using std::chrono::milliseconds;

// Without a pidfd the child's exit cannot wake poll(): look more often.
constexpr milliseconds kPollWithoutPidfd(5);

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

}  // namespace cairn
