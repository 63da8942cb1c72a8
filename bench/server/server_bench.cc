// server_bench — cairn-server against the speed targets of issue 9, each
// row next to a baseline timed in the same run. Run as root (bwrap):
//
//   server_bench [--dir DIR] [--upload-mib N] [--upload-runs N] [--rounds N]
//                [--round-trips N] [--execute-runs N] [--keep]
//
// The server is a real cairn-server process (so its memory can be read)
// on 127.0.0.1, its cache directory made under DIR (default /tmp) and
// removed afterwards; every call goes over one loopback channel. Every
// timed step that writes to disk starts after a sync(), so no side pays
// for the writeback of the one before it.
//
//  1. ByteStream Write of a 1 GiB blob in 1 MiB messages, against OpenSSL's
//     EVP SHA-256 hashing the same bytes in the same chunks on one core in
//     this process (the server must hash every byte, so that is the bound).
//     Target: throughput >= 0.5x; the server's VmHWM after it < 100 MiB.
//     The blob is generated chunk by chunk (see GeneratedBlob); its digest
//     comes from the baseline's pass, timed just before each upload.
//  2. FindMissingBlobs of 10,000 digests (half present) in one call and
//     BatchUpdateBlobs of 10,000 blobs of 100 B..1 KiB in calls filling
//     max_batch_total_size_bytes: time per digest, against the same work on
//     a cas-local store opened in this process (what the server adds over
//     the store it wraps). No target. Bazel's client-side numbers are not
//     measured.
//  3. Execute served from the action cache against GetCapabilities (medians
//     of interleaved calls): target <= 3x. Execute of /bin/true with
//     do_not_cache and skip_cache_lookup (so it runs every time) against the
//     whole `cairn run --root DIR -- /bin/true` process on the same busybox
//     root, its store and staged root warm: target <= 1.5x.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "cairn/digest.h"
#include "cairn/runtime/runtime.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "server_process.h"

