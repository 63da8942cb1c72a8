// Capturing a directory again reads only what changed since its last
// capture (the capture index), and never trusts a stale entry.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "cas_test_util.h"

namespace cairn::testing {
namespace {

// Bytes this process has read through read(2) and friends so far.
uint64_t BytesReadByThisProcess() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "rchar:") return value;
  }
  ADD_FAILURE() << "no rchar in /proc/self/io";
  return 0;
}

// Files changed within a second of a capture are not indexed (their
// timestamps could hide a later write in the same clock tick): age them.
void LetTheFilesAge() { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); }

TEST_F(CasTest, UnchangedTreeIsCapturedAgainWithoutReadingItsFiles) {
  MakeDir(temp_ / "tree");
  for (int i = 0; i < 16; ++i) {
    WriteFile(temp_ / "tree/f" + std::to_string(i), std::string(64 * 1024, 'a' + i));
  }
  LetTheFilesAge();
  ASSERT_OK_AND_ASSIGN(CapturedTree first, store().CaptureTree(temp_ / "tree", CaptureOptions{}));
  uint64_t before = BytesReadByThisProcess();
  ASSERT_OK_AND_ASSIGN(CapturedTree second, store().CaptureTree(temp_ / "tree", CaptureOptions{}));
  uint64_t read = BytesReadByThisProcess() - before;
  EXPECT_EQ(second.root, first.root);
  EXPECT_LT(read, 256u * 1024) << "1 MiB of unchanged files was read again";
}

TEST_F(CasTest, FileRewrittenWithTheSameSizeAndMtimeIsHashedAgain) {
  MakeDir(temp_ / "tree");
  WriteFile(temp_ / "tree/f", "before");
  LetTheFilesAge();
  ASSERT_OK(store().CaptureTree(temp_ / "tree", CaptureOptions{}).status());
  // Same inode, same size, the old mtime put back: only the ctime moved.
  ASSERT_EQ(Shell("touch -r " + temp_ / "tree/f" + " " + temp_ / "mtime && printf after! > " +
                  temp_ / "tree/f" + " && touch -r " + temp_ / "mtime " + temp_ / "tree/f"),
            0);
  ASSERT_OK_AND_ASSIGN(CapturedTree again, store().CaptureTree(temp_ / "tree", CaptureOptions{}));
  MakeDir(temp_ / "fresh");
  WriteFile(temp_ / "fresh/f", "after!");
  ASSERT_OK_AND_ASSIGN(CapturedTree fresh, store().CaptureTree(temp_ / "fresh", CaptureOptions{}));
  EXPECT_EQ(again.root, fresh.root);
}

TEST_F(CasTest, UnchangedFileWhoseObjectWasRemovedIsStoredAgain) {
  MakeDir(temp_ / "tree");
  WriteFile(temp_ / "tree/f", "kept on disk, not in the store");
  LetTheFilesAge();
  ASSERT_OK(store().CaptureTree(temp_ / "tree", CaptureOptions{}).status());
  Digest blob = DigestOfBytes("kept on disk, not in the store");
  ASSERT_EQ(::unlink(ObjectPath(blob).c_str()), 0);
  ASSERT_OK(store().CaptureTree(temp_ / "tree", CaptureOptions{}).status());
  EXPECT_TRUE(Exists(ObjectPath(blob)));
}

}  // namespace
}  // namespace cairn::testing
