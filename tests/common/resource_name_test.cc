#include "cairn/resource_name.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

using Compressor = BlobResourceName::Compressor;
using DigestFunction = BlobResourceName::DigestFunction;

const std::string kHash(64, 'a');

void ExpectMalformed(const StatusOr<BlobResourceName>& parsed, const std::string& part) {
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(part), std::string::npos) << parsed.status().message();
}

TEST(ResourceNameTest, PlainReadNameWithoutInstanceGivesTheDigest) {
  StatusOr<BlobResourceName> name = ParseReadResourceName("blobs/" + kHash + "/42");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(name->instance_name, "");
  EXPECT_EQ(name->digest, MakeDigest(kHash, 42));
  EXPECT_EQ(name->compressor, Compressor::IDENTITY);
  EXPECT_EQ(name->digest_function, DigestFunction::UNKNOWN);
}

TEST(ResourceNameTest, InstanceNameMaySpanSeveralSegments) {
  StatusOr<BlobResourceName> name = ParseReadResourceName("main/linux/blobs/" + kHash + "/0");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(name->instance_name, "main/linux");
}

TEST(ResourceNameTest, CompressedReadNameGivesTheCompressorAndTheUncompressedDigest) {
  StatusOr<BlobResourceName> name =
      ParseReadResourceName("i/compressed-blobs/zstd/" + kHash + "/1000");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(name->compressor, Compressor::ZSTD);
  EXPECT_EQ(name->digest.size_bytes(), 1000);
}

TEST(ResourceNameTest, NamedDigestFunctionIsRecognised) {
  StatusOr<BlobResourceName> name = ParseReadResourceName("blobs/blake3/" + kHash + "/5");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(name->digest_function, DigestFunction::BLAKE3);
}

TEST(ResourceNameTest, DigestFunctionThatMustBeLeftOutIsRefused) {
  ExpectMalformed(ParseReadResourceName("blobs/sha256/" + kHash + "/5"),
                  "'sha256' must be left out");
}

TEST(ResourceNameTest, WriteNameGivesUploadIdAndMetadata) {
  StatusOr<BlobResourceName> name = ParseWriteResourceName(
      "inst/uploads/3f0c1a2e-1111-4222-8333-944445555666/compressed-blobs/deflate/" + kHash +
      "/7/some/metadata");
  ASSERT_TRUE(name.ok()) << name.status().ToString();
  EXPECT_EQ(name->instance_name, "inst");
  EXPECT_EQ(name->upload_id, "3f0c1a2e-1111-4222-8333-944445555666");
  EXPECT_EQ(name->compressor, Compressor::DEFLATE);
  EXPECT_EQ(name->digest, MakeDigest(kHash, 7));
  EXPECT_EQ(name->metadata, "some/metadata");
}

TEST(ResourceNameTest, ReadNameWithAnythingAfterTheSizeIsRefused) {
  ExpectMalformed(ParseReadResourceName("blobs/" + kHash + "/7/extra"),
                  "unexpected 'extra' after the size");
}

TEST(ResourceNameTest, UploadNameIsRefusedWhereAReadNameIsExpected) {
  ExpectMalformed(ParseReadResourceName("uploads/u/blobs/" + kHash + "/7"), "an upload name");
}

TEST(ResourceNameTest, ReadNameIsRefusedWhereAWriteNameIsExpected) {
  ExpectMalformed(ParseWriteResourceName("blobs/" + kHash + "/7"), "needs 'uploads/{uuid}/'");
}

TEST(ResourceNameTest, IdentityCompressorIsNeverNamed) {
  ExpectMalformed(ParseReadResourceName("compressed-blobs/identity/" + kHash + "/7"),
                  "'identity' is never named");
}

TEST(ResourceNameTest, UnknownOrUppercaseCompressorIsRefused) {
  ExpectMalformed(ParseReadResourceName("compressed-blobs/lzma/" + kHash + "/7"),
                  "unknown compressor 'lzma'");
  ExpectMalformed(ParseReadResourceName("compressed-blobs/ZSTD/" + kHash + "/7"),
                  "unknown compressor 'ZSTD'");
}

TEST(ResourceNameTest, MalformedHashOrSizeIsRefused) {
  ExpectMalformed(ParseReadResourceName("blobs/" + std::string(64, 'A') + "/7"), "lowercase hex");
  ExpectMalformed(ParseReadResourceName("blobs/abc/7"), "lowercase hex");
  ExpectMalformed(ParseReadResourceName("blobs/" + kHash + "/-7"), "non-negative decimal");
  ExpectMalformed(ParseReadResourceName("blobs/" + kHash + "/"), "non-negative decimal");
  ExpectMalformed(ParseReadResourceName("blobs/" + kHash + "/99999999999999999999"),
                  "non-negative decimal");
  ExpectMalformed(ParseReadResourceName("blobs/" + kHash), "expected {hash}/{size}");
}

TEST(ResourceNameTest, EmptyInstanceSegmentOrMissingKeywordIsRefused) {
  ExpectMalformed(ParseReadResourceName("/blobs/" + kHash + "/7"), "empty segment");
  ExpectMalformed(ParseReadResourceName("a//blobs/" + kHash + "/7"), "empty segment");
  ExpectMalformed(ParseReadResourceName("a/b/c"), "expected 'blobs/'");
  ExpectMalformed(ParseWriteResourceName("uploads//blobs/" + kHash + "/7"), "uploads/{uuid}");
}

TEST(ResourceNameTest, LongMalformedNameIsShortenedInTheMessage) {
  StatusOr<BlobResourceName> name = ParseReadResourceName(std::string(100000, 'x'));
  ASSERT_FALSE(name.ok());
  EXPECT_LT(name.status().message().size(), 400u);
}

TEST(ResourceNameTest, FormattedNamesParseBackToTheSameFields) {
  BlobResourceName name;
  name.instance_name = "a/b";
  name.upload_id = "u-1";
  name.compressor = Compressor::BROTLI;
  name.digest_function = DigestFunction::SHA256TREE;
  name.digest = MakeDigest(kHash, 12);
  name.metadata = "meta";
  std::string write = FormatWriteResourceName(name);
  EXPECT_EQ(write, "a/b/uploads/u-1/compressed-blobs/brotli/sha256tree/" + kHash + "/12/meta");
  StatusOr<BlobResourceName> back = ParseWriteResourceName(write);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->metadata, "meta");
  EXPECT_EQ(back->digest_function, DigestFunction::SHA256TREE);
  std::string read = FormatReadResourceName(name);
  EXPECT_EQ(read, "a/b/compressed-blobs/brotli/sha256tree/" + kHash + "/12");
  EXPECT_TRUE(ParseReadResourceName(read).ok());
}

}  // namespace
}  // namespace cairn
