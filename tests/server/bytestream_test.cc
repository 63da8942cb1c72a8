// google.bytestream.ByteStream: reads with offsets and limits, chunked and
// resumable writes, compressed-blobs/zstd both ways, instance names, and
// the resource names and offsets the server refuses.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "server_fixture.h"
#include "server_process.h"

namespace cairn::server {
namespace {

namespace bytestream = google::bytestream;

constexpr size_t kMiB = 1 << 20;
constexpr char kOtherInstance[] = "other";

// `size` bytes of deterministic noise (zstd cannot shrink it).
std::string Noise(size_t size, uint32_t seed = 1) {
  std::mt19937 generator(seed);
  std::string data(size, '\0');
  for (char& byte : data) byte = static_cast<char>(generator());
  return data;
}

// `size` bytes zstd shrinks a lot: numbered lines.
std::string Text(size_t size) {
  std::string data;
  for (int line = 0; data.size() < size; ++line) {
    data += "line " + std::to_string(line) + " of a build log\n";
  }
  data.resize(size);
  return data;
}

std::string Compress(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(size));
  out.resize(ZSTD_isError(size) ? 0 : size);
  return out;
}

std::string Decompress(const std::string& data, size_t size) {
  std::string out(size, '\0');
  size_t produced = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  EXPECT_FALSE(ZSTD_isError(produced)) << ZSTD_getErrorName(produced);
  out.resize(ZSTD_isError(produced) ? 0 : produced);
  return out;
}

std::string Prefix(const std::string& instance) { return instance.empty() ? "" : instance + "/"; }

std::string ReadName(const Digest& digest, const std::string& instance = "") {
  return Prefix(instance) + "blobs/" + digest.hash() + "/" + std::to_string(digest.size_bytes());
}
std::string ZstdReadName(const Digest& digest, const std::string& instance = "") {
  return Prefix(instance) + "compressed-blobs/zstd/" + digest.hash() + "/" +
         std::to_string(digest.size_bytes());
}
std::string WriteName(const Digest& digest,
                      const std::string& uuid = "7c2b1a5e-0d3f-4f6a-9b8e-1c2d3e4f5a6b",
                      const std::string& instance = "") {
  return Prefix(instance) + "uploads/" + uuid + "/" + ReadName(digest);
}
std::string ZstdWriteName(const Digest& digest,
                          const std::string& uuid = "5f0e9d8c-7b6a-4954-8382-716051403f2e",
                          const std::string& instance = "") {
  return Prefix(instance) + "uploads/" + uuid + "/" + ZstdReadName(digest);
}

struct ReadOutcome {
  grpc::Status status;
  std::string data;
  int messages = 0;
};

struct WriteOutcome {
  grpc::Status status;
  int64_t committed_size = 0;
};

class ByteStreamTest : public ServerTest {
 protected:
  ReadOutcome Read(const std::string& resource, int64_t offset = 0, int64_t limit = 0) {
    bytestream::ReadRequest request;
    request.set_resource_name(resource);
    request.set_read_offset(offset);
    request.set_read_limit(limit);
    auto context = Context();
    auto reader = bytestream_->Read(context.get(), request);
    ReadOutcome outcome;
    bytestream::ReadResponse response;
    while (reader->Read(&response)) {
      EXPECT_LE(response.data().size(), 4 * kMiB) << "a message near gRPC's limit";
      outcome.data += response.data();
      ++outcome.messages;
    }
    outcome.status = reader->Finish();
    return outcome;
  }

  // Sends `data` in `chunk`-byte messages starting at `first_offset`, the
  // last one with finish_write when `finish`; with `name_every_message`
  // every message repeats the resource name.
  WriteOutcome Write(const std::string& resource, const std::string& data, size_t chunk,
                     int64_t first_offset = 0, bool finish = true,
                     bool name_every_message = false) {
    auto context = Context();
    WriteOutcome outcome;
    bytestream::WriteResponse response;
    auto writer = bytestream_->Write(context.get(), &response);
    size_t sent = 0;
    do {
      bytestream::WriteRequest request;
      if (sent == 0 || name_every_message) request.set_resource_name(resource);
      request.set_write_offset(first_offset + static_cast<int64_t>(sent));
      size_t piece = std::min(chunk, data.size() - sent);
      request.set_data(data.substr(sent, piece));
      sent += piece;
      request.set_finish_write(finish && sent == data.size());
      if (!writer->Write(request)) break;  // the server ended the call
    } while (sent < data.size());
    writer->WritesDone();
    outcome.status = writer->Finish();
    outcome.committed_size = response.committed_size();
    return outcome;
  }

  // Sends the WriteRequests as given and returns the outcome.
  WriteOutcome WriteMessages(const std::vector<bytestream::WriteRequest>& requests) {
    auto context = Context();
    WriteOutcome outcome;
    bytestream::WriteResponse response;
    auto writer = bytestream_->Write(context.get(), &response);
    for (const auto& request : requests) {
      if (!writer->Write(request)) break;
    }
    writer->WritesDone();
    outcome.status = writer->Finish();
    outcome.committed_size = response.committed_size();
    return outcome;
  }

