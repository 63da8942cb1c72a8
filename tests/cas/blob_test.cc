// Blobs, action results and references of the real cas-local plugin,
// driven through the C ABI.
#include <fcntl.h>
#include <unistd.h>

#include <functional>

#include "cas_test_util.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

TEST_F(CasTest, WrittenBlobReadsBackWithItsDigest) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("hello", std::nullopt));
  EXPECT_EQ(digest, DigestOfBytes("hello"));
  ASSERT_OK_AND_ASSIGN(std::string data, store().ReadBlob(digest, 0, 0));
  EXPECT_EQ(data, "hello");
  ASSERT_OK_AND_ASSIGN(bool present, store().Contains(digest));
  EXPECT_TRUE(present);
}

TEST_F(CasTest, EmptyBlobIsPresentInANewStore) {
  ASSERT_OK_AND_ASSIGN(bool present, store().Contains(EmptyDigest()));
  EXPECT_TRUE(present);
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing, store().FindMissing({EmptyDigest()}));
  EXPECT_TRUE(missing.empty());
  ASSERT_OK_AND_ASSIGN(std::string data, store().ReadBlob(EmptyDigest(), 0, 0));
  EXPECT_EQ(data, "");
}

TEST_F(CasTest, ObjectsAreShardedReadOnlyFilesWithTheReproducibleMtime) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("sharded", std::nullopt));
  struct stat st = Lstat(ObjectPath(digest));
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  EXPECT_EQ(st.st_mtime, 1321009871);
  EXPECT_EQ(ReadFile(ObjectPath(digest)), "sharded");
}

TEST_F(CasTest, RangeReadReturnsTheRequestedSlice) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("0123456789", std::nullopt));
  ASSERT_OK_AND_ASSIGN(std::string middle, store().ReadBlob(digest, 3, 4));
  EXPECT_EQ(middle, "3456");
  ASSERT_OK_AND_ASSIGN(std::string tail, store().ReadBlob(digest, 7, 0));
  EXPECT_EQ(tail, "789");
  ASSERT_OK_AND_ASSIGN(std::string end, store().ReadBlob(digest, 10, 0));
  EXPECT_EQ(end, "");
}

TEST_F(CasTest, ReadPastTheEndIsOutOfRange) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("abc", std::nullopt));
  StatusOr<std::string> data = store().ReadBlob(digest, 4, 0);
  EXPECT_EQ(data.status().code(), Code::kOutOfRange);
}

TEST_F(CasTest, ReadOfAbsentBlobIsNotFoundNamingTheDigest) {
  Digest absent = DigestOfBytes("never written");
  StatusOr<std::string> data = store().ReadBlob(absent, 0, 0);
  EXPECT_EQ(data.status().code(), Code::kNotFound);
  EXPECT_THAT(data.status().message(), HasSubstr(DigestToString(absent)));
}

TEST_F(CasTest, WriteWithWrongExpectedSizeIsInvalidArgumentNamingTheDigest) {
  Digest wrong = MakeDigest(DigestOfBytes("data").hash(), 5);
  StatusOr<Digest> written = store().WriteBlob("data", wrong);
  EXPECT_EQ(written.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(written.status().message(), HasSubstr(DigestToString(wrong)));
}

TEST_F(CasTest, WriteWithWrongExpectedHashIsInvalidArgumentNamingTheDigest) {
  Digest wrong = MakeDigest(DigestOfBytes("other").hash(), 4);
  StatusOr<Digest> written = store().WriteBlob("data", wrong);
  EXPECT_EQ(written.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(written.status().message(), HasSubstr(DigestToString(wrong)));
  ASSERT_OK_AND_ASSIGN(bool present, store().Contains(DigestOfBytes("data")));
  EXPECT_FALSE(present);
}

TEST_F(CasTest, MalformedHashIsInvalidArgumentNamingTheDigest) {
  Digest malformed = MakeDigest("ABCDEF", 3);
  StatusOr<bool> present = store().Contains(malformed);
  EXPECT_EQ(present.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(present.status().message(), HasSubstr("ABCDEF/3"));
  StatusOr<std::string> data = store().ReadBlob(malformed, 0, 0);
  EXPECT_EQ(data.status().code(), Code::kInvalidArgument);
}

TEST_F(CasTest, BlobOfAnotherSizeThanTheDigestCountsAsMissing) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("12345", std::nullopt));
  Digest wrong_size = MakeDigest(digest.hash(), 9);
  ASSERT_OK_AND_ASSIGN(bool present, store().Contains(wrong_size));
  EXPECT_FALSE(present);
  StatusOr<std::string> data = store().ReadBlob(wrong_size, 0, 0);
  EXPECT_EQ(data.status().code(), Code::kNotFound);
  EXPECT_THAT(data.status().message(), HasSubstr(DigestToString(wrong_size)));
}

TEST_F(CasTest, FindMissingListsOnlyAbsentDigests) {
  ASSERT_OK_AND_ASSIGN(Digest a, store().WriteBlob("a", std::nullopt));
  Digest b = DigestOfBytes("b");
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing, store().FindMissing({a, b, EmptyDigest()}));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], b);
}

