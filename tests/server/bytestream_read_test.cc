// ByteStream Read against the real server: whole blobs in bounded
// messages, offsets and limits, missing and empty blobs, the resource
// names a read refuses, and the routing header that must match the name.
#include <string>
#include <vector>

#include "bytestream_support.h"

namespace cairn::server {
namespace {

TEST_F(ByteStreamTest, ReadReturnsTheWholeBlobInBoundedMessages) {
  StartServer();
  std::string data = Noise(3 * kMiB + 17);
  Digest digest = DigestOfBytes(data);
  ASSERT_TRUE(Write(WriteName(digest), data, kMiB).status.ok());
  ReadOutcome read = Read(ReadName(digest));
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  EXPECT_TRUE(read.data == data);
  EXPECT_GE(read.messages, 4) << "3 MiB came in fewer messages than 1 MiB chunks make";
}

TEST_F(ByteStreamTest, ReadHonoursOffsetAndLimit) {
  StartServer();
  std::string data = Text(10000);
  Digest digest = Upload(data);
  ReadOutcome from_offset = Read(ReadName(digest), 1234);
  ASSERT_TRUE(from_offset.status.ok()) << from_offset.status.error_message();
  EXPECT_EQ(from_offset.data, data.substr(1234));
  ReadOutcome limited = Read(ReadName(digest), 100, 50);
  ASSERT_TRUE(limited.status.ok()) << limited.status.error_message();
  EXPECT_EQ(limited.data, data.substr(100, 50));
  ReadOutcome past_limit = Read(ReadName(digest), 9990, 500);
  ASSERT_TRUE(past_limit.status.ok());
  EXPECT_EQ(past_limit.data, data.substr(9990));
  ReadOutcome at_end = Read(ReadName(digest), 10000);
  ASSERT_TRUE(at_end.status.ok()) << at_end.status.error_message();
  EXPECT_EQ(at_end.data, "");
}

TEST_F(ByteStreamTest, ReadOffsetsOutsideTheBlobAreOutOfRangeAndANegativeLimitIsRefused) {
  StartServer();
  Digest digest = Upload("twelve bytes");
  ReadOutcome past = Read(ReadName(digest), 13);
  EXPECT_EQ(past.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(past.status.error_message().find("read_offset 13"), std::string::npos)
      << past.status.error_message();
  ReadOutcome negative = Read(ReadName(digest), -1);
  EXPECT_EQ(negative.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_NE(negative.status.error_message().find("read_offset"), std::string::npos);
  ReadOutcome negative_limit = Read(ReadName(digest), 0, -1);
  EXPECT_EQ(negative_limit.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(negative_limit.status.error_message().find("read_limit"), std::string::npos);
}

TEST_F(ByteStreamTest, ReadOfAMissingBlobIsNotFoundAndTheEmptyBlobIsAlwaysThere) {
  StartServer();
  Digest absent = DigestOfBytes("never uploaded");
  ReadOutcome missing = Read(ReadName(absent));
  EXPECT_EQ(missing.status.error_code(), grpc::StatusCode::NOT_FOUND)
      << missing.status.error_message();
  EXPECT_EQ(Read(ZstdReadName(absent)).status.error_code(), grpc::StatusCode::NOT_FOUND);
  ReadOutcome empty = Read(ReadName(EmptyDigest()));
  ASSERT_TRUE(empty.status.ok()) << empty.status.error_message();
  EXPECT_EQ(empty.data, "");
  ReadOutcome empty_zstd = Read(ZstdReadName(EmptyDigest()));
  ASSERT_TRUE(empty_zstd.status.ok()) << empty_zstd.status.error_message();
  EXPECT_EQ(Decompress(empty_zstd.data, 0), "");
}

TEST_F(ByteStreamTest, MalformedReadNamesAreInvalidArgumentNamingTheResource) {
  StartServer();
  Digest digest = Upload("a blob that exists");
  const std::string& hash = digest.hash();
  const std::string size = std::to_string(digest.size_bytes());
  struct Case {
    std::string name;
    std::string mentions;  // in the message
  };
  const std::vector<Case> cases = {
      {"", "resource_name"},
      {"blobs/" + hash, "resource_name"},
      {"blobs/" + hash + "/" + size + "/extra", "resource_name"},
      {"blobs/" + hash.substr(1) + "/" + size, "resource_name"},
      {"blobs/" + hash + "/-1", "resource_name"},
      {"blobs/" + hash + "/twelve", "resource_name"},
      {"blobs/ABCDEF" + hash.substr(6) + "/" + size, "resource_name"},
      {"../blobs/" + hash + "/" + size, "resource_name"},
      {"x/../blobs/" + hash + "/" + size, "resource_name"},
      {"blobs/../" + hash + "/" + size, "resource_name"},
      {"/blobs/" + hash + "/" + size, "resource_name"},
      {"blobs//" + hash + "/" + size, "resource_name"},
      {"compressed-blobs/deflate/" + hash + "/" + size, "resource_name"},
      {"compressed-blobs/identity/" + hash + "/" + size, "resource_name"},
      {"compressed-blobs/" + hash + "/" + size, "resource_name"},
      {"blobs/blake3/" + hash + "/" + size, "resource_name"},
      {"uploads/u/blobs/" + hash + "/" + size, "resource_name"},
      {"digests/" + hash + "/" + size, "resource_name"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("read of '" + c.name + "'");
    ReadOutcome read = Read(c.name);
    EXPECT_EQ(read.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << read.status.error_message();
    EXPECT_NE(read.status.error_message().find(c.mentions), std::string::npos)
        << read.status.error_message();
    EXPECT_EQ(read.data, "");
  }
  // Still serving.
  ReadOutcome good = Read(ReadName(digest));
  ASSERT_TRUE(good.status.ok());
  EXPECT_EQ(good.data, "a blob that exists");
}

TEST_F(ByteStreamTest, ARoutingHeaderMustEqualTheResourceName) {
  StartServer();
  Digest digest = Upload("routed");
  for (bool same : {true, false}) {
    SCOPED_TRACE(same ? "same" : "different");
    bytestream::ReadRequest request;
    request.set_resource_name(ReadName(digest));
    auto context = Context();
    context->AddMetadata("build.bazel.remote.execution.v2.resource-name",
                         same ? ReadName(digest) : ReadName(DigestOfBytes("elsewhere")));
    auto reader = bytestream_->Read(context.get(), request);
    bytestream::ReadResponse response;
    std::string data;
    while (reader->Read(&response)) data += response.data();
    grpc::Status status = reader->Finish();
    if (same) {
      ASSERT_TRUE(status.ok()) << status.error_message();
      EXPECT_EQ(data, "routed");
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_NE(status.error_message().find("resource-name"), std::string::npos)
          << status.error_message();
    }
  }
}

}  // namespace
}  // namespace cairn::server