  bytestream::QueryWriteStatusResponse Query(const std::string& resource) {
    bytestream::QueryWriteStatusRequest request;
    request.set_resource_name(resource);
    bytestream::QueryWriteStatusResponse response;
    grpc::Status status = bytestream_->QueryWriteStatus(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  bool Missing(const Digest& digest) {
    reapi::FindMissingBlobsRequest request;
    *request.add_blob_digests() = digest;
    reapi::FindMissingBlobsResponse response;
    grpc::Status status = cas_->FindMissingBlobs(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.missing_blob_digests_size() == 1;
  }
};

// Two instances: the default one and kOtherInstance.
void TwoInstances(ServerConfig& config) {
  InstanceConfig plain;
  InstanceConfig other;
  other.name = kOtherInstance;
  config.instances = {plain, other};
}

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

// Chunk `index` of a large blob of noise: one MiB of noise made once,
// numbered so no two chunks are equal.
std::string NumberedChunk(const std::string& noise, uint64_t index) {
  std::string piece = noise;
  std::memcpy(piece.data(), &index, sizeof(index));
  return piece;
}

TEST_F(ByteStreamTest, GiBWritesAndReadsKeepTheServersMemoryFarBelowTheBlobSize) {
  constexpr uint64_t kChunks = 1024;
  // The server holds one message and one MiB chunk per call, and gRPC at
  // most one fixed receive window per stream (measured here: 43 MiB in
  // all, 23 of them before any upload). A server that held the blob, or a
  // part growing with it, would pass a GiB.
  constexpr uint64_t kBound = 100 * kMiB;
  std::string config = dir_.Write("server.yaml",
                                  "listen: [grpc://127.0.0.1:0]\n"
                                  "cache-dir: " +
                                      dir_.path() +
                                      "/cache\n"
                                      "sandbox: {plugin: none}\n"
                                      "plugin-paths: [" CAIRN_PLUGIN_DIR "]\n");
  ServerProcess server;
  ASSERT_TRUE(server.Start(config, dir_.path() + "/server.log"));
  channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server.port()),
                                 grpc::InsecureChannelCredentials());
  bytestream_ = bytestream::ByteStream::NewStub(channel_);

  // The client makes, hashes, sends and checks everything a MiB at a time.
  const std::string noise = Noise(kMiB, 3);
  Sha256 hasher;
  for (uint64_t i = 0; i < kChunks; ++i) hasher.Update(NumberedChunk(noise, i));
  Digest noise_digest = MakeDigest(hasher.FinishHex(), kChunks * kMiB);
  const std::string zeros(kMiB, '\0');
  for (uint64_t i = 0; i < kChunks; ++i) hasher.Update(zeros);
  Digest zeros_digest = MakeDigest(hasher.FinishHex(), kChunks * kMiB);
  // A GiB of zeros in one small zstd message: the server must not expand
  // it in one go.
  ZSTD_CCtx* compressor = ZSTD_createCCtx();
  std::string bomb;
  std::string out(ZSTD_CStreamOutSize(), '\0');
  for (uint64_t i = 0; i < kChunks; ++i) {
    ZSTD_inBuffer in{zeros.data(), zeros.size(), 0};
    bool last = i + 1 == kChunks;
    size_t remaining = 0;
    do {
      ZSTD_outBuffer output{out.data(), out.size(), 0};
      remaining =
          ZSTD_compressStream2(compressor, &output, &in, last ? ZSTD_e_end : ZSTD_e_continue);
      ASSERT_FALSE(ZSTD_isError(remaining));
      bomb.append(out.data(), output.pos);
    } while (last ? remaining != 0 : in.pos < in.size);
  }
  ZSTD_freeCCtx(compressor);
  ASSERT_LT(bomb.size(), kMiB);

  {
    auto client = Context(300);
    bytestream::WriteResponse response;
    auto writer = bytestream_->Write(client.get(), &response);
    for (uint64_t i = 0; i < kChunks; ++i) {
      bytestream::WriteRequest request;
      if (i == 0) request.set_resource_name(WriteName(noise_digest));
      request.set_write_offset(static_cast<int64_t>(i * kMiB));
      request.set_data(NumberedChunk(noise, i));
      request.set_finish_write(i + 1 == kChunks);
      ASSERT_TRUE(writer->Write(request));
    }
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.committed_size(), noise_digest.size_bytes());
  }
  WriteOutcome bombed = Write(ZstdWriteName(zeros_digest), bomb, bomb.size());
  ASSERT_TRUE(bombed.status.ok()) << bombed.status.error_message();

  for (const std::string& resource : {ReadName(noise_digest), ZstdReadName(zeros_digest)}) {
    SCOPED_TRACE(resource);
    bool compressed = resource.find("zstd") != std::string::npos;
    bytestream::ReadRequest request;
    request.set_resource_name(resource);
    auto client = Context(300);
    auto reader = bytestream_->Read(client.get(), request);
    ZSTD_DCtx* decompressor = ZSTD_createDCtx();
    std::string plain(ZSTD_DStreamOutSize(), '\0');
    bytestream::ReadResponse response;
    while (reader->Read(&response)) {
      if (!compressed) {
        hasher.Update(response.data());
        continue;
      }
      ZSTD_inBuffer in{response.data().data(), response.data().size(), 0};
      while (in.pos < in.size) {
        ZSTD_outBuffer output{plain.data(), plain.size(), 0};
        ASSERT_FALSE(ZSTD_isError(ZSTD_decompressStream(decompressor, &output, &in)));
        hasher.Update(plain.data(), output.pos);
      }
    }
    ZSTD_freeDCtx(decompressor);
    grpc::Status status = reader->Finish();
    ASSERT_TRUE(status.ok()) << status.error_message();
    uint64_t read = hasher.bytes();
    EXPECT_EQ(hasher.FinishHex(), (compressed ? zeros_digest : noise_digest).hash());
    EXPECT_EQ(read, kChunks * kMiB);
  }

  uint64_t peak = server.MemoryBytes("VmHWM");
  ASSERT_NE(peak, 0u);
  EXPECT_LT(peak, kBound) << "the server's resident set peaked at " << peak / kMiB << " MiB";
  RecordProperty("server_peak_rss_mib", static_cast<int>(peak / kMiB));
}

}  // namespace
}  // namespace cairn::server
