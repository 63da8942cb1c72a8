// cas_rows.cc — row 2 of server_bench: FindMissingBlobs and
// BatchUpdateBlobs of many small blobs.
#include <string>
#include <vector>

#include "cairn/runtime/runtime.h"
#include "server_rows.h"

namespace cairn::bench {

namespace {

// `count` blobs of 100 B..1 KiB, the same for the same seed.
std::vector<Blob> MakeBlobs(uint64_t seed, int count) {
  std::vector<Blob> blobs(static_cast<size_t>(count));
  uint64_t state = seed;
  for (Blob& blob : blobs) {
    blob.data.resize(100 + SplitMix64(&state) % 925);
    for (char& byte : blob.data) byte = static_cast<char>(SplitMix64(&state));
    blob.digest = DigestOfBytes(blob.data);
  }
  return blobs;
}

}  // namespace

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
    std::vector<Blob> blobs = MakeBlobs(1000 + round, settings.small_blobs);
    std::vector<Blob> absent = MakeBlobs(2000 + round, settings.small_blobs / 2);
    std::vector<Digest> lookup;
    for (size_t i = 0; i < absent.size(); ++i) {
      lookup.push_back(blobs[2 * i].digest);
      lookup.push_back(absent[i].digest);
    }
    server_update.push_back(
        SyncedSecondsOf([&] { calls = BatchUpload(*cas, blobs, batch_limit); }));
    local_update.push_back(SyncedSecondsOf([&] {
      for (const Blob& blob : blobs) {
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
      MedianRatio(server_find, local_find), "no target", -1);
  double update = Median(server_update) / count * 1e6;
  double update_local = Median(local_update) / count * 1e6;
  Row("BatchUpdateBlobs, " + std::to_string(settings.small_blobs) + " blobs, " +
          std::to_string(calls) + " calls",
      Format("%.2f us/blob", update), Format("in-process store %.2f us", update_local),
      MedianRatio(server_update, local_update), "no target", -1);
}

}  // namespace cairn::bench
