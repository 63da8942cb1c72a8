// Staged roots kept on disk and shared between processes (StagedRootCache
// against a real cas-local store). Each process has a cache of its own, so
// two caches on one scratch directory are two processes here; leases are
// flock()s, which conflict between two open files of one process just as
// between processes.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cairn/sandbox_common/scratch_janitor.h"
#include "cairn/sandbox_common/staged_root_cache.h"
#include "cairn/sandbox_common/tree_walker.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (struct dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(handle);
  return names;
}

// Every entry below a tree with what a write would change.
class Snapshot : public TreeVisitor {
 public:
  Status Visit(const TreeEntry& entry) override {
    const struct stat& info = entry.info;
    entries[entry.path] = std::to_string(info.st_ino) + " " + std::to_string(info.st_mode) + " " +
                          std::to_string(info.st_size) + " " + std::to_string(info.st_mtim.tv_sec) +
                          "." + std::to_string(info.st_mtim.tv_nsec) + " " +
                          std::to_string(info.st_ctim.tv_sec) + "." +
                          std::to_string(info.st_ctim.tv_nsec);
    if (S_ISREG(info.st_mode) && (info.st_mode & 0222) != 0) writable.push_back(entry.path);
    return Status::Ok();
  }
  std::map<std::string, std::string> entries;
  std::vector<std::string> writable;
};

class SharedStagedRootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    for (const char* content : {"one\n", "two\n", "three\n", "four\n"}) {
      StatusOr<Digest> root = harness_.ImportBusyboxRoot({{"build/input.txt", content}});
      ASSERT_TRUE(root.ok()) << root.status().ToString();
      roots_.push_back(*root);
    }
  }

  std::shared_ptr<const SharedRoot> Acquire(StagedRootCache& cache, const Digest& root) {
    auto shared = cache.Acquire(harness_.cas(), root, "build");
    EXPECT_TRUE(shared.ok()) << shared.status().ToString();
    return shared.ok() ? *shared : nullptr;
  }

  // The private staging directories of this process left in the scratch
  // directory (none once every Acquire returned).
  std::vector<std::string> StagingLeftovers() {
    std::vector<std::string> found;
    for (const std::string& name : Names(harness_.scratch_dir())) {
      if (name.rfind(OwnedScratchPrefix("test-"), 0) == 0) found.push_back(name);
    }
    return found;
  }

  SandboxHarness harness_;
  std::vector<Digest> roots_;
};

TEST_F(SharedStagedRootsTest, TwoProcessesUseOneStagedRootAndOnlyTheFirstStagesIt) {
  StagedRootCache first(harness_.scratch_dir(), "test-", 4, nullptr);
  StagedRootCache second(harness_.scratch_dir(), "test-", 4, nullptr);
  auto a = Acquire(first, roots_[0]);
  auto b = Acquire(second, roots_[0]);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->root_dir(), b->root_dir());
  struct stat from_a {
  }, from_b{};
  ASSERT_EQ(stat(a->root_dir().c_str(), &from_a), 0);
  ASSERT_EQ(stat(b->root_dir().c_str(), &from_b), 0);
  EXPECT_EQ(from_a.st_ino, from_b.st_ino);
  EXPECT_EQ(first.roots_staged(), 1u);
  EXPECT_EQ(second.roots_staged(), 0u) << "the second process found the root on disk";
  EXPECT_EQ(Names(first.shared_dir()).size(), 1u);
}

