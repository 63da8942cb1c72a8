// upload_rows.cc — row 1 of server_bench: a large ByteStream Write.
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/remote_client/remote_connection.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "server_rows.h"

namespace cairn::bench {

namespace {

namespace bytestream = google::bytestream;

constexpr size_t kChunkBytes = 1 << 20;

// A large blob made one chunk at a time: a random 1 MiB pattern (per seed)
// with every 4 KiB page stamped with its chunk and page number, so no two
// pages of the blob are alike, none of it is held in memory, and making a
// chunk costs 256 stores instead of a pass of random generation that would
// be timed with the upload.
class GeneratedBlob {
 public:
  GeneratedBlob(uint64_t seed, uint64_t size) : seed_(seed), size_(size), pattern_(kChunkBytes, 0) {
    uint64_t state = seed;
    for (size_t i = 0; i < kChunkBytes; i += 8) {
      uint64_t word = SplitMix64(&state);
      std::memcpy(&pattern_[i], &word, 8);
    }
  }
  uint64_t size() const { return size_; }
  size_t chunks() const { return (size_ + kChunkBytes - 1) / kChunkBytes; }

  // Chunk `index` (the last may be short); valid until the next call.
  std::string_view Chunk(size_t index) {
    for (size_t page = 0; page < kChunkBytes / 4096; ++page) {
      uint64_t stamp = seed_ ^ (static_cast<uint64_t>(index) << 20) ^ page;
      std::memcpy(&pattern_[page * 4096], &stamp, 8);
    }
    uint64_t offset = static_cast<uint64_t>(index) * kChunkBytes;
    return std::string_view(pattern_).substr(0, std::min<uint64_t>(kChunkBytes, size_ - offset));
  }

 private:
  uint64_t seed_;
  uint64_t size_;
  std::string pattern_;
};

// The baseline: OpenSSL EVP SHA-256 over the blob's chunks on this thread.
Digest HashWithOpenSsl(GeneratedBlob& blob, double* seconds) {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  *seconds = SecondsOf([&] {
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
    for (size_t i = 0; i < blob.chunks(); ++i) {
      std::string_view chunk = blob.Chunk(i);
      EVP_DigestUpdate(context, chunk.data(), chunk.size());
    }
    EVP_DigestFinal_ex(context, hash, &length);
    EVP_MD_CTX_free(context);
  });
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[hash[i] >> 4];
    hex += kHex[hash[i] & 15];
  }
  return MakeDigest(hex, static_cast<int64_t>(blob.size()));
}

// One ByteStream Write of the whole blob, a 1 MiB message at a time.
// Returns the seconds between the last message and the server's answer
// (what the server does after the last byte: verify and commit).
double Upload(bytestream::ByteStream::Stub& stub, GeneratedBlob& blob, const Digest& digest) {
  auto context = Context(600);
  bytestream::WriteResponse response;
  std::unique_ptr<grpc::ClientWriter<bytestream::WriteRequest>> writer =
      stub.Write(context.get(), &response);
  bytestream::WriteRequest request;
  request.set_resource_name("uploads/" + remote_client::RandomUuid() + "/blobs/" + digest.hash() +
                            "/" + std::to_string(digest.size_bytes()));
  uint64_t offset = 0;
  for (size_t i = 0; i < blob.chunks(); ++i) {
    std::string_view chunk = blob.Chunk(i);
    request.set_write_offset(static_cast<int64_t>(offset));
    request.set_data(chunk.data(), chunk.size());
    request.set_finish_write(i + 1 == blob.chunks());
    if (!writer->Write(request)) break;  // the server ended the call; Finish says why
    request.clear_resource_name();
    offset += chunk.size();
  }
  writer->WritesDone();
  double finishing =
      SecondsOf([&] { Check(writer->Finish(), "ByteStream Write of " + DigestToString(digest)); });
  if (response.committed_size() != digest.size_bytes()) {
    throw BenchError("ByteStream Write of " + DigestToString(digest) + " committed " +
                     std::to_string(response.committed_size()) + " bytes");
  }
  return finishing;
}

// Context, not a target: write() of the blob's chunks into the new file
// `path` (no fsync). Any store that keeps the blob on that filesystem pays
// this; on a VM it varies with how fresh the page-cache pages are, and can
// cost more than hashing. The file is kept until the row ends, as the
// uploaded blob is, so neither writes into pages the other just freed.
double WriteToFile(GeneratedBlob& blob, const std::string& path) {
  return SyncedSecondsOf([&] {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw BenchError("cannot create " + path + ": " + std::strerror(errno));
    for (size_t i = 0; i < blob.chunks(); ++i) {
      std::string_view chunk = blob.Chunk(i);
      if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) {
        ::close(fd);
        throw BenchError("cannot write " + path + ": " + std::strerror(errno));
      }
    }
    ::close(fd);
  });
}

}  // namespace