TEST_F(CasTest, FileWrittenFromPathReadsBackToPathWithTheRequestedMode) {
  std::string content(3 * 1024 * 1024 + 17, 'x');
  for (size_t i = 0; i < content.size(); i += 4096) content[i] = static_cast<char>(i / 4096);
  WriteFile(temp_ / "big", content);
  ASSERT_OK_AND_ASSIGN(Digest digest,
                       store().WriteBlobFromPath(temp_ / "big", false, std::nullopt));
  EXPECT_EQ(digest, DigestOfBytes(content));
  EXPECT_TRUE(Exists(temp_ / "big"));
  ASSERT_OK(store().ReadBlobToPath(digest, temp_ / "out", true));
  EXPECT_EQ(ReadFile(temp_ / "out"), content);
  EXPECT_EQ(Lstat(temp_ / "out").st_mode & 0777, 0755u);
  ASSERT_OK(store().ReadBlobToPath(digest, temp_ / "out2", false));
  EXPECT_EQ(Lstat(temp_ / "out2").st_mode & 0777, 0644u);
}

TEST_F(CasTest, StreamFromFdAndToFdRoundTrip) {
  std::string content(2 * 1024 * 1024, 'y');
  WriteFile(temp_ / "in", content);
  int in = ::open((temp_ / "in").c_str(), O_RDONLY);
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlobFromFd(in, DigestOfBytes(content)));
  ::close(in);
  int out = ::open((temp_ / "out").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_OK(store().ReadBlobToFd(digest, out));
  ::close(out);
  EXPECT_EQ(ReadFile(temp_ / "out"), content);
}

TEST_F(CasTest, MoveSourceTakesTheFileOverIntoTheStore) {
  WriteFile(temp_ / "moved", "moved content");
  ASSERT_OK_AND_ASSIGN(Digest digest,
                       store().WriteBlobFromPath(temp_ / "moved", true, std::nullopt));
  EXPECT_FALSE(Exists(temp_ / "moved"));
  EXPECT_EQ(ReadFile(ObjectPath(digest)), "moved content");
  EXPECT_EQ(Lstat(ObjectPath(digest)).st_mode & 0777, 0444u);
}

