#include "cairn/runtime/plugin_probe.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <vector>

namespace cairn {

namespace {

// What a descriptor says is plain text, but a hostile plugin could make it
// huge: each field crosses the pipe capped.
constexpr size_t kMaxFieldSize = 4096;

void AppendField(std::string* out, const std::string& field) {
  uint32_t size = static_cast<uint32_t>(std::min(field.size(), kMaxFieldSize));
  out->append(reinterpret_cast<const char*>(&size), sizeof(size));
  out->append(field.data(), size);
}

std::string Encode(const PluginRecord& record) {
  std::string out;
  for (const std::string& field :
       {std::string(record.loaded ? "1" : "0"), std::to_string(static_cast<int>(record.kind)),
        std::to_string(record.abi_major), std::to_string(record.abi_minor), record.name,
        record.version, record.description, record.reason}) {
    AppendField(&out, field);
  }
  return out;
}

// False when `data` is not a whole record (the child died while writing).
bool Decode(const std::string& data, PluginRecord* record) {
  std::vector<std::string> fields;
  size_t at = 0;
  while (at < data.size()) {
    uint32_t size = 0;
    if (data.size() - at < sizeof(size)) return false;
    std::memcpy(&size, data.data() + at, sizeof(size));
    at += sizeof(size);
    if (size > kMaxFieldSize || data.size() - at < size) return false;
    fields.push_back(data.substr(at, size));
    at += size;
  }
  if (fields.size() != 8) return false;
  int kind = 0;
  uint32_t abi_major = 0;
  uint32_t abi_minor = 0;
  try {
    kind = std::stoi(fields[1]);
    abi_major = static_cast<uint32_t>(std::stoul(fields[2]));
    abi_minor = static_cast<uint32_t>(std::stoul(fields[3]));
  } catch (const std::exception&) {
    return false;
  }
  if (kind < 0 || kind > static_cast<int>(PluginKind::kStorage)) return false;
  record->loaded = fields[0] == "1";
  record->kind = static_cast<PluginKind>(kind);
  record->abi_major = abi_major;
  record->abi_minor = abi_minor;
  record->name = fields[4];
  record->version = fields[5];
  record->description = fields[6];
  record->reason = fields[7];
  return true;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t written = write(fd, data.data() + done, data.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;
    done += static_cast<size_t>(written);
  }
}

[[noreturn]] void RunChild(const std::string& path, int report_fd) {
  // Whatever the library prints goes to stderr, never into the host's
  // standard output (a listing a script may read).
  dup2(STDERR_FILENO, STDOUT_FILENO);
  // A library that crashes here is expected to: no core file for it.
  rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  std::string report;
  try {
    report = Encode(PluginRegistry::Inspect(path));
  } catch (...) {
    _exit(125);
  }
  WriteAll(report_fd, report);
  // No destructors, no atexit handlers and no stdio flush of the parent's
  // buffers: they belong to the host.
  _exit(0);
}

// Reads the child's report until it closes the pipe or the time is up;
// false when the time ran out.
bool ReadReport(int fd, std::chrono::milliseconds time_limit, std::string* data) {
  auto deadline = std::chrono::steady_clock::now() + time_limit;
  char buffer[4096];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{fd, POLLIN, 0};
    int polled = poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno == EINTR) continue;
    if (polled == 0) return false;
    if (polled < 0) return true;
    ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return true;
    // A sane report is a few kilobytes: more is a child gone wrong.
    if (data->size() > 16 * kMaxFieldSize) return true;
    data->append(buffer, static_cast<size_t>(got));
  }
}

std::string SignalName(int signal) {
  const char* abbreviation = sigabbrev_np(signal);
  return abbreviation != nullptr ? std::string("SIG") + abbreviation
                                 : "signal " + std::to_string(signal);
}

std::string DurationText(std::chrono::milliseconds time) {
  if (time.count() % 1000 == 0) return std::to_string(time.count() / 1000) + " s";
  return std::to_string(time.count()) + " ms";
}

}  // namespace

PluginRecord ProbePlugin(const std::string& path, std::chrono::milliseconds time_limit) {
  PluginRecord record;
  record.path = path;
  record.name = path.substr(path.find_last_of('/') + 1);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    record.reason = std::string("cannot be probed: pipe: ") + std::strerror(errno);
    return record;
  }
  pid_t pid = fork();
  if (pid < 0) {
    record.reason = std::string("cannot be probed: fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return record;
  }
  if (pid == 0) {
    close(fds[0]);
    RunChild(path, fds[1]);
  }
  close(fds[1]);
  std::string data;
  bool finished = ReadReport(fds[0], time_limit, &data);
  close(fds[0]);
  if (!finished) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!finished) {
    record.reason = "did not finish loading within " + DurationText(time_limit);
  } else if (WIFSIGNALED(status)) {
    record.reason = "crashed with " + SignalName(WTERMSIG(status)) + " while loading";
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !Decode(data, &record)) {
    record.reason = "exited with status " +
                    std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                    " while loading, without reporting what it is";
  }
  return record;
}

}  // namespace cairn
