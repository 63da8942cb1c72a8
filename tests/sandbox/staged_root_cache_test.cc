// StagedRootCache against a real cas-local store: which roots it stages,
// shares, keeps and removes.
#include <unistd.h>

#include <gtest/gtest.h>

#include "cairn/sandbox_common/staged_root_cache.h"
#include "sandbox_harness.h"

namespace cairn::testing {
namespace {

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

class SandboxRootCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(harness_.setup_status().ok()) << harness_.setup_status().ToString();
    StatusOr<Digest> first = harness_.ImportBusyboxRoot({{"build/input.txt", "one\n"}});
    StatusOr<Digest> second = harness_.ImportBusyboxRoot({{"build/input.txt", "two\n"}});
    ASSERT_TRUE(first.ok() && second.ok());
    first_ = *first;
    second_ = *second;
  }

  std::shared_ptr<const SharedRoot> Acquire(StagedRootCache& cache, const Digest& root,
                                            const std::string& working_directory = "build") {
    auto shared = cache.Acquire(harness_.cas(), root, working_directory);
    EXPECT_TRUE(shared.ok()) << shared.status().ToString();
    return shared.ok() ? *shared : nullptr;
  }

  SandboxHarness harness_;
  Digest first_;
  Digest second_;
};

TEST_F(SandboxRootCacheTest, TheSameRootAndWorkingDirectoryAreStagedOnceAndShared) {
  StagedRootCache cache(harness_.scratch_dir(), "test-", 4, nullptr);
  auto a = Acquire(cache, first_);
  auto b = Acquire(cache, first_);
  auto other_directory = Acquire(cache, first_, "elsewhere");
  ASSERT_TRUE(a && b && other_directory);
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a->root_dir(), other_directory->root_dir());
  for (const char* path : {"/bin/busybox", "/build/input.txt", "/proc", "/dev", "/tmp"}) {
    EXPECT_TRUE(Exists(a->root_dir() + path)) << path;
  }
  EXPECT_TRUE(Exists(other_directory->root_dir() + "/elsewhere"))
      << "the working directory is made as a mount point";
}

TEST_F(SandboxRootCacheTest, AnEvictedRootLivesUntilItsLastUserReleasesIt) {
  StagedRootCache cache(harness_.scratch_dir(), "test-", 1, nullptr);
  auto in_use = Acquire(cache, first_);
  ASSERT_TRUE(in_use);
  std::string evicted_dir = in_use->root_dir();
  auto newer = Acquire(cache, second_);  // evicts the first root
  ASSERT_TRUE(newer);
  EXPECT_TRUE(Exists(evicted_dir + "/build/input.txt"));
  in_use.reset();
  EXPECT_FALSE(Exists(evicted_dir));
  auto again = Acquire(cache, first_);
  ASSERT_TRUE(again);
  EXPECT_EQ(cache.roots_staged(), 3u) << "staged afresh after eviction";
}

TEST_F(SandboxRootCacheTest, ZeroCapacityStagesEveryAcquireAfreshAndKeepsNothing) {
  StagedRootCache cache(harness_.scratch_dir(), "test-", 0, nullptr);
  auto a = Acquire(cache, first_);
  auto b = Acquire(cache, first_);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->root_dir(), b->root_dir());
  std::string dir = a->root_dir();
  a.reset();
  EXPECT_FALSE(Exists(dir));
}

TEST_F(SandboxRootCacheTest, ARootOutlivesItsCacheAndTheNextCacheUsesItWithoutStaging) {
  // Each process has its own cache: the next `cairn run` is the next cache.
  std::string dir;
  {
    StagedRootCache cache(harness_.scratch_dir(), "test-", 4, nullptr);
    auto shared = Acquire(cache, first_);
    ASSERT_TRUE(shared);
    dir = shared->root_dir();
  }
  EXPECT_TRUE(Exists(dir + "/build/input.txt"));
  StagedRootCache next(harness_.scratch_dir(), "test-", 4, nullptr);
  auto shared = Acquire(next, first_);
  ASSERT_TRUE(shared);
  EXPECT_EQ(shared->root_dir(), dir);
  EXPECT_EQ(next.roots_staged(), 0u);
}

TEST_F(SandboxRootCacheTest, ARootMissingFromTheStoreIsAFailedPreconditionNamingIt) {
  StagedRootCache cache(harness_.scratch_dir(), "test-", 4, nullptr);
  Digest missing = DigestOfBytes("not a directory in this store");
  auto shared = cache.Acquire(harness_.cas(), missing, "build");
  ASSERT_FALSE(shared.ok());
  EXPECT_EQ(shared.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(shared.status().message().find(DigestToString(missing)), std::string::npos)
      << shared.status().ToString();
}

}  // namespace
}  // namespace cairn::testing
