#include "bench_support.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "server_process.h"

namespace cairn::bench {

double SecondsOf(const std::function<void()>& body) {
  auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double SyncedSecondsOf(const std::function<void()>& body) {
  ::sync();
  return SecondsOf(body);
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double MedianRatio(const std::vector<double>& measured, const std::vector<double>& baseline) {
  std::vector<double> ratios;
  for (size_t i = 0; i < measured.size() && i < baseline.size(); ++i) {
    ratios.push_back(measured[i] / baseline[i]);
  }
  return Median(ratios);
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

int BatchUpload(reapi::ContentAddressableStorage::Stub& cas, const std::vector<Blob>& blobs,
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
    if (request.requests_size() == 0) {
      throw BenchError("blob " + DigestToString(blobs[next].digest) + " is larger than the " +
                       std::to_string(limit) + "-byte batch limit");
    }
    reapi::BatchUpdateBlobsResponse response;
    Check(cas.BatchUpdateBlobs(Context(60).get(), request, &response), "BatchUpdateBlobs");
    for (const auto& answer : response.responses()) {
      if (answer.status().code() != 0) {
        throw BenchError("BatchUpdateBlobs of " + DigestToString(answer.digest()) + ": code " +
                         std::to_string(answer.status().code()) + ": " + answer.status().message());
      }
    }
    ++calls;
  }
  return calls;
}

size_t CountMissing(reapi::ContentAddressableStorage::Stub& cas,
                    const std::vector<Digest>& digests) {
  reapi::FindMissingBlobsRequest request;
  for (const Digest& digest : digests) *request.add_blob_digests() = digest;
  reapi::FindMissingBlobsResponse response;
  Check(cas.FindMissingBlobs(Context(60).get(), request, &response), "FindMissingBlobs");
  return static_cast<size_t>(response.missing_blob_digests_size());
}

}  // namespace cairn::bench
