// Quota, least-recently-used eviction and in-use protection across processes.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "cas_test_util.h"

namespace cairn::testing {
namespace {

std::string Blob(int index, size_t size) {
  std::string data(size, static_cast<char>('a' + index % 26));
  data += "#" + std::to_string(index);
  return data;
}

// Lease starts and LRU signals have one-second resolution: let the clock
// move on so that "before" and "after" are distinguishable.
void NextSecond() { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); }

// A store whose 1 MB of blobs (10 x 100 KiB) was written by a session that
// has ended, at least a second ago.
class QuotaTest : public CasTest {
 protected:
  void WriteEarlierSession(std::vector<Digest>* blobs) {
    for (int i = 0; i < 10; ++i) {
      ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(Blob(i, 100 * 1024), std::nullopt));
      blobs->push_back(digest);
    }
    loaded_.reset();
    NextSecond();
  }
};

TEST_F(QuotaTest, QuotaEvictsLeastRecentlyUsedBlobsOfEarlierSessionsOnly) {
  std::vector<Digest> old_blobs;
  ASSERT_NO_FATAL_FAILURE(WriteEarlierSession(&old_blobs));
  // A new session that uses blob 9 early, then writes enough to cross the
  // 1.5 MiB high watermark (quota 1.5M, high 1.0, low 0.5).
  Reopen("quota: 1536K\nhigh-watermark: 1.0\nlow-watermark: 0.5\n");
  ASSERT_OK_AND_ASSIGN(std::string kept, store().ReadBlob(old_blobs[9], 0, 0));
  std::vector<Digest> new_blobs;
  for (int i = 100; i < 106; ++i) {
    ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(Blob(i, 100 * 1024), std::nullopt));
    new_blobs.push_back(digest);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing_new, store().FindMissing(new_blobs));
  EXPECT_TRUE(missing_new.empty()) << "blobs written by the live session were evicted";
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing_old, store().FindMissing(old_blobs));
  EXPECT_GE(missing_old.size(), 1u);
  EXPECT_EQ(std::count(missing_old.begin(), missing_old.end(), old_blobs[9]), 0)
      << "the blob used in this session was evicted";
  ASSERT_OK_AND_ASSIGN(StorageStats stats, store().Stats());
  EXPECT_LE(stats.total_bytes, stats.high_watermark_bytes);
}

// Files moved into the store (how a sandbox stores stdout and stderr) count
// towards the quota like any other write.
TEST_F(QuotaTest, FilesMovedIntoTheStoreCountTowardsTheQuota) {
  std::vector<Digest> old_blobs;
  ASSERT_NO_FATAL_FAILURE(WriteEarlierSession(&old_blobs));
  // 1 MB of old blobs; moving in 600 KB crosses the 1.5 MiB high watermark.
  Reopen("quota: 1536K\nhigh-watermark: 1.0\nlow-watermark: 0.5\n");
  std::vector<Digest> moved;
  for (int i = 100; i < 106; ++i) {
    std::string path = temp_ / ("output-" + std::to_string(i));
    WriteFile(path, Blob(i, 100 * 1024));
    ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlobFromPath(path, true, std::nullopt));
    EXPECT_FALSE(Exists(path));
    moved.push_back(digest);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing_moved, store().FindMissing(moved));
  EXPECT_TRUE(missing_moved.empty()) << "blobs moved in by the live session were evicted";
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing_old, store().FindMissing(old_blobs));
  EXPECT_GE(missing_old.size(), 1u) << "the moved bytes were not counted: no collection ran";
  ASSERT_OK_AND_ASSIGN(StorageStats stats, store().Stats());
  EXPECT_LE(stats.total_bytes, stats.high_watermark_bytes);
}

TEST_F(CasTest, CollectGarbageEvictsDownToTheTargetOldestFirst) {
  std::vector<Digest> blobs;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(Blob(i, 1000), std::nullopt));
    blobs.push_back(digest);
  }
  loaded_.reset();
  NextSecond();
  Reopen("");
  // All of 0..4 predate this session, so only the target limits eviction.
  ASSERT_OK_AND_ASSIGN(uint64_t freed, store().CollectGarbage(2 * 1010));
  EXPECT_GE(freed, 3u * 1000);
  ASSERT_OK_AND_ASSIGN(StorageStats stats, store().Stats());
  EXPECT_LE(stats.total_bytes, 2u * 1010);
  ASSERT_OK_AND_ASSIGN(bool empty_present, store().Contains(EmptyDigest()));
  EXPECT_TRUE(empty_present);
}

