#include "cairn/sandbox_common/process_supervisor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace cairn {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(100);
constexpr auto kKillGrace = std::chrono::seconds(5);

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

namespace {

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t written = write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    data += written;
    size -= static_cast<size_t>(written);
  }
}

struct Stream {
  int fd = -1;
  int file = -1;  // stdout/stderr file, or -1 for the status descriptor
};

}  // namespace

int SupervisionResult::ExitCode() const {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 255;
}

StatusOr<SupervisionResult> Supervise(SupervisedChild child, const SupervisionOptions& options) {
  SupervisionResult result;
  std::vector<Stream> streams;
  Status failure;
  auto open_output = [&](const std::string& path) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 && failure.ok()) failure = ErrnoStatus("create", path, errno);
    return fd;
  };
  if (child.stdout_pipe >= 0) streams.push_back({child.stdout_pipe, open_output(options.stdout_path)});
  if (child.stderr_pipe >= 0) streams.push_back({child.stderr_pipe, open_output(options.stderr_path)});
  if (child.status_fd >= 0) streams.push_back({child.status_fd, -1});
  for (const Stream& stream : streams) fcntl(stream.fd, F_SETFL, O_NONBLOCK);

  int pidfd = PidfdOpen(child.pid);
  bool reaped = false;
  bool killed = false;
  Clock::time_point killed_at;
  bool escalated = false;
  std::vector<char> buffer(1 << 16);

  while (!reaped || !streams.empty()) {
    if (!reaped) {
      pid_t done = waitpid(child.pid, &result.wait_status, WNOHANG);
      if (done == child.pid || (done < 0 && errno == ECHILD)) {
        reaped = true;
        continue;
      }
    }
    Clock::time_point now = Clock::now();
    if (!reaped && !killed) {
      bool expired = options.deadline && now >= *options.deadline;
      bool cancelled = !expired && options.is_cancelled && options.is_cancelled();
      if (expired || cancelled) {
        result.timed_out = expired;
        result.cancelled = cancelled;
        if (child.kill) child.kill(result.status_text);
        killed = true;
        killed_at = now;
      }
    }
    if (!reaped && killed && !escalated && now - killed_at > kKillGrace) {
      kill(-child.pid, SIGKILL);
      escalated = true;
    }

    std::vector<pollfd> fds;
    for (const Stream& stream : streams) fds.push_back({stream.fd, POLLIN, 0});
    bool watch_pid = !reaped && pidfd >= 0;
    if (watch_pid) fds.push_back({pidfd, POLLIN, 0});
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        pidfd >= 0 || reaped ? kPollInterval : std::chrono::milliseconds(5));
    if (options.deadline && !killed && !reaped) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*options.deadline - now) +
                  std::chrono::milliseconds(1);
      if (left < wait) wait = left;
    }
    int ready = poll(fds.data(), fds.size(), static_cast<int>(wait.count()));
    if (ready < 0 && errno != EINTR) {
      failure = ErrnoStatus("poll", "the sandbox's output", errno);
      break;
    }
    for (size_t i = 0; i < streams.size();) {
      if (fds[i].revents == 0) {
        ++i;
        continue;
      }
      ssize_t got = read(streams[i].fd, buffer.data(), buffer.size());
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
        ++i;
        continue;
      }
      if (got <= 0) {
        close(streams[i].fd);
        if (streams[i].file >= 0) close(streams[i].file);
        streams.erase(streams.begin() + static_cast<long>(i));
        fds.erase(fds.begin() + static_cast<long>(i));
        continue;
      }
      if (streams[i].file < 0) {
        result.status_text.append(buffer.data(), static_cast<size_t>(got));
      } else {
        WriteAll(streams[i].file, buffer.data(), static_cast<size_t>(got));
        if (options.live_output_fd >= 0) {
          WriteAll(options.live_output_fd, buffer.data(), static_cast<size_t>(got));
        }
      }
      ++i;
    }
  }
  for (const Stream& stream : streams) {
    close(stream.fd);
    if (stream.file >= 0) close(stream.file);
  }
  if (pidfd >= 0) close(pidfd);
  if (!reaped) {
    // Only after a poll failure: never leave the tree behind.
    if (child.kill) child.kill(result.status_text);
    kill(-child.pid, SIGKILL);
    waitpid(child.pid, &result.wait_status, 0);
  }
  if (child.wait_for_tree) child.wait_for_tree(result.status_text);
  if (!failure.ok()) return failure;
  return result;
}

}  // namespace cairn