// What a crash can leave: objects are made durable by a batched syncfs, not
// one fsync each, so a short object can sit under its final name. A write of
// the real content must replace it, whichever way the bytes arrive.
TEST_F(CasTest, AnObjectOfTheWrongSizeUnderItsNameIsReplacedByTheNextWrite) {
  const std::string small = "small blob whose object was cut short";
  std::string large(3 * 1024 * 1024 + 5, 'L');  // streamed, not read whole
  large[12345] = '!';
  const std::string moved = "moved output whose object was cut short";
  const std::string copied = "copied output whose object was cut short";
  struct Case {
    std::string content;
    std::function<StatusOr<Digest>()> write;
  };
  std::vector<Case> cases = {
      {small, [&] { return store().WriteBlob(small, DigestOfBytes(small)); }},
      {large,
       [&]() -> StatusOr<Digest> {
         WriteFile(temp_ / "large", large);
         int fd = ::open((temp_ / "large").c_str(), O_RDONLY | O_CLOEXEC);
         StatusOr<Digest> digest = store().WriteBlobFromFd(fd, std::nullopt);
         ::close(fd);
         return digest;
       }},
      {moved,
       [&] {
         WriteFile(temp_ / "moved", moved);
         return store().WriteBlobFromPath(temp_ / "moved", true, std::nullopt);
       }},
      {copied,
       [&] {
         WriteFile(temp_ / "copied", copied);
         return store().WriteBlobFromPath(temp_ / "copied", false, std::nullopt);
       }},
  };
  for (const Case& test : cases) {
    const Digest digest = DigestOfBytes(test.content);
    const std::string object = ObjectPath(digest);
    // The damaged object, made by hand: the right name, a prefix of the bytes.
    MakeDir(object.substr(0, object.rfind('/')));
    WriteFile(object, test.content.substr(0, 7), 0644);
    ASSERT_EQ(Shell("truncate -s 5 " + object + " && chmod 0444 " + object), 0);
    ASSERT_OK_AND_ASSIGN(bool before, store().Contains(digest));
    EXPECT_FALSE(before) << "an object of the wrong size counts as missing";

    ASSERT_OK_AND_ASSIGN(Digest written, test.write());
    EXPECT_EQ(written, digest);
    ASSERT_OK_AND_ASSIGN(bool after, store().Contains(digest));
    EXPECT_TRUE(after) << test.content.size() << "-byte blob was not replaced";
    ASSERT_OK_AND_ASSIGN(std::string data, store().ReadBlob(digest, 0, 0));
    EXPECT_TRUE(data == test.content) << test.content.size() << "-byte blob reads back wrong";
    struct stat st = Lstat(object);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0444u) << "objects stay read-only";
    EXPECT_EQ(st.st_mtime, 1321009871);
  }
  ASSERT_OK_AND_ASSIGN(VerifyReport report, store().Verify(false));
  EXPECT_EQ(report.problems, 0u) << report.lines;
  // No temporary file is left behind by a replacement.
  EXPECT_EQ(Shell("test -z \"$(ls -A " + StorePath() + "/tmp)\""), 0);
}

TEST_F(CasTest, SomethingOtherThanAFileUnderAnObjectsNameIsReplacedByTheNextWrite) {
  const std::string linked = "an object name that is a symlink";
  const std::string directory = "an object name that is a directory";
  WriteFile(temp_ / "elsewhere", linked);
  MakeDir(
      ObjectPath(DigestOfBytes(linked)).substr(0, ObjectPath(DigestOfBytes(linked)).rfind('/')));
  MakeSymlink(temp_ / "elsewhere", ObjectPath(DigestOfBytes(linked)));
  MakeDir(ObjectPath(DigestOfBytes(directory))
              .substr(0, ObjectPath(DigestOfBytes(directory)).rfind('/')));
  MakeDir(ObjectPath(DigestOfBytes(directory)));
  for (const std::string& content : {linked, directory}) {
    ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(content, std::nullopt));
    struct stat st = Lstat(ObjectPath(digest));
    EXPECT_TRUE(S_ISREG(st.st_mode)) << content;
    EXPECT_EQ(st.st_mode & 07777, 0444u) << content;
    ASSERT_OK_AND_ASSIGN(std::string data, store().ReadBlob(digest, 0, 0));
    EXPECT_EQ(data, content);
  }
  EXPECT_EQ(ReadFile(temp_ / "elsewhere"), linked) << "the symlink's target was written through";
  ASSERT_OK_AND_ASSIGN(VerifyReport report, store().Verify(false));
  EXPECT_EQ(report.problems, 0u) << report.lines;
}

TEST_F(CasTest, AnIntactObjectIsKeptWhenTheSameBytesAreWrittenAgain) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("kept as it is", std::nullopt));
  ino_t inode = Lstat(ObjectPath(digest)).st_ino;
  WriteFile(temp_ / "again", "kept as it is");
  ASSERT_OK_AND_ASSIGN(Digest moved,
                       store().WriteBlobFromPath(temp_ / "again", true, std::nullopt));
  EXPECT_EQ(moved, digest);
  EXPECT_FALSE(Exists(temp_ / "again"));
  EXPECT_EQ(Lstat(ObjectPath(digest)).st_ino, inode);
}

