// Staging refuses objects that are no longer what the store wrote, and
// digests that lie about their size; executables stage as hardlinks too.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cas_test_util.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

// A root directory holding one file `name` with `digest`.
Digest StoreRootWithFile(Storage& store, const std::string& name, const Digest& digest,
                         bool executable = false) {
  Directory root;
  FileNode* file = root.add_files();
  file->set_name(name);
  *file->mutable_digest() = digest;
  file->set_is_executable(executable);
  StatusOr<Digest> stored = store.WriteBlob(root.SerializeAsString(), std::nullopt);
  EXPECT_TRUE(stored.ok()) << stored.status().ToString();
  return stored.ok() ? *stored : Digest();
}

StageOptions Hardlinks(bool hardlinks) {
  StageOptions options;
  options.hardlinks = hardlinks;
  return options;
}

class StageCheckTest : public CasTest {
 protected:
  // Stores "abcdef" and flips its last byte in place, as a disk error or a
  // stray writer would.
  Digest StoreAndFlipAByte() {
    StatusOr<Digest> digest = store().WriteBlob("abcdef", std::nullopt);
    EXPECT_TRUE(digest.ok());
    EXPECT_EQ(Shell("chmod u+w " + ObjectPath(*digest) + " && printf 'X' | dd of=" +
                    ObjectPath(*digest) + " bs=1 seek=5 conv=notrunc status=none"),
              0);
    return *digest;
  }

  // Stages a tree whose one file is `digest` and expects NOT_FOUND naming it.
  void ExpectStageNotFound(const Digest& digest, bool hardlinks, bool executable = false) {
    Digest root = StoreRootWithFile(store(), "f", digest, executable);
    std::string out = temp_ / (hardlinks ? "linked" : "copied");
    MakeDir(out);
    Status status = store().StageTree(root, out, Hardlinks(hardlinks));
    EXPECT_EQ(status.code(), Code::kNotFound) << status.ToString();
    EXPECT_THAT(status.message(), HasSubstr(DigestToString(digest)));
    EXPECT_FALSE(Exists(out + "/f")) << "nothing is left at the name of a refused file";
  }
};

TEST_F(StageCheckTest, FlippedByteIsCaughtByACopyingStageWhichRemovesTheObject) {
  Digest digest = StoreAndFlipAByte();
  ExpectStageNotFound(digest, false);
  EXPECT_FALSE(Exists(ObjectPath(digest)));
}

TEST_F(StageCheckTest, FlippedByteIsCaughtByAHardlinkingStageWhichRemovesTheObject) {
  Digest digest = StoreAndFlipAByte();
  ExpectStageNotFound(digest, true);
  EXPECT_FALSE(Exists(ObjectPath(digest)));
}

TEST_F(StageCheckTest, FlippedByteInAnExecutableIsCaughtByAHardlinkingStage) {
  Digest digest = StoreAndFlipAByte();
  ExpectStageNotFound(digest, true, true);
  EXPECT_FALSE(Exists(ObjectPath(digest)));
}

TEST_F(StageCheckTest, ExecutableVariantModifiedAfterItWasMadeIsCaughtAndRemoved) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("#!/bin/sh\n", std::nullopt));
  Digest root = StoreRootWithFile(store(), "run", digest, true);
  MakeDir(temp_ / "first");
  ASSERT_OK(store().StageTree(root, temp_ / "first", Hardlinks(true)));
  std::string variant = ObjectPath(digest) + ".x";
  ASSERT_TRUE(Exists(variant));
  ASSERT_EQ(Shell("printf '#!/bin/ksh' | dd of=" + variant + " conv=notrunc status=none"), 0);
  ExpectStageNotFound(digest, true, true);
  EXPECT_FALSE(Exists(variant));
  EXPECT_FALSE(Exists(ObjectPath(digest)));
}

TEST_F(StageCheckTest, AnExecutableVariantCountsAgainstTheQuotaAndGoesWithItsObject) {
  std::string script(100 * 1024, '#');
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(script, std::nullopt));
  ASSERT_OK_AND_ASSIGN(StorageStats before, store().Stats());
  Digest root = StoreRootWithFile(store(), "run", digest, true);
  MakeDir(temp_ / "staged");
  ASSERT_OK(store().StageTree(root, temp_ / "staged", Hardlinks(true)));
  ASSERT_TRUE(Exists(ObjectPath(digest) + ".x"));
  ASSERT_OK_AND_ASSIGN(StorageStats after, store().Stats());
  // The variant is a second copy of the 100 KiB (plus the root Directory).
  EXPECT_GE(after.total_bytes, before.total_bytes + script.size());
  // Collected down to nothing, the object and its variant go together.
  loaded_.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  Reopen("");
  ASSERT_OK_AND_ASSIGN(uint64_t freed, store().CollectGarbage(1));
  EXPECT_GE(freed, 2 * script.size());
  EXPECT_FALSE(Exists(ObjectPath(digest) + ".x"));
  EXPECT_FALSE(Exists(ObjectPath(digest)));
}

