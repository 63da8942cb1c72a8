// Blobs, action results and references of the real cas-local plugin,
// driven through the C ABI.
#include <fcntl.h>
#include <unistd.h>

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
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlobFromPath(temp_ / "big", false, std::nullopt));
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
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlobFromPath(temp_ / "moved", true, std::nullopt));
  EXPECT_FALSE(Exists(temp_ / "moved"));
  EXPECT_EQ(ReadFile(ObjectPath(digest)), "moved content");
  EXPECT_EQ(Lstat(ObjectPath(digest)).st_mode & 0777, 0444u);
}

TEST_F(CasTest, BitFlippedObjectIsReportedByVerifyAndThenMissing) {
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob("precious bytes", std::nullopt));
  ASSERT_OK_AND_ASSIGN(Digest truncated, store().WriteBlob("will be truncated", std::nullopt));
  ASSERT_EQ(Shell("chmod u+w " + ObjectPath(digest) + " && printf 'X' | dd of=" +
                  ObjectPath(digest) + " bs=1 seek=3 conv=notrunc status=none"), 0);
  ASSERT_EQ(Shell("chmod u+w " + ObjectPath(truncated) + " && truncate -s 5 " + ObjectPath(truncated)), 0);
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
  ASSERT_EQ(Shell("chmod u+w " + ObjectPath(digest) + " && printf 'abcdeX' > " + ObjectPath(digest)), 0);
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
  ASSERT_OK(store().UpdateActionResult(action, result));
  ASSERT_OK_AND_ASSIGN(ActionResult back, store().GetActionResult(action));
  EXPECT_EQ(back.exit_code(), 3);
  EXPECT_EQ(back.output_files(0).digest(), out);

  ActionResult dangling;
  *dangling.add_output_files()->mutable_digest() = DigestOfBytes("absent");
  Status status = store().UpdateActionResult(DigestOfBytes("action2"), dangling);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr(DigestToString(DigestOfBytes("absent"))));

  StatusOr<ActionResult> miss = store().GetActionResult(DigestOfBytes("unknown action"));
  EXPECT_EQ(miss.status().code(), Code::kNotFound);
}

TEST_F(CasTest, ActionResultWhoseBlobWasRemovedIsAMiss) {
  ASSERT_OK_AND_ASSIGN(Digest out, store().WriteBlob("evicted output", std::nullopt));
  ActionResult result;
  *result.mutable_stdout_digest() = out;
  ASSERT_OK(store().UpdateActionResult(DigestOfBytes("act"), result));
  ASSERT_EQ(::unlink(ObjectPath(out).c_str()), 0);
  StatusOr<ActionResult> back = store().GetActionResult(DigestOfBytes("act"));
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
  ASSERT_OK(store().UpdateActionResult(DigestOfBytes("a"), result));
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