namespace {

using namespace cairn;
using namespace cairn::bench;
namespace reapi = build::bazel::remote::execution::v2;
namespace bytestream = google::bytestream;

constexpr size_t kChunkBytes = 1 << 20;
constexpr double kMiB = 1 << 20;

struct Settings {
  std::string dir = "/tmp";
  uint64_t upload_mib = 1024;
  int upload_runs = 3;
  int rounds = 5;
  int small_blobs = 10000;
  int round_trips = 300;
  int execute_runs = 21;
  bool keep = false;
};

double SecondsOf(const std::function<void()>& body) {
  auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// SecondsOf, started with no dirty pages (sync first), so neither side of
// a comparison pays for the writeback of the one before it.
double SyncedSecondsOf(const std::function<void()>& body) {
  ::sync();
  return SecondsOf(body);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::unique_ptr<grpc::ClientContext> Context(int seconds) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

void Check(const grpc::Status& status, const std::string& what) {
  if (!status.ok()) {
    throw BenchError(what + " failed: code " + std::to_string(status.error_code()) + ": " +
                     status.error_message());
  }
}

// One result line; `ratio` < 0 prints none, `met` < 0 no verdict.
void Row(const std::string& what, const std::string& measured, const std::string& baseline,
         double ratio, const std::string& target, int met) {
  char ratio_text[32] = "      -";
  if (ratio >= 0) std::snprintf(ratio_text, sizeof ratio_text, "%7.2f", ratio);
  std::printf("  %-46s %-18s %-30s ratio %s  %-16s %s\n", what.c_str(), measured.c_str(),
              baseline.c_str(), ratio_text, target.c_str(),
              met < 0 ? "" : (met ? "MET" : "MISSED"));
  std::fflush(stdout);
}

std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// --- 1. ByteStream upload ---------------------------------------------------

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

std::string NewUuid() {
  std::random_device random;
  unsigned char bytes[16];
  for (unsigned char& byte : bytes) byte = static_cast<unsigned char>(random());
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
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
  request.set_resource_name("uploads/" + NewUuid() + "/blobs/" + digest.hash() + "/" +
                            std::to_string(digest.size_bytes()));
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

// Context, not a target: write() of the blob's chunks into a new file in
// `dir` (no fsync), then unlink. Any store that keeps the blob on that
// filesystem pays this; on a VM it varies with how fresh the page-cache
// pages are, and can cost more than hashing.
double WriteToFile(GeneratedBlob& blob, const std::string& dir) {
  std::string path = dir + "/write-floor";
  double seconds = SyncedSecondsOf([&] {
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
  ::unlink(path.c_str());
  return seconds;
}

size_t CountMissing(reapi::ContentAddressableStorage::Stub& cas,
                    const std::vector<Digest>& digests) {
  reapi::FindMissingBlobsRequest request;
  for (const Digest& digest : digests) *request.add_blob_digests() = digest;
  reapi::FindMissingBlobsResponse response;
  Check(cas.FindMissingBlobs(Context(60).get(), request, &response), "FindMissingBlobs");
  return static_cast<size_t>(response.missing_blob_digests_size());
}

void UploadRows(const Settings& settings, const std::string& dir, ServerProcess& server,
                const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = bytestream::ByteStream::NewStub(channel);
  auto cas = reapi::ContentAddressableStorage::NewStub(channel);
  uint64_t size = settings.upload_mib << 20;
  uint64_t memory_before = server.PeakMemoryBytes();
  std::vector<double> hash_seconds, write_seconds, upload_seconds, finish_seconds;
  std::vector<double> server_user, server_system;
  std::vector<Digest> uploaded;
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
    write_seconds.push_back(WriteToFile(blob, dir));
    uploaded.push_back(digest);
  }
  if (CountMissing(*cas, uploaded) != 0) throw BenchError("an uploaded blob is missing");
  double upload_rate = size / Median(upload_seconds) / kMiB;
  double hash_rate = size / Median(hash_seconds) / kMiB;
  Row("ByteStream Write " + std::to_string(settings.upload_mib) + " MiB, 1 MiB messages",
      Format("%.0f MiB/s", upload_rate), Format("SHA-256 %.0f MiB/s", hash_rate),
      upload_rate / hash_rate, "target >= 0.5", upload_rate / hash_rate >= 0.5);
  std::printf(
      "  %-46s (medians of %d runs: %.2f s a run, %.2f s of it after the last\n"
      "  %-46s  message; server CPU a run: %.2f s user, %.2f s system)\n",
      "", settings.upload_runs, Median(upload_seconds), Median(finish_seconds), "",
      Median(server_user), Median(server_system));
  double write_rate = size / Median(write_seconds) / kMiB;
  Row("  context: write() of the same bytes to a file", Format("%.0f MiB/s", write_rate),
      "in the cache dir's filesystem", upload_rate / write_rate, "no target", -1);
  double peak = server.PeakMemoryBytes() / kMiB;
  Row("server peak memory (VmHWM) after the uploads", Format("%.1f MiB", peak),
      Format("before them %.1f MiB", memory_before / kMiB), -1, "target < 100 MiB", peak < 100);
}

// --- 2. FindMissingBlobs and BatchUpdateBlobs -------------------------------

struct SmallBlob {
  std::string data;
  Digest digest;
};

// `count` blobs of 100 B..1 KiB, the same for the same seed.
std::vector<SmallBlob> MakeSmallBlobs(uint64_t seed, int count) {
  std::vector<SmallBlob> blobs(static_cast<size_t>(count));
  uint64_t state = seed;
  for (SmallBlob& blob : blobs) {
    blob.data.resize(100 + SplitMix64(&state) % 925);
    for (char& byte : blob.data) byte = static_cast<char>(SplitMix64(&state));
    blob.digest = DigestOfBytes(blob.data);
  }
  return blobs;
}

// Uploads `blobs` in as few BatchUpdateBlobs calls as `limit` bytes allow
// (counting a generous 100 bytes of framing per blob); returns the calls.
int BatchUpload(reapi::ContentAddressableStorage::Stub& cas, const std::vector<SmallBlob>& blobs,
                uint64_t limit) {
  int calls = 0;
  size_t next = 0;
  while (next < blobs.size()) {
    reapi::BatchUpdateBlobsRequest request;
    uint64_t bytes = 0;
    for (; next < blobs.size() && bytes + blobs[next].data.size() + 100 <= limit; ++next) {
      bytes += blobs[next].data.size() + 100;
      auto* entry = request.add_requests();
      *entry->mutable_digest() = blobs[next].digest;
      entry->set_data(blobs[next].data);
    }
    if (request.requests_size() == 0) throw BenchError("a blob is larger than the batch limit");
    reapi::BatchUpdateBlobsResponse response;
    Check(cas.BatchUpdateBlobs(Context(60).get(), request, &response), "BatchUpdateBlobs");
    for (const auto& answer : response.responses()) {
      if (answer.status().code() != 0) {
        throw BenchError("BatchUpdateBlobs of " + DigestToString(answer.digest()) + ": " +
                         answer.status().message());
      }
    }
    ++calls;
  }
  return calls;
}

void CasRows(const Settings& settings, const std::string& dir,
             const std::shared_ptr<grpc::Channel>& channel, uint64_t batch_limit) {
  auto cas = reapi::ContentAddressableStorage::NewStub(channel);
  RuntimeOptions options;
  options.storage.plugin = "cas-local";
  options.storage.options_yaml = "path: " + dir + "/local-store\n";
  Runtime runtime(options, std::make_shared<PluginRegistry>(
                               PluginRegistry::Discover({CAIRN_CAS_LOCAL_PLUGIN})));
  StatusOr<std::shared_ptr<Storage>> opened = runtime.OpenStorage();
  if (!opened.ok()) throw BenchError("opening the local store: " + opened.status().ToString());
  Storage& local = **opened;

  std::vector<double> server_update, local_update, server_find, local_find;
  int calls = 0;
  for (int round = 0; round < settings.rounds; ++round) {
    // New blobs every round, so every upload stores and every lookup finds
    // exactly the half that this round uploaded.
    std::vector<SmallBlob> blobs = MakeSmallBlobs(1000 + round, settings.small_blobs);
    std::vector<SmallBlob> absent = MakeSmallBlobs(2000 + round, settings.small_blobs / 2);
    std::vector<Digest> lookup;
    for (size_t i = 0; i < absent.size(); ++i) {
      lookup.push_back(blobs[2 * i].digest);
      lookup.push_back(absent[i].digest);
    }
    server_update.push_back(
        SyncedSecondsOf([&] { calls = BatchUpload(*cas, blobs, batch_limit); }));
    local_update.push_back(SyncedSecondsOf([&] {
      for (const SmallBlob& blob : blobs) {
        StatusOr<Digest> written = local.WriteBlob(blob.data, blob.digest);
        if (!written.ok()) throw BenchError("local WriteBlob: " + written.status().ToString());
      }
    }));
    size_t missing_remote = 0, missing_local = 0;
    server_find.push_back(SyncedSecondsOf([&] { missing_remote = CountMissing(*cas, lookup); }));
    local_find.push_back(SyncedSecondsOf([&] {
      StatusOr<std::vector<Digest>> missing = local.FindMissing(lookup);
      if (!missing.ok()) throw BenchError("local FindMissing: " + missing.status().ToString());
      missing_local = missing->size();
    }));
    if (missing_remote != absent.size() || missing_local != absent.size()) {
      throw BenchError("FindMissing answered " + std::to_string(missing_remote) + " (server) and " +
                       std::to_string(missing_local) + " (local) missing, not " +
                       std::to_string(absent.size()));
    }
  }
  double count = settings.small_blobs;
  double find = Median(server_find) / count * 1e6, find_local = Median(local_find) / count * 1e6;
  Row("FindMissingBlobs, " + std::to_string(settings.small_blobs) + " digests, 1 call",
      Format("%.2f us/digest", find), Format("in-process store %.2f us", find_local),
      find / find_local, "no target", -1);
  double update = Median(server_update) / count * 1e6;
  double update_local = Median(local_update) / count * 1e6;
  Row("BatchUpdateBlobs, " + std::to_string(settings.small_blobs) + " blobs, " +
          std::to_string(calls) + " calls",
      Format("%.2f us/blob", update), Format("in-process store %.2f us", update_local),
      update / update_local, "no target", -1);
}

// --- 3. Execute -------------------------------------------------------------

// Runs the Action; returns the gRPC status and, when OK, the response of
// the done Operation.
grpc::Status Execute(reapi::Execution::Stub& execution, const Digest& action,
                     bool skip_cache_lookup, reapi::ExecuteResponse* response) {
  reapi::ExecuteRequest request;
  *request.mutable_action_digest() = action;
  request.set_skip_cache_lookup(skip_cache_lookup);
  auto context = Context(120);
  auto reader = execution.Execute(context.get(), request);
  google::longrunning::Operation operation;
  bool done = false;
  while (reader->Read(&operation)) {
    if (operation.done()) {
      done = true;
      if (operation.has_error()) {
        return grpc::Status(grpc::StatusCode::INTERNAL,
                            "Operation.error set: " + operation.error().message());
      }
      if (!operation.response().UnpackTo(response)) {
        return grpc::Status(grpc::StatusCode::INTERNAL, "Operation.response is no ExecuteResponse");
      }
    }
  }
  grpc::Status status = reader->Finish();
  if (status.ok() && !done) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the stream ended without a done Operation");
  }
  return status;
}

void CheckRan(const reapi::ExecuteResponse& response, bool cached) {
  if (response.status().code() != 0 || response.result().exit_code() != 0 ||
      response.cached_result() != cached) {
    throw BenchError("Execute of /bin/true: status " + std::to_string(response.status().code()) +
                     " (" + response.status().message() + "), exit code " +
                     std::to_string(response.result().exit_code()) + ", cached_result " +
                     (response.cached_result() ? "true" : "false"));
  }
}

std::string ReadFile(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw BenchError("cannot read " + path + ": " + std::strerror(errno));
  std::string data;
  char buffer[65536];
  size_t got;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0) data.append(buffer, got);
  std::fclose(file);
  return data;
}

void ExecuteRows(const Settings& settings, const std::string& dir,
                 const std::shared_ptr<grpc::Channel>& channel, uint64_t batch_limit) {
  auto cas = reapi::ContentAddressableStorage::NewStub(channel);
  auto execution = reapi::Execution::NewStub(channel);
  auto capabilities = reapi::Capabilities::NewStub(channel);

  // The root on disk for `cairn run` and the same tree in the server's CAS:
  // bin/busybox (static) and bin/true -> busybox.
  std::string root = dir + "/root";
  mkdir(root.c_str(), 0755);
  mkdir((root + "/bin").c_str(), 0755);
  std::vector<SmallBlob> blobs(1);
  blobs[0].data = ReadFile("/bin/busybox");
  blobs[0].digest = DigestOfBytes(blobs[0].data);
  FILE* copy = std::fopen((root + "/bin/busybox").c_str(), "wb");
  if (copy == nullptr) throw BenchError("cannot write " + root + "/bin/busybox");
  std::fwrite(blobs[0].data.data(), 1, blobs[0].data.size(), copy);
  std::fclose(copy);
  chmod((root + "/bin/busybox").c_str(), 0755);
  if (symlink("busybox", (root + "/bin/true").c_str()) != 0) throw BenchError("symlink bin/true");

  auto add_message = [&](const google::protobuf::MessageLite& message) {
    blobs.push_back({message.SerializeAsString(), DigestOfMessage(message)});
    return blobs.back().digest;
  };
  reapi::Directory bin;
  auto* file = bin.add_files();
  file->set_name("busybox");
  *file->mutable_digest() = blobs[0].digest;
  file->set_is_executable(true);
  auto* link = bin.add_symlinks();
  link->set_name("true");
  link->set_target("busybox");
  reapi::Directory top;
  auto* bin_node = top.add_directories();
  bin_node->set_name("bin");
  *bin_node->mutable_digest() = add_message(bin);
  Digest root_digest = add_message(top);
  reapi::Command command;
  command.add_arguments("/bin/true");
  reapi::Action action;
  *action.mutable_command_digest() = add_message(command);
  *action.mutable_input_root_digest() = root_digest;
  Digest cached_action = add_message(action);
  action.set_do_not_cache(true);
  Digest uncached_action = add_message(action);
  BatchUpload(*cas, blobs, batch_limit);

  // Warm-up: the first Execute runs and caches; later ones are hits.
  reapi::ExecuteResponse response;
  grpc::Status first = Execute(*execution, cached_action, false, &response);
  if (first.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    std::printf("  Execute rows skipped: the server answers Execute with UNIMPLEMENTED (%s)\n",
                first.error_message().c_str());
    return;
  }
  Check(first, "Execute of /bin/true");
  CheckRan(response, false);

  std::vector<double> hit, capability;
  for (int i = 0; i < settings.round_trips; ++i) {
    hit.push_back(SecondsOf([&] {
      Check(Execute(*execution, cached_action, false, &response), "Execute (cache hit)");
    }));
    CheckRan(response, true);
    capability.push_back(SecondsOf([&] {
      reapi::GetCapabilitiesRequest request;
      reapi::ServerCapabilities answer;
      Check(capabilities->GetCapabilities(Context(30).get(), request, &answer), "GetCapabilities");
    }));
  }
  double hit_ms = Median(hit) * 1e3, capability_ms = Median(capability) * 1e3;
  Row("Execute, cache hit (" + std::to_string(settings.round_trips) + " calls)",
      Format("%.3f ms", hit_ms), Format("GetCapabilities %.3f ms", capability_ms),
      hit_ms / capability_ms, "target <= 3", hit_ms / capability_ms <= 3);

  std::vector<std::string> cairn_run = {CAIRN_BINARY,
                                        "--cache-dir",
                                        dir + "/cairn-cache",
                                        "--plugin-path",
                                        CAIRN_PLUGIN_DIR,
                                        "--sandbox",
                                        "bwrap",
                                        "run",
                                        "--root",
                                        root,
                                        "--",
                                        "/bin/true"};
  std::vector<std::string> environment = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir,
                                          "XDG_CONFIG_HOME=" + dir + "/config",
                                          "XDG_CACHE_HOME=" + dir + "/xdg-cache"};
  auto run_locally = [&] {
    int status = RunProcess(cairn_run, environment);
    if (status != 0) throw BenchError("cairn run exited with status " + std::to_string(status));
  };
  // Warm-up: import the root and stage it once on each side.
  for (int i = 0; i < 2; ++i) {
    run_locally();
    Check(Execute(*execution, uncached_action, true, &response), "Execute (cache miss)");
    CheckRan(response, false);
  }
  std::vector<double> miss, local;
  for (int i = 0; i < settings.execute_runs; ++i) {
    miss.push_back(SecondsOf([&] {
      Check(Execute(*execution, uncached_action, true, &response), "Execute (cache miss)");
    }));
    CheckRan(response, false);
    local.push_back(SecondsOf(run_locally));
  }
  double miss_ms = Median(miss) * 1e3, local_ms = Median(local) * 1e3;
  Row("Execute /bin/true, cache miss (" + std::to_string(settings.execute_runs) + " runs)",
      Format("%.2f ms", miss_ms), Format("cairn run %.2f ms", local_ms), miss_ms / local_ms,
      "target <= 1.5", miss_ms / local_ms <= 1.5);
}

void PrintHeader(const Settings& settings) {
  std::printf(
      "server_bench: a cairn-server process on 127.0.0.1, one client channel; medians of\n"
      "interleaved runs, each row's baseline timed in this run.\n"
      "  1. ByteStream Write of a %llu MiB blob in 1 MiB messages (generated chunk by chunk),\n"
      "     client start to WriteResponse, vs OpenSSL EVP SHA-256 of the same chunks on one\n"
      "     core in this process; %d runs, a new blob each. Peak memory: the server's VmHWM.\n"
      "  2. FindMissingBlobs of %d digests (half present) in one call; BatchUpdateBlobs of\n"
      "     %d blobs of 100 B..1 KiB in calls up to max_batch_total_size_bytes; per digest,\n"
      "     vs a cas-local store opened in this process doing the same (%d rounds). No\n"
      "     target; Bazel's client-side numbers are not measured.\n"
      "  3. Execute answered from the action cache vs GetCapabilities, %d calls each.\n"
      "     Execute of /bin/true with do_not_cache + skip_cache_lookup: the RPC on an open\n"
      "     channel (server: read Action, Command and tree, stage the root, bwrap, store\n"
      "     stdout/stderr, stream Operations) vs the whole `cairn run --root DIR -- /bin/true`\n"
      "     process (start, config, plugins, import DIR through its fingerprint cache, bwrap\n"
      "     on the warm staged root, print, exit); %d runs each, the same busybox root.\n\n",
      static_cast<unsigned long long>(settings.upload_mib), settings.upload_runs,
      settings.small_blobs, settings.small_blobs, settings.rounds, settings.round_trips,
      settings.execute_runs);
}

Settings ParseSettings(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto number = [&] {
      if (i + 1 >= argc) throw BenchError(flag + " needs a value");
      return std::atoll(argv[++i]);
    };
    if (flag == "--dir" && i + 1 < argc) {
      settings.dir = argv[++i];
    } else if (flag == "--upload-mib") {
      settings.upload_mib = static_cast<uint64_t>(number());
    } else if (flag == "--upload-runs") {
      settings.upload_runs = static_cast<int>(number());
    } else if (flag == "--rounds") {
      settings.rounds = static_cast<int>(number());
    } else if (flag == "--round-trips") {
      settings.round_trips = static_cast<int>(number());
    } else if (flag == "--execute-runs") {
      settings.execute_runs = static_cast<int>(number());
    } else if (flag == "--keep") {
      settings.keep = true;
    } else {
      throw BenchError("unknown argument " + flag + " (see the comment atop server_bench.cc)");
    }
  }
  if (settings.upload_mib == 0 || settings.upload_runs < 1 || settings.rounds < 1 ||
      settings.round_trips < 1 || settings.execute_runs < 1) {
    throw BenchError("every count must be at least 1");
  }
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  Settings settings;
  int exit_code = 0;
  try {
    settings = ParseSettings(argc, argv);
    if (geteuid() != 0) throw BenchError("run as root: the server executes in bwrap");
    std::string pattern = settings.dir + "/cairn-server-bench-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      throw BenchError("cannot make a directory in " + settings.dir + ": " + std::strerror(errno));
    }
    dir = pattern;
    PrintHeader(settings);
    auto server = ServerProcess::Start(
        CAIRN_SERVER_BINARY,
        {"--cache-dir", dir + "/server-cache", "--plugin-path", CAIRN_PLUGIN_DIR},
        dir + "/server.log");
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(-1);
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server->port()),
                                  grpc::InsecureChannelCredentials(), arguments);
    auto capabilities = reapi::Capabilities::NewStub(channel);
    reapi::ServerCapabilities answer;
    Check(
        capabilities->GetCapabilities(Context(30).get(), reapi::GetCapabilitiesRequest(), &answer),
        "GetCapabilities");
    // Batches stay within the announced limit and gRPC's default 4 MiB
    // receive limit, whichever is smaller, less room for the envelope.
    uint64_t batch_limit = answer.cache_capabilities().max_batch_total_size_bytes();
    if (batch_limit == 0 || batch_limit > (4u << 20)) batch_limit = 4u << 20;
    batch_limit -= 16 << 10;

    UploadRows(settings, dir, *server, channel);
    CasRows(settings, dir, channel, batch_limit);
    ExecuteRows(settings, dir, channel, batch_limit);
    int stopped = server->Stop();
    if (stopped != 0) std::printf("  (the server exited with status %d on SIGTERM)\n", stopped);
  } catch (const BenchError& error) {
    std::fprintf(stderr, "server_bench: %s\n", error.what());
    exit_code = 1;
  }
  if (!dir.empty()) {
    if (settings.keep) {
      std::printf("kept %s\n", dir.c_str());
    } else {
      RunProcess({"/bin/rm", "-rf", dir}, {});
    }
  }
  return exit_code;
}
