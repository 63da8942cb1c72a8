// ByteStream Write and QueryWriteStatus against the real server: chunked
// writes, wrong content, interrupted writes resumed at the committed size,
// uploads kept apart by instance and blob, present blobs completed at
// once, and the resource names and broken streams a write refuses.
#include <string>
#include <vector>

#include "bytestream_support.h"

namespace cairn::server {
namespace {

TEST_F(ByteStreamTest, AChunkedWriteOfTwentyMiBIsStoredAndReadBack) {
  StartServer();
  std::string data = Noise(20 * kMiB, 7);
  Digest digest = DigestOfBytes(data);
  ASSERT_TRUE(Missing(digest));
  WriteOutcome written = Write(WriteName(digest), data, 64 * 1024, 0, true,
                               /*name_every_message=*/true);
  ASSERT_TRUE(written.status.ok()) << written.status.error_message();
  EXPECT_EQ(written.committed_size, digest.size_bytes());
  EXPECT_FALSE(Missing(digest));
  ReadOutcome read = Read(ReadName(digest));
  ASSERT_TRUE(read.status.ok()) << read.status.error_message();
  EXPECT_TRUE(read.data == data);
  auto status = Query(WriteName(digest));
  EXPECT_EQ(status.committed_size(), digest.size_bytes());
  EXPECT_TRUE(status.complete());
}

TEST_F(ByteStreamTest, WrongContentIsInvalidArgumentNamingTheDigestAndNothingIsStored) {
  StartServer();
  std::string data = Text(300000);
  Digest digest = DigestOfBytes(data);
  std::string wrong = data;
  wrong[150000] ^= 1;
  WriteOutcome written = Write(WriteName(digest), wrong, 100000);
  EXPECT_EQ(written.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(written.status.error_message().find(digest.hash()), std::string::npos)
      << written.status.error_message();
  EXPECT_TRUE(Missing(digest));
  EXPECT_TRUE(Missing(DigestOfBytes(wrong)));
  EXPECT_EQ(Read(ReadName(digest)).status.error_code(), grpc::StatusCode::NOT_FOUND);
  // The refused upload is gone: a fresh one of the right bytes succeeds.
  EXPECT_EQ(Query(WriteName(digest)).committed_size(), 0);
  ASSERT_TRUE(Write(WriteName(digest), data, 100000).status.ok());
  EXPECT_FALSE(Missing(digest));
}

TEST_F(ByteStreamTest, AnInterruptedWriteResumesAtTheCommittedSize) {
  StartServer();
  std::string data = Noise(5 * kMiB + 3, 11);
  Digest digest = DigestOfBytes(data);
  std::string resource = WriteName(digest);
  EXPECT_EQ(Query(resource).committed_size(), 0);
  EXPECT_FALSE(Query(resource).complete());

  // The first stream ends after half the blob without finish_write.
  size_t half = data.size() / 2;
  WriteOutcome first = Write(resource, data.substr(0, half), kMiB, 0, /*finish=*/false);
  EXPECT_EQ(first.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(first.status.error_message().find("finish_write"), std::string::npos)
      << first.status.error_message();
  auto status = Query(resource);
  EXPECT_EQ(status.committed_size(), static_cast<int64_t>(half));
  EXPECT_FALSE(status.complete());
  EXPECT_TRUE(Missing(digest));

  // A second stream continues from there.
  int64_t committed = status.committed_size();
  WriteOutcome second = Write(resource, data.substr(committed), kMiB, committed);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_EQ(second.committed_size, digest.size_bytes());
  status = Query(resource);
  EXPECT_EQ(status.committed_size(), digest.size_bytes());
  EXPECT_TRUE(status.complete());
  ReadOutcome read = Read(ReadName(digest));
  ASSERT_TRUE(read.status.ok());
  EXPECT_TRUE(read.data == data);
}

TEST_F(ByteStreamTest, ResumingAtAnOffsetOtherThanTheCommittedSizeIsRefusedButZeroStartsOver) {
  StartServer();
  std::string data = Text(100000);
  Digest digest = DigestOfBytes(data);
  std::string resource = WriteName(digest);
  Write(resource, data.substr(0, 40000), 10000, 0, /*finish=*/false);
  ASSERT_EQ(Query(resource).committed_size(), 40000);
  WriteOutcome wrong = Write(resource, data.substr(30000), 10000, 30000);
  EXPECT_EQ(wrong.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(wrong.status.error_message().find("write_offset"), std::string::npos)
      << wrong.status.error_message();
  EXPECT_EQ(Query(resource).committed_size(), 40000);
  WriteOutcome again = Write(resource, data, 30000, 0);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_FALSE(Missing(digest));
}

TEST_F(ByteStreamTest, UploadsOfTheSameUuidInOtherInstancesOrForOtherBlobsAreSeparate) {
  StartServer(TwoInstances);
  std::string first = Text(50000);
  std::string second = Noise(50000);
  const std::string uuid = "11111111-2222-4333-8444-555555555555";
  Write(WriteName(DigestOfBytes(first), uuid), first.substr(0, 20000), 20000, 0, false);
  Write(WriteName(DigestOfBytes(second), uuid), second.substr(0, 30000), 30000, 0, false);
  Write(WriteName(DigestOfBytes(first), uuid, kOtherInstance), first.substr(0, 10000), 10000, 0,
        false);
  EXPECT_EQ(Query(WriteName(DigestOfBytes(first), uuid)).committed_size(), 20000);
  EXPECT_EQ(Query(WriteName(DigestOfBytes(second), uuid)).committed_size(), 30000);
  EXPECT_EQ(Query(WriteName(DigestOfBytes(first), uuid, kOtherInstance)).committed_size(), 10000);
}

TEST_F(ByteStreamTest, AWriteOfAPresentBlobCompletesWithoutWaitingForTheData) {
  StartServer();
  std::string data = Text(200000);
  Digest digest = Upload(data);
  for (bool compressed : {false, true}) {
    SCOPED_TRACE(compressed ? "compressed" : "plain");
    // One message without finish_write, and the stream left open: only a
    // server that answers at once lets Finish return before the deadline.
    auto context = Context(20);
    bytestream::WriteResponse response;
    auto writer = bytestream_->Write(context.get(), &response);
    bytestream::WriteRequest request;
    request.set_resource_name(compressed ? ZstdWriteName(digest) : WriteName(digest));
    request.set_data(compressed ? Compress(data.substr(0, 1000)) : data.substr(0, 1000));
    writer->Write(request);
    grpc::Status status = writer->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.committed_size(), compressed ? -1 : digest.size_bytes());
  }
  auto status = Query(WriteName(digest, "another-uuid"));
  EXPECT_EQ(status.committed_size(), digest.size_bytes());
  EXPECT_TRUE(status.complete());
}

TEST_F(ByteStreamTest, TheEmptyBlobIsWrittenWithOneFinishingMessage) {
  StartServer();
  WriteOutcome written = Write(WriteName(EmptyDigest()), "", 1);
  ASSERT_TRUE(written.status.ok()) << written.status.error_message();
  EXPECT_EQ(written.committed_size, 0);
  EXPECT_TRUE(Query(WriteName(EmptyDigest())).complete());
}

TEST_F(ByteStreamTest, MalformedWriteNamesAreRefusedAndStoreNothing) {
  StartServer([](ServerConfig& config) { config.limits.max_blob_size = 1 << 20; });
  std::string data = "content that must not be stored";
  Digest digest = DigestOfBytes(data);
  const std::string& hash = digest.hash();
  const std::string size = std::to_string(digest.size_bytes());
  const std::vector<std::string> names = {
      "",
      "blobs/" + hash + "/" + size,
      "uploads/blobs/" + hash + "/" + size,
      "uploads//blobs/" + hash + "/" + size,
      "uploads/u/" + hash + "/" + size,
      "uploads/u/blobs/" + hash,
      "uploads/u/blobs/" + hash + "/x" + size,
      "uploads/u/blobs/" + hash.substr(0, 63) + "/" + size,
      "uploads/u/blobs/sha256/" + hash + "/" + size,
      "uploads/u/blobs/blake3/" + hash + "/" + size,
      "uploads/u/compressed-blobs/brotli/" + hash + "/" + size,
      "uploads/u/compressed-blobs/zstd/" + hash,
      "../uploads/u/blobs/" + hash + "/" + size,
      "nope/uploads/u/blobs/" + hash + "/" + size,
      // Larger than max-blob-size.
      "uploads/u/blobs/" + hash + "/" + std::to_string(2 << 20),
  };
  for (const std::string& name : names) {
    SCOPED_TRACE("write of '" + name + "'");
    WriteOutcome written = Write(name, data, 10);
    EXPECT_EQ(written.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << written.status.error_message();
    EXPECT_NE(written.status.error_message().find("resource_name"), std::string::npos)
        << written.status.error_message();
    bytestream::QueryWriteStatusRequest request;
    request.set_resource_name(name);
    bytestream::QueryWriteStatusResponse response;
    EXPECT_EQ(bytestream_->QueryWriteStatus(Context().get(), request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_TRUE(Missing(digest));
  ASSERT_TRUE(Write(WriteName(digest), data, 10).status.ok());
  EXPECT_FALSE(Missing(digest));
}

TEST_F(ByteStreamTest, BrokenStreamsAreRefusedNamingTheField) {
  StartServer();
  std::string data = Text(1000);
  Digest digest = DigestOfBytes(data);
  const std::string resource = WriteName(digest);
  auto message = [](const std::string& name, int64_t offset, const std::string& data, bool finish) {
    bytestream::WriteRequest request;
    request.set_resource_name(name);
    request.set_write_offset(offset);
    request.set_data(data);
    request.set_finish_write(finish);
    return request;
  };
  struct Case {
    std::string what;
    std::vector<bytestream::WriteRequest> messages;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"no name on the first message", {message("", 0, data, true)}, "resource_name"},
      {"another name later",
       {message(resource, 0, data.substr(0, 500), false),
        message(WriteName(digest, "other-uuid"), 500, data.substr(500), true)},
       "resource_name"},
      {"a gap in the offsets",
       {message(resource, 0, data.substr(0, 500), false), message("", 600, data.substr(500), true)},
       "write_offset"},
      {"an offset going back",
       {message(resource, 0, data.substr(0, 500), false), message("", 400, data.substr(500), true)},
       "write_offset"},
      {"a negative first offset", {message(resource, -1, data, true)}, "write_offset"},
      {"a first offset neither 0 nor the committed size",
       {message(resource, 10, data, true)},
       "write_offset"},
      {"a first offset past the end", {message(resource, 5000, "", true)}, "write_offset"},
      {"more data than the size", {message(resource, 0, data + "extra", true)}, "data"},
      {"finish_write short of the size",
       {message(resource, 0, data.substr(0, 999), true)},
       digest.hash()},
      {"no finish_write", {message(resource, 0, data, false)}, "finish_write"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    WriteOutcome written = WriteMessages(c.messages);
    EXPECT_EQ(written.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << written.status.error_message();
    EXPECT_NE(written.status.error_message().find(c.field), std::string::npos)
        << written.status.error_message();
    EXPECT_TRUE(Missing(digest));
  }
  ASSERT_TRUE(Write(resource, data, 100).status.ok());
  EXPECT_FALSE(Missing(digest));
}

}  // namespace
}  // namespace cairn::server
