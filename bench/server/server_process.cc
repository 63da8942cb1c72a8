#include "server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

extern char** environ;

namespace cairn::bench {

namespace {

constexpr char kListening[] = "cairn-server: listening on grpc://127.0.0.1:";

std::vector<char*> Pointers(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (const std::string& text : strings) pointers.push_back(const_cast<char*>(text.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

// Starts argv; returns its pid, or -errno when it could not start.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
            const std::string& output_path, int output_flags) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output_path.c_str(), output_flags,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> arguments = Pointers(argv);
  std::vector<char*> variables = Pointers(environment);
  pid_t pid = -1;
  int error =
      posix_spawn(&pid, arguments[0], &actions, nullptr, arguments.data(), variables.data());
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -error;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

int ExitStatus(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

std::unique_ptr<ServerProcess> ServerProcess::Start(const std::string& binary,
                                                    const std::vector<std::string>& arguments,
                                                    const std::string& log_path) {
  std::vector<std::string> argv = {binary, "--listen", "grpc://127.0.0.1:0"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  std::vector<std::string> environment;
  for (char** variable = environ; *variable != nullptr; ++variable)
    environment.push_back(*variable);
  pid_t pid = Spawn(argv, environment, log_path, O_WRONLY | O_CREAT | O_APPEND);
  if (pid < 0) throw BenchError("cannot start " + binary + ": " + std::strerror(-pid));
  std::unique_ptr<ServerProcess> server(new ServerProcess(pid, log_path));

  // The server prints its port once bound; the log file is the only
  // channel, so it is polled (a pipe would need draining for the run).
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < give_up) {
    std::string log = ReadWholeFile(log_path);
    size_t found = log.find(kListening);
    if (found != std::string::npos && log.find('\n', found) != std::string::npos) {
      server->port_ = std::atoi(log.c_str() + found + sizeof(kListening) - 1);
      return server;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      server->stopped_ = true;
      throw BenchError(binary + " exited with status " + std::to_string(ExitStatus(status)) +
                       " before listening; its output:\n" + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw BenchError(binary + " printed no \"listening on\" line within 30 s; see " + log_path);
}

ServerProcess::~ServerProcess() { Stop(); }

uint64_t ServerProcess::StatusField(const char* name) const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  std::string prefix = std::string(name) + ":";
  while (std::getline(status, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      return std::strtoull(line.c_str() + prefix.size(), nullptr, 10) * 1024;  // in kB
    }
  }
  throw BenchError("no " + std::string(name) + " in /proc/" + std::to_string(pid_) + "/status");
}

uint64_t ServerProcess::PeakMemoryBytes() const { return StatusField("VmHWM"); }
uint64_t ServerProcess::ResidentMemoryBytes() const { return StatusField("VmRSS"); }

ServerProcess::CpuTimes ServerProcess::CpuSeconds() const {
  // /proc/PID/stat: utime and stime are the 12th and 13th fields after the
  // command name's closing parenthesis (which may itself hold spaces).
  std::string stat = ReadWholeFile("/proc/" + std::to_string(pid_) + "/stat");
  size_t end_of_name = stat.rfind(')');
  if (end_of_name == std::string::npos) throw BenchError("unreadable /proc/PID/stat");
  std::istringstream fields(stat.substr(end_of_name + 2));
  std::string field;
  double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  CpuTimes times;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i == 12) times.user = std::strtod(field.c_str(), nullptr) / ticks_per_second;
    if (i == 13) times.system = std::strtod(field.c_str(), nullptr) / ticks_per_second;
  }
  return times;
}

int ServerProcess::Stop() {
  if (stopped_) return 0;
  stopped_ = true;
  kill(pid_, SIGTERM);
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  int status = 0;
  while (std::chrono::steady_clock::now() < give_up) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) return ExitStatus(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  return -1;
}

int RunProcess(const std::vector<std::string>& argv, const std::vector<std::string>& environment) {
  pid_t pid = Spawn(argv, environment, "/dev/null", O_WRONLY);
  if (pid < 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return ExitStatus(status);
}

}  // namespace cairn::bench
