// Resumable uploads (ByteStream Write) of the real cas-local plugin,
// driven through the C ABI.
#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>

#include "cas_test_util.h"

namespace cairn::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Content(size_t size, char seed) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(seed + i * 7 % 251);
  return data;
}

TEST_F(CasTest, UploadInThreeChunksResumesAfterTheStoreIsReopened) {
  std::string data = Content(3 * 70000, 'u');
  Digest digest = DigestOfBytes(data);
  ASSERT_OK_AND_ASSIGN(UploadStatus first,
                       store().UploadWrite("upload-1", digest, 0, data.substr(0, 70000), false));
  EXPECT_EQ(first.committed_size, 70000u);
  EXPECT_FALSE(first.complete);
  ASSERT_OK_AND_ASSIGN(UploadStatus second, store().UploadWrite("upload-1", digest, 70000,
                                                                data.substr(70000, 70000), false));
  EXPECT_EQ(second.committed_size, 140000u);
  ASSERT_OK_AND_ASSIGN(bool early, store().Contains(digest));
  EXPECT_FALSE(early) << "an unfinished upload is already an object";

  Reopen("");  // as a server restarted after a kill
  ASSERT_OK_AND_ASSIGN(UploadStatus resumed, store().QueryUpload("upload-1", digest));
  EXPECT_EQ(resumed.committed_size, 140000u);
  EXPECT_FALSE(resumed.complete);
  ASSERT_OK_AND_ASSIGN(UploadStatus done,
                       store().UploadWrite("upload-1", digest, resumed.committed_size,
                                           data.substr(resumed.committed_size), true));
  EXPECT_EQ(done.committed_size, data.size());
  EXPECT_TRUE(done.complete);
  ASSERT_OK_AND_ASSIGN(std::string back, store().ReadBlob(digest, 0, 0));
  EXPECT_TRUE(back == data);
  ASSERT_OK_AND_ASSIGN(UploadStatus after, store().QueryUpload("upload-1", digest));
  EXPECT_TRUE(after.complete);
  EXPECT_EQ(Lstat(ObjectPath(digest)).st_mode & 07777, 0444u);
}

TEST_F(CasTest, UploadOfManySmallChunksFinishesWithAnEmptyLastWrite) {
  std::string data = Content(4 << 20, 'm');
  Digest digest = DigestOfBytes(data);
  for (size_t offset = 0; offset < data.size(); offset += 65536) {
    ASSERT_OK(
        store().UploadWrite("many", digest, offset, data.substr(offset, 65536), false).status());
  }
  ASSERT_OK_AND_ASSIGN(UploadStatus done,
                       store().UploadWrite("many", digest, data.size(), "", true));
  EXPECT_TRUE(done.complete);
  ASSERT_OK_AND_ASSIGN(std::string back, store().ReadBlob(digest, 0, 0));
  EXPECT_TRUE(back == data);
}

