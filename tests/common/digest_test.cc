#include "cairn/digest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

namespace cairn {
namespace {

TEST(DigestTest, EmptyBlobHasTheWellKnownSha256) {
  Digest digest = DigestOfBytes("");
  EXPECT_EQ(digest.hash(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(digest.size_bytes(), 0);
  EXPECT_TRUE(IsEmptyDigest(digest));
}

TEST(DigestTest, HelloMatchesSha256sum) {
  EXPECT_EQ(DigestToString(DigestOfBytes("hello")),
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824/5");
}

TEST(DigestTest, FileDigestEqualsBytesDigest) {
  char path[] = "/tmp/cairn-digest-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string data(3 << 20, 'x');
  ASSERT_EQ(write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  close(fd);
  StatusOr<Digest> digest = DigestOfFile(path);
  unlink(path);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_EQ(*digest, DigestOfBytes(data));
}

TEST(DigestTest, ParseDigestRoundTripsAndRejectsMalformedHashesNamingThem) {
  Digest hello = DigestOfBytes("hello");
  StatusOr<Digest> parsed = ParseDigest(DigestToString(hello));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, hello);

  StatusOr<Digest> upper =
      ParseDigest("2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824/5");
  EXPECT_EQ(upper.status().code(), Code::kInvalidArgument);
  EXPECT_NE(upper.status().message().find("2CF24DBA"), std::string::npos);
  EXPECT_EQ(ParseDigest("abc/5").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseDigest("no-size").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseDigest(std::string(64, 'a') + "/-1").status().code(), Code::kInvalidArgument);
}

TEST(DigestTest, DigestFromWireRejectsBytesThatAreNotADigest) {
  EXPECT_EQ(DigestFromWire("\xff\xff\xff").status().code(), Code::kInvalidArgument);
  Digest hello = DigestOfBytes("hello");
  StatusOr<Digest> back = DigestFromWire(DigestToWire(hello));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, hello);
}

TEST(DigestTest, AnExpectedDigestIsCheckedAndAMismatchSaysWhatDiffers) {
  Digest actual = DigestOfBytes("hello");
  EXPECT_TRUE(CheckExpectedDigest(actual, std::nullopt).ok());
  EXPECT_TRUE(CheckExpectedDigest(actual, actual).ok());
  Status longer = CheckExpectedDigest(actual, MakeDigest(actual.hash(), 6), "out.txt");
  EXPECT_EQ(longer.code(), Code::kInvalidArgument);
  EXPECT_NE(longer.message().find("does not match out.txt: 5 bytes were given, not 6"),
            std::string::npos)
      << longer.message();
  Status other = CheckExpectedDigest(actual, DigestOfBytes("world"));
  EXPECT_NE(
      other.message().find("does not match the data, which hashes to " + DigestToString(actual)),
      std::string::npos)
      << other.message();
  EXPECT_EQ(CheckExpectedDigest(actual, MakeDigest("nothex", 5)).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cairn