TEST_F(SharedStagedRootsTest, ConcurrentFirstUsesPublishOneRootAndLeaveNoCopies) {
  constexpr int kProcesses = 4;
  std::vector<std::unique_ptr<StagedRootCache>> caches;
  for (int i = 0; i < kProcesses; ++i) {
    caches.push_back(
        std::make_unique<StagedRootCache>(harness_.scratch_dir(), "test-", 4, nullptr));
  }
  std::vector<std::string> dirs(kProcesses);
  std::vector<std::thread> threads;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&, i] {
      auto shared = caches[static_cast<size_t>(i)]->Acquire(harness_.cas(), roots_[0], "build");
      if (shared.ok()) dirs[static_cast<size_t>(i)] = (*shared)->root_dir();
    });
  }
  for (std::thread& thread : threads) thread.join();
  size_t staged = 0;
  for (int i = 0; i < kProcesses; ++i) {
    EXPECT_EQ(dirs[static_cast<size_t>(i)], dirs[0]);
    staged += caches[static_cast<size_t>(i)]->roots_staged();
  }
  EXPECT_FALSE(dirs[0].empty());
  EXPECT_EQ(staged, 1u) << "one copy published; the losers of the race count none";
  EXPECT_EQ(Names(caches[0]->shared_dir()).size(), 1u);
  EXPECT_TRUE(StagingLeftovers().empty());
}

TEST_F(SharedStagedRootsTest, EvictionRemovesTheLeastRecentlyUsedIdleRootAndNeverOneInUse) {
  StagedRootCache other_process(harness_.scratch_dir(), "test-", 2, nullptr);
  StagedRootCache cache(harness_.scratch_dir(), "test-", 2, nullptr);
  // The oldest root is in use by another process throughout.
  auto in_use = Acquire(other_process, roots_[0]);
  ASSERT_TRUE(in_use);
  std::string second_dir, third_dir;
  {
    auto second = Acquire(cache, roots_[1]);
    ASSERT_TRUE(second);
    second_dir = second->root_dir();
  }
  {
    auto third = Acquire(cache, roots_[2]);  // three roots, two kept
    ASSERT_TRUE(third);
    third_dir = third->root_dir();
  }
  EXPECT_TRUE(Exists(in_use->root_dir() + "/build/input.txt")) << "leased: kept";
  EXPECT_FALSE(Exists(second_dir)) << "the least recently used idle root goes";
  EXPECT_TRUE(Exists(third_dir));

  // Used again, the in-use root becomes the most recent; once released,
  // the idle third root is the least recently used.
  in_use.reset();
  ASSERT_TRUE(Acquire(cache, roots_[0]));
  ASSERT_TRUE(Acquire(cache, roots_[3]));
  EXPECT_FALSE(Exists(third_dir));
  EXPECT_EQ(Names(cache.shared_dir()).size(), 2u);
  EXPECT_TRUE(StagingLeftovers().empty());
}

TEST_F(SharedStagedRootsTest, ARootWithoutItsCompletionMarkerIsNotUsedAndIsReplaced) {
  std::string dir;
  {
    StagedRootCache crashed(harness_.scratch_dir(), "test-", 4, nullptr);
    auto shared = Acquire(crashed, roots_[0]);
    ASSERT_TRUE(shared);
    dir = shared->root_dir();
  }
  // As if its staging had stopped half way: no marker, content missing.
  std::string container = dir.substr(0, dir.rfind('/'));
  ASSERT_EQ(unlink((container + "/complete").c_str()), 0);
  ASSERT_EQ(chmod((dir + "/build").c_str(), 0755), 0);
  ASSERT_EQ(unlink((dir + "/build/input.txt").c_str()), 0);

  StagedRootCache next(harness_.scratch_dir(), "test-", 4, nullptr);
  auto shared = Acquire(next, roots_[0]);
  ASSERT_TRUE(shared);
  EXPECT_EQ(next.roots_staged(), 1u) << "staged afresh";
  EXPECT_TRUE(Exists(shared->root_dir() + "/build/input.txt"));
  EXPECT_TRUE(Exists(container + "/complete"));
  EXPECT_TRUE(StagingLeftovers().empty()) << "the incomplete root was removed";
}