TEST_F(CasTest, BlobsUsedByAnotherLiveProcessAreNeverEvicted) {
  std::vector<Digest> blobs;
  for (int i = 0; i < 4; ++i) {
    ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(Blob(i, 1000), std::nullopt));
    blobs.push_back(digest);
  }
  loaded_.reset();
  NextSecond();
  // The helper opens the store (its lease), uses blobs 0 and 1, and waits.
  int to_helper[2], from_helper[2];
  ASSERT_EQ(::pipe(to_helper), 0);
  ASSERT_EQ(::pipe(from_helper), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(to_helper[0], 0);
    ::dup2(from_helper[1], 1);
    ::close(to_helper[1]);
    ::close(from_helper[0]);
    ::execl(HelperPath().c_str(), HelperPath().c_str(), StorePath().c_str(), "hold",
            DigestToString(blobs[0]).c_str(), DigestToString(blobs[1]).c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(to_helper[0]);
  ::close(from_helper[1]);
  char ready[6] = {};
  ASSERT_EQ(::read(from_helper[0], ready, 5), 5);
  ASSERT_STREQ(ready, "ready");
  NextSecond();
  Reopen("");
  // Collect everything: the blobs the helper used must survive, the others
  // go. (Existence is checked on disk: a FindMissing would be a use.)
  ASSERT_OK(store().CollectGarbage(1).status());
  EXPECT_TRUE(Exists(ObjectPath(blobs[0])));
  EXPECT_TRUE(Exists(ObjectPath(blobs[1])));
  EXPECT_FALSE(Exists(ObjectPath(blobs[2])));
  EXPECT_FALSE(Exists(ObjectPath(blobs[3])));
  ::close(to_helper[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // Once the helper is gone, only this session's lease is left, and it
  // started after every blob was last used.
  ASSERT_OK_AND_ASSIGN(uint64_t freed, store().CollectGarbage(1));
  EXPECT_GE(freed, 2000u);
  EXPECT_FALSE(Exists(ObjectPath(blobs[0])));
  EXPECT_FALSE(Exists(ObjectPath(blobs[1])));
  ::close(from_helper[0]);
}

TEST_F(CasTest, AStoreThatIsNeverIdleStillLetsGoOfWhatItUsedBeforeItsOldestOperation) {
  // A server's calls overlap: the store always has an operation in
  // flight. Its lease must still move forward, to the start of the oldest
  // operation running, or nothing it ever used could be evicted.
  ASSERT_OK_AND_ASSIGN(Digest old_blob, store().WriteBlob(Blob(1, 1000), std::nullopt));
  std::string large(1 << 20, 'L');
  ASSERT_OK_AND_ASSIGN(Digest held, store().WriteBlob(large, std::nullopt));
  NextSecond();
  // An operation that stays in flight: reading a MiB into a pipe nobody
  // reads until the end of the test.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  std::thread reader([&] {
    (void)store().ReadBlobToFd(held, pipe_fds[1]);
    ::close(pipe_fds[1]);
  });
  // Past the lease's refresh period, with that operation running, another
  // operation starts: the lease moves to the running operation's start.
  std::this_thread::sleep_for(std::chrono::seconds(11));
  ASSERT_OK(store().FindMissing({EmptyDigest()}).status());
  ASSERT_OK(store().CollectGarbage(1).status());
  EXPECT_FALSE(Exists(ObjectPath(old_blob))) << "used only before the running operation started";
  EXPECT_TRUE(Exists(ObjectPath(held))) << "used by the running operation";
  std::vector<char> drain(1 << 16);
  while (::read(pipe_fds[0], drain.data(), drain.size()) > 0) {
  }
  reader.join();
  ::close(pipe_fds[0]);
}

TEST_F(CasTest, BlobFoundPresentWhileAnotherProcessCollectsItIsNotEvicted) {
  ASSERT_OK_AND_ASSIGN(Digest blob, store().WriteBlob(Blob(7, 1000), std::nullopt));
  loaded_.reset();
  NextSecond();
  // The helper collects everything unused; the shim holds it for two
  // seconds just before it removes (or moves aside) the blob.
  const std::string marker = temp_ / "collector-is-removing";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("LD_PRELOAD", CAIRN_CAS_SLOW_REMOVAL_SHIM, 1);
    ::setenv("CAIRN_TEST_SLOW_MARKER", marker.c_str(), 1);
    ::execl(HelperPath().c_str(), HelperPath().c_str(), StorePath().c_str(), "gc",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  pid_t exited = 0;
  for (int i = 0; i < 1000 && !Exists(marker) && exited == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    exited = ::waitpid(pid, &status, WNOHANG);
  }
  bool collecting = Exists(marker);
  bool present = false;
  if (collecting) {
    Reopen("");
    ASSERT_OK_AND_ASSIGN(present, store().Contains(blob));
  }
  if (exited == 0) {
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  }
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the collecting helper failed";
  ASSERT_TRUE(collecting) << "the helper never tried to remove the blob";
  // Found present by this live process, it must stay (on disk: a Contains
  // now would be a use of its own).
  if (present) {
    EXPECT_TRUE(Exists(ObjectPath(blob))) << "a blob reported present was evicted";
  }
  EXPECT_TRUE(present) << "the blob was gone before the collector was let go";
}

TEST_F(CasTest, LeasesOfDeadProcessesAreRemoved) {
  int status = 0;
  MakeDir(temp_ / "t");
  RunProgram({HelperPath(), StorePath(), "import", temp_ / "t"}, &status);
  ASSERT_EQ(status, 0);
  // A lease left behind as if its process had been killed.
  WriteFile(StorePath() + "/leases/999999-1", "");
  ASSERT_OK(store().WriteBlob("something to collect", std::nullopt).status());
  ASSERT_OK(store().CollectGarbage(1).status());
  EXPECT_FALSE(Exists(StorePath() + "/leases/999999-1"));
}

}  // namespace
}  // namespace cairn::testing