void UploadRows(const Settings& settings, const std::string& dir, ServerProcess& server,
                const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = bytestream::ByteStream::NewStub(channel);
  auto cas = reapi::ContentAddressableStorage::NewStub(channel);
  uint64_t size = settings.upload_mib << 20;
  uint64_t memory_before = server.PeakMemoryBytes();
  std::vector<double> hash_seconds, write_seconds, upload_seconds, finish_seconds;
  std::vector<double> server_user, server_system;
  std::vector<Digest> uploaded;
  std::vector<std::string> floor_files;
  for (int run = 0; run < settings.upload_runs; ++run) {
    // A new blob each run: a second upload of a present blob may complete
    // at once, which would time nothing.
    GeneratedBlob blob(0x5eed0000 + static_cast<uint64_t>(run), size);
    double hashing = 0;
    Digest digest = HashWithOpenSsl(blob, &hashing);
    ServerProcess::CpuTimes cpu_before = server.CpuSeconds();
    double uploading =
        SyncedSecondsOf([&] { finish_seconds.push_back(Upload(*stub, blob, digest)); });
    ServerProcess::CpuTimes cpu_after = server.CpuSeconds();
    server_user.push_back(cpu_after.user - cpu_before.user);
    server_system.push_back(cpu_after.system - cpu_before.system);
    hash_seconds.push_back(hashing);
    upload_seconds.push_back(uploading);
    std::string floor_file = dir + "/write-floor-" + std::to_string(run);
    write_seconds.push_back(WriteToFile(blob, floor_file));
    floor_files.push_back(floor_file);
    uploaded.push_back(digest);
  }
  for (const std::string& path : floor_files) ::unlink(path.c_str());
  if (CountMissing(*cas, uploaded) != 0) throw BenchError("an uploaded blob is missing");
  double upload_rate = size / Median(upload_seconds) / kMiB;
  double hash_rate = size / Median(hash_seconds) / kMiB;
  // Throughput ratio = the baseline's seconds over the upload's.
  double ratio = MedianRatio(hash_seconds, upload_seconds);
  Row("ByteStream Write " + std::to_string(settings.upload_mib) + " MiB, 1 MiB messages",
      Format("%.0f MiB/s", upload_rate), Format("SHA-256 %.0f MiB/s", hash_rate), ratio,
      "target >= 0.5", ratio >= 0.5);
  std::printf(
      "  %-46s (medians of %d runs: %.2f s a run, %.2f s of it after the last\n"
      "  %-46s  message; server CPU a run: %.2f s user, %.2f s system)\n",
      "", settings.upload_runs, Median(upload_seconds), Median(finish_seconds), "",
      Median(server_user), Median(server_system));
  double write_rate = size / Median(write_seconds) / kMiB;
  Row("  context: write() of the same bytes to a file", Format("%.0f MiB/s", write_rate),
      "in the cache dir's filesystem", MedianRatio(write_seconds, upload_seconds), "no target", -1);
  double peak = server.PeakMemoryBytes() / kMiB;
  Row("server peak memory (VmHWM) after the uploads", Format("%.1f MiB", peak),
      Format("before them %.1f MiB", memory_before / kMiB), -1, "target < 100 MiB", peak < 100);
}

}  // namespace cairn::bench