TEST_F(CasTest, WritingFromAPathNeverFollowsASymlink) {
  WriteFile(temp_ / "target", "behind a symlink");
  MakeSymlink(temp_ / "target", temp_ / "link");
  StatusOr<Digest> digest = store().WriteBlobFromPath(temp_ / "link", false, std::nullopt);
  EXPECT_EQ(digest.status().code(), Code::kInvalidArgument) << digest.status().ToString();
  EXPECT_THAT(digest.status().message(), HasSubstr("symbolic link"));
  ASSERT_OK_AND_ASSIGN(bool stored, store().Contains(DigestOfBytes("behind a symlink")));
  EXPECT_FALSE(stored);
  StatusOr<Digest> moved = store().WriteBlobFromPath(temp_ / "link", true, std::nullopt);
  EXPECT_FALSE(moved.ok());
  EXPECT_TRUE(Exists(temp_ / "link"));
  EXPECT_EQ(ReadFile(temp_ / "target"), "behind a symlink");
  // A regular file is stored as before.
  ASSERT_OK_AND_ASSIGN(Digest regular,
                       store().WriteBlobFromPath(temp_ / "target", false, std::nullopt));
  EXPECT_EQ(regular, DigestOfBytes("behind a symlink"));
}

TEST_F(CasTest, BitFlippedObjectIsReportedByVerifyAndThenMissing) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("precious bytes", std::nullopt));
  ASSERT_OK_AND_ASSIGN(Digest truncated, store().WriteBlob("will be truncated", std::nullopt));
  ASSERT_EQ(Shell("chmod u+w " + ObjectPath(digest) + " && printf 'X' | dd of=" +
                  ObjectPath(digest) + " bs=1 seek=3 conv=notrunc status=none"),
            0);
  ASSERT_EQ(
      Shell("chmod u+w " + ObjectPath(truncated) + " && truncate -s 5 " + ObjectPath(truncated)),
      0);
  ASSERT_OK_AND_ASSIGN(VerifyReport report, store().Verify(true));
  EXPECT_EQ(report.problems, 2u);
  EXPECT_THAT(report.lines, HasSubstr(digest.hash()));
  EXPECT_THAT(report.lines, HasSubstr(truncated.hash()));
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing, store().FindMissing({digest, truncated}));
  EXPECT_EQ(missing.size(), 2u);
  ASSERT_OK_AND_ASSIGN(VerifyReport again, store().Verify(false));
  EXPECT_EQ(again.problems, 0u);
}

TEST_F(CasTest, CorruptObjectReadWholeIsRemovedAndReportedNotFound) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("abcdef", std::nullopt));
  ASSERT_EQ(
      Shell("chmod u+w " + ObjectPath(digest) + " && printf 'abcdeX' > " + ObjectPath(digest)), 0);
  StatusOr<std::string> data = store().ReadBlob(digest, 0, 0);
  EXPECT_EQ(data.status().code(), Code::kNotFound);
  EXPECT_THAT(data.status().message(), HasSubstr("corrupt"));
  EXPECT_FALSE(Exists(ObjectPath(digest)));
}

TEST_F(CasTest, ActionResultRoundTripsOnlyWhenItsBlobsArePresent) {
  ASSERT_OK_AND_ASSIGN(Digest out, store().WriteBlob("output", std::nullopt));
  Digest action = DigestOfBytes("action");
  ActionResult result;
  auto* file = result.add_output_files();
  file->set_path("out.txt");
  *file->mutable_digest() = out;
  result.set_exit_code(3);
  ASSERT_OK(store().UpdateActionResult("", action, result));
  ASSERT_OK_AND_ASSIGN(ActionResult back, store().GetActionResult("", action));
  EXPECT_EQ(back.exit_code(), 3);
  EXPECT_EQ(back.output_files(0).digest(), out);

  ActionResult dangling;
  *dangling.add_output_files()->mutable_digest() = DigestOfBytes("absent");
  Status status = store().UpdateActionResult("", DigestOfBytes("action2"), dangling);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr(DigestToString(DigestOfBytes("absent"))));

  StatusOr<ActionResult> miss = store().GetActionResult("", DigestOfBytes("unknown action"));
  EXPECT_EQ(miss.status().code(), Code::kNotFound);
}