TEST_F(StageCheckTest, VerifyOnStageCatchesAHardlinkedObjectModifiedBehindTheStoresBack) {
  // The flip restores the mode and mtime, which only hashing sees through.
  Digest digest = StoreAndFlipAByte();
  ASSERT_EQ(Shell("chmod 0444 " + ObjectPath(digest) + " && touch -m -d @1321009871 " +
                  ObjectPath(digest)),
            0);
  Digest root = StoreRootWithFile(store(), "f", digest);
  MakeDir(temp_ / "unverified");
  ASSERT_OK(store().StageTree(root, temp_ / "unverified", Hardlinks(true)));
  ASSERT_NO_FATAL_FAILURE(Reopen("verify-on-stage: true\n"));
  ExpectStageNotFound(digest, true);
  EXPECT_FALSE(Exists(ObjectPath(digest)));
}

TEST_F(StageCheckTest, FsckReportsACorruptExecutableVariantAndRepairRemovesOnlyIt) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("#!/bin/sh\n", std::nullopt));
  Digest root = StoreRootWithFile(store(), "run", digest, true);
  MakeDir(temp_ / "first");
  ASSERT_OK(store().StageTree(root, temp_ / "first", Hardlinks(true)));
  std::string variant = ObjectPath(digest) + ".x";
  ASSERT_EQ(Shell("printf '#!/bin/ksh' | dd of=" + variant + " conv=notrunc status=none"), 0);
  ASSERT_OK_AND_ASSIGN(VerifyReport report, store().Verify(true));
  EXPECT_EQ(report.problems, 1u);
  EXPECT_THAT(report.lines, HasSubstr("executable variant of object " + digest.hash()));
  EXPECT_FALSE(Exists(variant));
  EXPECT_TRUE(Exists(ObjectPath(digest)));
  MakeDir(temp_ / "again");
  ASSERT_OK(store().StageTree(root, temp_ / "again", Hardlinks(true)));
  EXPECT_EQ(ReadFile(temp_ / "again/run"), "#!/bin/sh\n");
}

TEST_F(StageCheckTest, DigestClaimingThreeBytesForASixByteObjectIsNotFoundWhateverTheStage) {
  ASSERT_OK_AND_ASSIGN(Digest real, store().WriteBlob("abcdef", std::nullopt));
  Digest lie = MakeDigest(real.hash(), 3);
  ExpectStageNotFound(lie, true);
  ExpectStageNotFound(lie, false);
  EXPECT_TRUE(Exists(ObjectPath(real))) << "the object may be right and the digest the liar";
}

TEST_F(StageCheckTest, DigestClaimingOneTebibyteForASixByteObjectIsNotFoundWhateverTheStage) {
  ASSERT_OK_AND_ASSIGN(Digest real, store().WriteBlob("abcdef", std::nullopt));
  Digest lie = MakeDigest(real.hash(), int64_t{1} << 40);
  ExpectStageNotFound(lie, true);
  ExpectStageNotFound(lie, false);
  EXPECT_TRUE(Exists(ObjectPath(real)));
}

TEST_F(StageCheckTest, ExecutablesAreHardlinkedToAReadOnlyExecutableVariantOfTheObject) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("#!/bin/sh\necho hi\n", std::nullopt));
  Directory directory;
  for (const char* name : {"a", "b"}) {
    FileNode* file = directory.add_files();
    file->set_name(name);
    *file->mutable_digest() = digest;
    file->set_is_executable(true);
  }
  ASSERT_OK_AND_ASSIGN(Digest root, store().WriteBlob(directory.SerializeAsString(), std::nullopt));
  MakeDir(temp_ / "out");
  ASSERT_OK(store().StageTree(root, temp_ / "out", Hardlinks(true)));
  struct stat variant = Lstat(ObjectPath(digest) + ".x");
  for (const char* name : {"a", "b"}) {
    struct stat staged = Lstat(temp_ / "out/" + name);
    EXPECT_EQ(staged.st_ino, variant.st_ino) << name;
    EXPECT_EQ(staged.st_mode & 07777, 0555u) << name;
    EXPECT_EQ(staged.st_mtime, 1321009871) << name;
  }
  EXPECT_NE(Lstat(ObjectPath(digest)).st_ino, variant.st_ino);
  EXPECT_EQ(Lstat(ObjectPath(digest)).st_mode & 07777, 0444u);
  // Nobody but root can write it (the tests may run as root: ask as nobody,
  // through a descriptor opened before dropping privileges).
  int fd = ::open((temp_ / "out/a").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(2);
    std::string self = "/proc/self/fd/" + std::to_string(fd);
    ::_exit(::open(self.c_str(), O_WRONLY | O_CLOEXEC) < 0 && errno == EACCES ? 0 : 1);
  }
  ::close(fd);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the staged executable is writable";
  ASSERT_OK_AND_ASSIGN(std::string bytes, store().ReadBlob(digest, 0, 0));
  EXPECT_EQ(ReadFile(temp_ / "out/b"), bytes);
}

}  // namespace
}  // namespace cairn::testing
