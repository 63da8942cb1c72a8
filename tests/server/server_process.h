// A cairn-server process started by a test (persistence across kill -9,
// memory measured apart from the client's): the real binary with a
// configuration file, its stdout read for the port it listens on, its
// stderr appended to a log file.
#ifndef CAIRN_TESTS_SERVER_SERVER_PROCESS_H
#define CAIRN_TESTS_SERVER_SERVER_PROCESS_H

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace cairn::server {

// Started by Start(), killed with SIGKILL when destroyed.
class ServerProcess {
 public:
  ~ServerProcess() { Kill(SIGKILL); }

  // Starts the binary with `config_file`; false (and a test failure) when
  // it does not print its address within 30 seconds.
  bool Start(const std::string& config_file, const std::string& log_file) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_file.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<std::string> args = {CAIRN_SERVER_BINARY, "--config", config_file};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int error = posix_spawn(&pid_, CAIRN_SERVER_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (error != 0) {
      ::close(pipe_fds[0]);
      ADD_FAILURE() << "cannot start " << CAIRN_SERVER_BINARY << ": " << std::strerror(error);
      return false;
    }
    const std::string prefix = "cairn-server: listening on grpc://127.0.0.1:";
    std::string out;
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < give_up) {
      size_t at = out.find(prefix);
      if (at != std::string::npos && out.find('\n', at) != std::string::npos) {
        port_ = std::stoi(out.substr(at + prefix.size()));
        break;
      }
      pollfd wait{pipe_fds[0], POLLIN, 0};
      if (::poll(&wait, 1, 500) <= 0) continue;
      char buffer[512];
      ssize_t n = ::read(pipe_fds[0], buffer, sizeof(buffer));
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    ::close(pipe_fds[0]);
    if (port_ == 0) {
      std::ifstream log(log_file);
      std::ostringstream log_text;
      log_text << log.rdbuf();
      ADD_FAILURE() << "cairn-server printed no address; its stdout: " << out
                    << "\nits stderr: " << log_text.str();
    }
    return port_ != 0;
  }

  // Sends `signal` and reaps the process; its wait status.
  int Kill(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  int port() const { return port_; }

  // A field of /proc/PID/status in bytes ("VmRSS", "VmHWM"); 0 if absent.
  uint64_t MemoryBytes(const std::string& field) const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;
    }
    return 0;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace cairn::server

#endif  // CAIRN_TESTS_SERVER_SERVER_PROCESS_H
