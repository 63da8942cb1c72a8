// ByteStream with blobs of a GiB against a real cairn-server process:
// plain writes and reads, and a zstd bomb, all streamed, with the server's
// peak resident set far below the blob's size.
#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "bytestream_support.h"
#include "server_process.h"

namespace cairn::server {
namespace {

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
