#include "cairn/sandbox_common/process_limit.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "cairn/sandbox_common/scratch_janitor.h"

namespace cairn {
namespace {

constexpr int64_t kHighestPidMax = int64_t{1} << 22;

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  return parts;
}

bool Contains(const std::vector<std::string>& words, const std::string& word) {
  for (const std::string& candidate : words) {
    if (candidate == word) return true;
  }
  return false;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

bool WriteText(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return written;
}

// Where this process's pids cgroups live: the cgroup v2 and the v1 pids
// hierarchies' mount points, and this process's path in each.
struct Hierarchies {
  std::string v2_mount, v2_path, v1_mount, v1_path;
};

Hierarchies FindHierarchies() {
  Hierarchies found;
  std::ifstream cgroups("/proc/self/cgroup");
  for (std::string line; std::getline(cgroups, line);) {
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (line.compare(0, first, "0") == 0 && controllers.empty()) found.v2_path = path;
    if (Contains(Split(controllers, ','), "pids")) found.v1_path = path;
  }
  std::ifstream mounts("/proc/self/mountinfo");
  for (std::string line; std::getline(mounts, line);) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::vector<std::string> left = Split(line.substr(0, dash), ' ');
    std::vector<std::string> right = Split(line.substr(dash + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    if (right[0] == "cgroup2" && found.v2_mount.empty()) found.v2_mount = left[4];
    if (right[0] == "cgroup" && Contains(Split(right[2], ','), "pids")) found.v1_mount = left[4];
  }
  return found;
}

// The cgroup below which runs get theirs (on a v1 hierarchy or not), or
// UNAVAILABLE saying why not.
struct Parent {
  std::string dir;
  bool v1 = false;
};
StatusOr<Parent> FindParentCgroup() {
  Hierarchies found = FindHierarchies();
  std::string reasons;
  if (!found.v2_mount.empty() && !found.v2_path.empty()) {
    std::string dir = found.v2_mount + (found.v2_path == "/" ? "" : found.v2_path);
    if (!Contains(Split(ReadFirstLine(dir + "/cgroup.controllers"), ' '), "pids")) {
      reasons = "cgroup v2 at " + dir + " has no pids controller";
    } else if (Contains(Split(ReadFirstLine(dir + "/cgroup.subtree_control"), ' '), "pids") ||
               WriteText(dir + "/cgroup.subtree_control", "+pids")) {
      return Parent{dir, false};
    } else {
      reasons = "the pids controller is not delegated to the children of " + dir + " (" +
                std::strerror(errno) + ")";
    }
  } else {
    reasons = "no cgroup v2 hierarchy is mounted";
  }
  if (!found.v1_mount.empty() && !found.v1_path.empty()) {
    return Parent{found.v1_mount + (found.v1_path == "/" ? "" : found.v1_path), true};
  }
  return Unavailable(reasons + ", and no cgroup v1 pids hierarchy is mounted");
}

// FindParentCgroup, read once per process: every sandbox made and every
// run asks, and the answer (mountinfo and this process's cgroups) stands.
const StatusOr<Parent>& ParentCgroup() {
  static const StatusOr<Parent> kParent = FindParentCgroup();
  return kParent;
}

// Removes the cgroup at `path`, killing what is still in it. True when
// it is gone.
bool RemoveCgroup(const std::string& path) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (rmdir(path.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) return false;
    std::ifstream procs(path + "/cgroup.procs");
    for (pid_t pid = 0; procs >> pid;) kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

StatusOr<uint64_t> MaxProcesses(PluginOptions& options, const std::string& sandbox) {
  CAIRN_ASSIGN_OR_RETURN(int64_t limit, options.GetInt("max-processes", kDefaultMaxProcesses));
  if (limit < 1 || limit > kHighestPidMax) {
    return InvalidArgument(sandbox + ": option max-processes must be from 1 to " +
                           std::to_string(kHighestPidMax) + ", not " + std::to_string(limit));
  }
  return static_cast<uint64_t>(limit);
}

StatusOr<std::unique_ptr<PidsCgroup>> PidsCgroup::Create(const std::string& name,
                                                         uint64_t max_processes) {
  static std::atomic<uint64_t> counter{0};
  CAIRN_ASSIGN_OR_RETURN(Parent parent, ParentCgroup());
  std::string path = parent.dir + "/" + name + "-" + std::to_string(counter++);
  if (mkdir(path.c_str(), 0755) != 0) {
    return Unavailable("cannot create the pids cgroup " + path + ": " + std::strerror(errno));
  }
  std::string join = path + (parent.v1 ? "/tasks" : "/cgroup.procs");
  std::unique_ptr<PidsCgroup> cgroup(
      new PidsCgroup(path, UniqueFd(open(join.c_str(), O_WRONLY | O_CLOEXEC))));
  if (!cgroup->join_.valid() || !WriteText(path + "/pids.max", std::to_string(max_processes))) {
    return Unavailable("cannot set up the pids cgroup " + path + ": " + std::strerror(errno));
  }
  return cgroup;
}

size_t PidsCgroup::RemoveLeftovers(const std::string& prefix) {
  const StatusOr<Parent>& parent = ParentCgroup();
  if (!parent.ok()) return 0;
  DIR* dir = opendir(parent->dir.c_str());
  if (dir == nullptr) return 0;
  size_t removed = 0;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    // Their processes die with the process that owned them (bwrap's
    // --die-with-parent, the chroot init's parent-death signal); any still
    // dying are killed.
    if (OwnedByDeadProcess(name, prefix) && RemoveCgroup(parent->dir + "/" + name)) ++removed;
  }
  closedir(dir);
  return removed;
}

PidsCgroup::~PidsCgroup() {
  join_.Reset();
  // The sandbox's first process has been reaped, and with it (its PID
  // namespace gone) every process of the action: this finds nothing unless
  // something escaped that namespace.
  RemoveCgroup(path_);
}

bool PidsCgroup::JoinWaitsForGracePeriod() {
  const StatusOr<Parent>& parent = ParentCgroup();
  return parent.ok() && !parent->v1;
}

bool PidsCgroup::LimitReached() const {
  std::ifstream events(path_ + "/pids.events");
  std::string key;
  uint64_t count = 0;
  while (events >> key >> count) {
    if (key == "max" && count > 0) return true;
  }
  return false;
}

namespace {

// Long enough to be well within a grace period, short enough to cost
// nothing measurable (a write each).
constexpr std::chrono::milliseconds kMoveInterval{2};
// How long the moves go on after the last Hold ends: a launcher that does
// not wait for its child's exec (chroot's) returns before the child has
// joined its cgroup, which it does at once unless the host is very busy.
constexpr std::chrono::milliseconds kLinger{50};

}  // namespace

CgroupMoveKeeper::Hold::Hold(CgroupMoveKeeper* keeper) : keeper_(keeper) {
  if (keeper_ != nullptr) keeper_->Acquire();
}

CgroupMoveKeeper::Hold::~Hold() {
  if (keeper_ != nullptr) keeper_->Release();
}

CgroupMoveKeeper::CgroupMoveKeeper() {
  try {
    thread_ = std::thread([this] { Loop(); });
  } catch (...) {
    // No thread: each run's child waits for its grace period instead.
  }
}

CgroupMoveKeeper::~CgroupMoveKeeper() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CgroupMoveKeeper::KeepFor(std::chrono::milliseconds duration) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    keep_until_ = std::max(keep_until_, std::chrono::steady_clock::now() + duration);
  }
  wake_.notify_all();
}

void CgroupMoveKeeper::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++holders_;
  }
  wake_.notify_all();
}

