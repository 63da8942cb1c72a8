// What the ByteStream tests share: blobs of noise and of text, zstd both
// ways, the resource names of reads and uploads (plain and
// compressed-blobs/zstd, with an instance name or without), and
// ByteStreamTest, a ServerTest that reads, writes (in chunks, resumed or
// not) and queries uploads against the real server with a deadline on
// every call.
#ifndef CAIRN_TESTS_SERVER_BYTESTREAM_SUPPORT_H
#define CAIRN_TESTS_SERVER_BYTESTREAM_SUPPORT_H

#include <zstd.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "server_fixture.h"

namespace cairn::server {

namespace bytestream = google::bytestream;

inline constexpr size_t kMiB = 1 << 20;
inline constexpr char kOtherInstance[] = "other";

// `size` bytes of deterministic noise (zstd cannot shrink it).
inline std::string Noise(size_t size, uint32_t seed = 1) {
  std::mt19937 generator(seed);
  std::string data(size, '\0');
  for (char& byte : data) byte = static_cast<char>(generator());
  return data;
}

// `size` bytes zstd shrinks a lot: numbered lines.
inline std::string Text(size_t size) {
  std::string data;
  for (int line = 0; data.size() < size; ++line) {
    data += "line " + std::to_string(line) + " of a build log\n";
  }
  data.resize(size);
  return data;
}

inline std::string Compress(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(size));
  out.resize(ZSTD_isError(size) ? 0 : size);
  return out;
}

inline std::string Decompress(const std::string& data, size_t size) {
  std::string out(size, '\0');
  size_t produced = ZSTD_decompress(out.data(), out.size(), data.data(), data.size());
  EXPECT_FALSE(ZSTD_isError(produced)) << ZSTD_getErrorName(produced);
  out.resize(ZSTD_isError(produced) ? 0 : produced);
  return out;
}

inline std::string Prefix(const std::string& instance) {
  return instance.empty() ? "" : instance + "/";
}

inline std::string ReadName(const Digest& digest, const std::string& instance = "") {
  return Prefix(instance) + "blobs/" + digest.hash() + "/" + std::to_string(digest.size_bytes());
}
inline std::string ZstdReadName(const Digest& digest, const std::string& instance = "") {
  return Prefix(instance) + "compressed-blobs/zstd/" + digest.hash() + "/" +
         std::to_string(digest.size_bytes());
}
inline std::string WriteName(const Digest& digest,
                             const std::string& uuid = "7c2b1a5e-0d3f-4f6a-9b8e-1c2d3e4f5a6b",
                             const std::string& instance = "") {
  return Prefix(instance) + "uploads/" + uuid + "/" + ReadName(digest);
}
inline std::string ZstdWriteName(const Digest& digest,
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
inline void TwoInstances(ServerConfig& config) {
  InstanceConfig plain;
  InstanceConfig other;
  other.name = kOtherInstance;
  config.instances = {plain, other};
}

}  // namespace cairn::server

#endif  // CAIRN_TESTS_SERVER_BYTESTREAM_SUPPORT_H