TEST_F(CasTest, WriteAtAnOffsetOtherThanTheCommittedSizeIsInvalidArgumentNamingBoth) {
  std::string data = Content(100, 'o');
  Digest digest = DigestOfBytes(data);
  ASSERT_OK(store().UploadWrite("offsets", digest, 0, data.substr(0, 37), false).status());
  StatusOr<UploadStatus> behind =
      store().UploadWrite("offsets", digest, 12, data.substr(12), false);
  EXPECT_EQ(behind.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(behind.status().message(), AllOf(HasSubstr("12"), HasSubstr("37")));
  StatusOr<UploadStatus> ahead = store().UploadWrite("offsets", digest, 50, data.substr(50), true);
  EXPECT_EQ(ahead.status().code(), Code::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(UploadStatus kept, store().QueryUpload("offsets", digest));
  EXPECT_EQ(kept.committed_size, 37u) << "a refused write changed the upload";
}

TEST_F(CasTest, FinishingWithBytesOfAnotherDigestIsInvalidArgumentAndDiscardsTheUpload) {
  std::string expected_data = "the bytes the client promised";
  std::string sent_data = "the bytes the client did send";
  ASSERT_EQ(expected_data.size(), sent_data.size());
  Digest expected = DigestOfBytes(expected_data);
  ASSERT_OK(store().UploadWrite("mismatch", expected, 0, sent_data.substr(0, 10), false).status());
  StatusOr<UploadStatus> finished =
      store().UploadWrite("mismatch", expected, 10, sent_data.substr(10), true);
  EXPECT_EQ(finished.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(finished.status().message(), HasSubstr(DigestToString(DigestOfBytes(sent_data))));
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing,
                       store().FindMissing({expected, DigestOfBytes(sent_data)}));
  EXPECT_EQ(missing.size(), 2u) << "mismatched bytes became an object";
  ASSERT_OK_AND_ASSIGN(UploadStatus discarded, store().QueryUpload("mismatch", expected));
  EXPECT_EQ(discarded.committed_size, 0u);
}

TEST_F(CasTest, FinishingBeforeAllBytesArrivedIsInvalidArgumentAndDiscardsTheUpload) {
  std::string data = Content(64, 's');
  Digest digest = DigestOfBytes(data);
  StatusOr<UploadStatus> finished =
      store().UploadWrite("short", digest, 0, data.substr(0, 40), true);
  EXPECT_EQ(finished.status().code(), Code::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(UploadStatus discarded, store().QueryUpload("short", digest));
  EXPECT_EQ(discarded.committed_size, 0u);
}

TEST_F(CasTest, UploadOfABlobAlreadyPresentCompletesAtOnceWithItsFullSize) {
  std::string data = Content(5000, 'p');
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(data, std::nullopt));
  ASSERT_OK_AND_ASSIGN(UploadStatus status,
                       store().UploadWrite("present", digest, 0, data.substr(0, 100), false));
  EXPECT_EQ(status.committed_size, 5000u);
  EXPECT_TRUE(status.complete);
  ASSERT_OK_AND_ASSIGN(UploadStatus queried, store().QueryUpload("present", digest));
  EXPECT_TRUE(queried.complete);
  EXPECT_FALSE(Exists(StorePath() + "/uploads/present"));
}

TEST_F(CasTest, AbortedUploadStartsAgainFromZero) {
  std::string data = Content(300, 'a');
  Digest digest = DigestOfBytes(data);
  ASSERT_OK(store().UploadWrite("aborted", digest, 0, data.substr(0, 100), false).status());
  ASSERT_OK(store().AbortUpload("aborted"));
  ASSERT_OK_AND_ASSIGN(UploadStatus status, store().QueryUpload("aborted", digest));
  EXPECT_EQ(status.committed_size, 0u);
  EXPECT_EQ(store().UploadWrite("aborted", digest, 100, data.substr(100), true).status().code(),
            Code::kInvalidArgument);
  ASSERT_OK(store().AbortUpload("never-started"));
}

TEST_F(CasTest, UploadIdThatIsNotASafeFileNameIsInvalidArgument) {
  Digest digest = DigestOfBytes("x");
  for (const char* id : {"", "../escape", "a/b", ".hidden", "sp ace"}) {
    EXPECT_EQ(store().UploadWrite(id, digest, 0, "x", true).status().code(), Code::kInvalidArgument)
        << "upload id '" << id << "'";
    EXPECT_EQ(store().AbortUpload(id).code(), Code::kInvalidArgument) << "upload id '" << id << "'";
  }
  EXPECT_FALSE(Exists(temp_ / "escape"));
}

TEST_F(CasTest, UploadLeftUntouchedForMoreThanADayIsRemovedWhenTheStoreOpens) {
  std::string data = Content(200, 'l');
  Digest digest = DigestOfBytes(data);
  ASSERT_OK(store().UploadWrite("abandoned", digest, 0, data.substr(0, 50), false).status());
  ASSERT_OK(store().UploadWrite("recent", digest, 0, data.substr(0, 60), false).status());
  struct timespec two_days_ago[2];
  two_days_ago[0].tv_sec = two_days_ago[1].tv_sec = std::time(nullptr) - 2 * 24 * 3600;
  two_days_ago[0].tv_nsec = two_days_ago[1].tv_nsec = 0;
  std::string abandoned = StorePath() + "/uploads/abandoned";
  ASSERT_EQ(::utimensat(AT_FDCWD, abandoned.c_str(), two_days_ago, 0), 0);
  Reopen("");
  ASSERT_OK_AND_ASSIGN(UploadStatus removed, store().QueryUpload("abandoned", digest));
  EXPECT_EQ(removed.committed_size, 0u);
  ASSERT_OK_AND_ASSIGN(UploadStatus kept, store().QueryUpload("recent", digest));
  EXPECT_EQ(kept.committed_size, 60u);
}

}  // namespace
}  // namespace cairn::testing