void CgroupMoveKeeper::Release() {
  std::lock_guard<std::mutex> lock(mutex_);
  --holders_;
  keep_until_ = std::max(keep_until_, std::chrono::steady_clock::now() + kLinger);
}

void CgroupMoveKeeper::Loop() {
  const StatusOr<Parent>& own = ParentCgroup();
  if (!own.ok()) return;
  std::string procs_path = own->dir + "/cgroup.procs";
  UniqueFd procs(open(procs_path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!procs.valid()) return;  // not allowed here: nothing to keep warm
  std::string pid = std::to_string(getpid());
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (holders_ == 0 && std::chrono::steady_clock::now() >= keep_until_) {
      wake_.wait(lock);
      continue;
    }
    lock.unlock();
    if (write(procs.get(), pid.data(), pid.size()) != static_cast<ssize_t>(pid.size())) return;
    moves_.fetch_add(1);
    lock.lock();
    wake_.wait_for(lock, kMoveInterval, [this] { return stopping_; });
  }
}

int JoinProcessLimit(int cgroup_join_fd, uint64_t max_processes) {
  if (cgroup_join_fd >= 0) {
    return write(cgroup_join_fd, "0", 1) == 1 ? 0 : -1;
  }
  if (max_processes == 0) return 0;
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NPROC, &limit) != 0) return -1;
  // Lowering the hard limit needs no privilege; raising it would.
  rlim_t wanted = static_cast<rlim_t>(max_processes);
  if (limit.rlim_max == RLIM_INFINITY || limit.rlim_max > wanted) limit.rlim_max = wanted;
  limit.rlim_cur = limit.rlim_max;
  return setrlimit(RLIMIT_NPROC, &limit);
}

}  // namespace cairn
