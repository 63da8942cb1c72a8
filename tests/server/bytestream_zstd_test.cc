// ByteStream's compressed-blobs/zstd against the real server: writes and
// reads round-trip (offsets counting uncompressed bytes), a resumed write
// starts a fresh frame, data that is not the blob's zstd is refused, and
// every instance serves both forms.
#include <string>

#include "bytestream_support.h"

namespace cairn::server {
namespace {

TEST_F(ByteStreamTest, ZstdWritesAndReadsRoundTrip) {
  StartServer();
  std::string data = Text(6 * kMiB + 5);
  Digest digest = DigestOfBytes(data);
  std::string compressed = Compress(data);
  ASSERT_LT(compressed.size(), data.size() / 4);
  // write_offset counts compressed bytes after the first message.
  WriteOutcome written = Write(ZstdWriteName(digest), compressed, 16 * 1024);
  ASSERT_TRUE(written.status.ok()) << written.status.error_message();
  EXPECT_EQ(written.committed_size, digest.size_bytes());
  EXPECT_FALSE(Missing(digest));

  ReadOutcome plain = Read(ReadName(digest));
  ASSERT_TRUE(plain.status.ok());
  EXPECT_TRUE(plain.data == data);
  ReadOutcome zstd = Read(ZstdReadName(digest));
  ASSERT_TRUE(zstd.status.ok()) << zstd.status.error_message();
  EXPECT_LT(zstd.data.size(), data.size() / 4);
  EXPECT_TRUE(Decompress(zstd.data, data.size()) == data);
  // read_offset counts uncompressed bytes.
  ReadOutcome tail = Read(ZstdReadName(digest), 1000000);
  ASSERT_TRUE(tail.status.ok()) << tail.status.error_message();
  EXPECT_TRUE(Decompress(tail.data, data.size()) == data.substr(1000000));
  ReadOutcome limited = Read(ZstdReadName(digest), 0, 10);
  EXPECT_EQ(limited.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(limited.status.error_message().find("read_limit"), std::string::npos);
}

TEST_F(ByteStreamTest, AZstdWriteResumesWithAFreshFrameAtTheUncompressedOffset) {
  StartServer();
  std::string data = Noise(3 * kMiB, 5);
  Digest digest = DigestOfBytes(data);
  std::string resource = ZstdWriteName(digest);
  size_t head = 2 * kMiB;
  Write(resource, Compress(data.substr(0, head)), 64 * 1024, 0, /*finish=*/false);
  auto status = Query(resource);
  ASSERT_EQ(status.committed_size(), static_cast<int64_t>(head));
  WriteOutcome rest =
      Write(resource, Compress(data.substr(head)), 64 * 1024, status.committed_size());
  ASSERT_TRUE(rest.status.ok()) << rest.status.error_message();
  ReadOutcome read = Read(ReadName(digest));
  ASSERT_TRUE(read.status.ok());
  EXPECT_TRUE(read.data == data);
}

TEST_F(ByteStreamTest, ZstdDataThatIsNotZstdOrDecompressesWrongIsRefused) {
  StartServer();
  std::string data = Text(100000);
  Digest digest = DigestOfBytes(data);
  WriteOutcome garbage = Write(ZstdWriteName(digest), "this is not zstd at all", 1000);
  EXPECT_EQ(garbage.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(garbage.status.error_message().find("data"), std::string::npos)
      << garbage.status.error_message();
  WriteOutcome longer = Write(ZstdWriteName(digest), Compress(data + "more"), 1000);
  EXPECT_EQ(longer.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::string wrong = data;
  wrong[5] = '!';
  WriteOutcome different = Write(ZstdWriteName(digest), Compress(wrong), 1000);
  EXPECT_EQ(different.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(different.status.error_message().find(digest.hash()), std::string::npos)
      << different.status.error_message();
  // A frame cut short.
  std::string compressed = Compress(data);
  WriteOutcome cut =
      Write(ZstdWriteName(digest), compressed.substr(0, compressed.size() - 10), 1000);
  EXPECT_EQ(cut.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Missing(digest));
}

TEST_F(ByteStreamTest, BothInstancesServeBothForms) {
  StartServer(TwoInstances);
  for (const std::string instance : {"", kOtherInstance}) {
    SCOPED_TRACE("instance '" + instance + "'");
    std::string data = Text(500000) + instance;
    Digest digest = DigestOfBytes(data);
    WriteOutcome plain = Write(WriteName(digest, "a", instance), data, 100000);
    ASSERT_TRUE(plain.status.ok()) << plain.status.error_message();
    ReadOutcome read = Read(ReadName(digest, instance));
    ASSERT_TRUE(read.status.ok()) << read.status.error_message();
    EXPECT_TRUE(read.data == data);
    ReadOutcome zstd = Read(ZstdReadName(digest, instance));
    ASSERT_TRUE(zstd.status.ok()) << zstd.status.error_message();
    EXPECT_TRUE(Decompress(zstd.data, data.size()) == data);

    std::string other = Noise(200000, instance.size()) + "compressed";
    Digest other_digest = DigestOfBytes(other);
    WriteOutcome compressed =
        Write(ZstdWriteName(other_digest, "b", instance), Compress(other), 50000);
    ASSERT_TRUE(compressed.status.ok()) << compressed.status.error_message();
    auto status = Query(ZstdWriteName(other_digest, "b", instance));
    EXPECT_TRUE(status.complete());
    EXPECT_TRUE(Read(ReadName(other_digest, instance)).data == other);
  }
  Digest digest = DigestOfBytes("x");
  ReadOutcome unknown = Read(ReadName(digest, "nope"));
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(unknown.status.error_message().find("nope"), std::string::npos)
      << unknown.status.error_message();
}

}  // namespace
}  // namespace cairn::server