TEST_F(SharedStagedRootsTest, AStagingLeftByADeadProcessIsRemovedByTheJanitor) {
  pid_t dead = fork();
  ASSERT_GE(dead, 0);
  if (dead == 0) _exit(0);
  int status = 0;
  ASSERT_EQ(waitpid(dead, &status, 0), dead);
  // What a process killed while staging leaves: a private directory with a
  // partial root and no marker, never published.
  std::string left = harness_.scratch_dir() + "/test-" + std::to_string(dead) + "-root-Ab12Cd";
  ASSERT_EQ(
      std::system(("mkdir -p " + left + "/root/bin && touch " + left + "/root/bin/sh").c_str()), 0);
  StagedRootCache cache(harness_.scratch_dir(), "test-", 4, nullptr);
  auto shared = Acquire(cache, roots_[0]);
  ASSERT_TRUE(shared);
  EXPECT_EQ(cache.roots_staged(), 1u);
  {
    ScratchJanitor janitor;
    EXPECT_EQ(janitor.DisposeLeftovers(harness_.scratch_dir(), "test-"), 1u);
  }
  EXPECT_FALSE(Exists(left));
  EXPECT_TRUE(Exists(shared->root_dir() + "/bin/busybox"));
}

TEST_F(SharedStagedRootsTest, APublishedRootIsReadOnlyAndUnchangedByItsUses) {
  StagedRootCache first(harness_.scratch_dir(), "test-", 4, nullptr);
  auto shared = Acquire(first, roots_[0]);
  ASSERT_TRUE(shared);
  Snapshot before;
  ASSERT_TRUE(WalkTree(shared->root_dir(), before).ok());
  EXPECT_TRUE(before.writable.empty()) << "writable: " << before.writable.front();
  EXPECT_GE(before.entries.size(), 5u);
  std::string container = shared->root_dir().substr(0, shared->root_dir().rfind('/'));
  struct stat info {};
  ASSERT_EQ(stat(container.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0077, 0u) << "private to the sandbox's user";
  shared.reset();

  StagedRootCache second(harness_.scratch_dir(), "test-", 4, nullptr);
  auto again = Acquire(second, roots_[0]);
  ASSERT_TRUE(again);
  Snapshot after;
  ASSERT_TRUE(WalkTree(again->root_dir(), after).ok());
  EXPECT_EQ(before.entries, after.entries);
}

// A whole run: a new sandbox (as a new process has) on a root that an
// earlier one staged, with one of the root's files gone from the store.
TEST(SharedStagedRootRunTest, ARootStagedOnDiskRunsWithoutItsFilesInTheStore) {
  if (!RunningAsRoot()) GTEST_SKIP() << "the sandbox tests need root; CI runs as root";
  SandboxHarness harness;
  ASSERT_TRUE(harness.setup_status().ok()) << harness.setup_status().ToString();
  StatusOr<Digest> root = harness.ImportBusyboxRoot({{"build/input.txt", "kept by hardlink\n"}});
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  ActionOptions options;
  options.arguments = {"cat", "input.txt"};
  StatusOr<Action> action = harness.MakeAction(*root, options);
  ASSERT_TRUE(action.ok()) << action.status().ToString();
  auto run = [&]() -> std::string {
    StatusOr<std::unique_ptr<Sandbox>> sandbox = harness.OpenSandbox("bwrap");
    if (!sandbox.ok()) return sandbox.status().ToString();
    ExecuteOutcome outcome = (*sandbox)->Execute(*action, ExecuteOptions());
    if (!outcome.status.ok()) return outcome.status.ToString();
    return ReadText(harness.cas(), outcome.result->stdout_digest());
  };
  ASSERT_EQ(run(), "kept by hardlink\n");

  // As if the store's garbage collection had removed the object.
  std::string hash = DigestOfBytes("kept by hardlink\n").hash();
  std::string object = harness.store_dir() + "/objects/" + hash.substr(0, 2) + "/" + hash.substr(2);
  ASSERT_EQ(unlink(object.c_str()), 0) << object;
  ASSERT_FALSE(*harness.cas().Contains(DigestOfBytes("kept by hardlink\n")));
  EXPECT_EQ(run(), "kept by hardlink\n");
}

}  // namespace
}  // namespace cairn::testing