TEST_F(CasTest, ActionResultWhoseBlobWasRemovedIsAMiss) {
  ASSERT_OK_AND_ASSIGN(Digest out, store().WriteBlob("evicted output", std::nullopt));
  ActionResult result;
  *result.mutable_stdout_digest() = out;
  ASSERT_OK(store().UpdateActionResult("", DigestOfBytes("act"), result));
  ASSERT_EQ(::unlink(ObjectPath(out).c_str()), 0);
  StatusOr<ActionResult> back = store().GetActionResult("", DigestOfBytes("act"));
  EXPECT_EQ(back.status().code(), Code::kNotFound);
  EXPECT_THAT(back.status().message(), HasSubstr(DigestToString(out)));
}

TEST_F(CasTest, ReferenceRoundTripsAndSurvivesReopening) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("artifact", std::nullopt));
  ASSERT_OK(store().SetReference("artifacts/project/element/key1", digest));
  Reopen("");
  ASSERT_OK_AND_ASSIGN(Digest back, store().GetReference("artifacts/project/element/key1"));
  EXPECT_EQ(back, digest);
  ASSERT_OK_AND_ASSIGN(StorageStats stats, store().Stats());
  EXPECT_EQ(stats.reference_count, 1u);
  StatusOr<Digest> unset = store().GetReference("artifacts/project/element/other");
  EXPECT_EQ(unset.status().code(), Code::kNotFound);
}

TEST_F(CasTest, ReferenceNamesThatCouldEscapeAreInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("x", std::nullopt));
  for (std::string name : {"", "../escape", "a//b", "a/./b", "/absolute", "a/..", "trailing/"}) {
    Status status = store().SetReference(name, digest);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << name;
    EXPECT_THAT(status.message(), HasSubstr("'" + name + "'")) << name;
  }
  EXPECT_FALSE(Exists(temp_ / "escape"));
}

TEST_F(CasTest, StatsCountObjectsActionResultsAndQuota) {
  Reopen("quota: 10M\nlow-watermark: 0.5\n");
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("counted", std::nullopt));
  ActionResult result;
  *result.mutable_stdout_digest() = digest;
  ASSERT_OK(store().UpdateActionResult("", DigestOfBytes("a"), result));
  ASSERT_OK_AND_ASSIGN(StorageStats stats, store().Stats());
  EXPECT_EQ(stats.object_count, 2u);  // the empty blob and "counted"
  EXPECT_EQ(stats.total_bytes, 7u);
  EXPECT_EQ(stats.action_result_count, 1u);
  EXPECT_EQ(stats.quota_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(stats.low_watermark_bytes, 5u * 1024 * 1024);
}

TEST(CasOptions, UnknownOptionIsInvalidArgumentNamingIt) {
  TempDir temp;
  auto opened = LoadedStore::Open(PluginPath(), "path: " + temp.path() + "\nqouta: 1G\n");
  EXPECT_EQ(opened.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(opened.status().message(), HasSubstr("qouta"));
}

TEST(CasOptions, MissingPathIsInvalidArgument) {
  auto opened = LoadedStore::Open(PluginPath(), "quota: 1G\n");
  EXPECT_EQ(opened.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(opened.status().message(), HasSubstr("path"));
}

TEST(CasOptions, PercentageQuotaIsResolvedAgainstTheFilesystem) {
  TempDir temp;
  auto opened = LoadedStore::Open(PluginPath(), "path: " + temp.path() + "\nquota: 50%\n");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_OK_AND_ASSIGN(StorageStats stats, (*opened)->storage().Stats());
  EXPECT_GT(stats.quota_bytes, 0u);
  auto bad = LoadedStore::Open(PluginPath(), "path: " + temp.path() + "\nquota: 150%\n");
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::testing
