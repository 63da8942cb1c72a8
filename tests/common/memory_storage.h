// A small in-memory Storage for the common library's tests, until the
// shared cairn::testing::InMemoryStorage (tests/support) builds; it has the
// same names for what these tests use (FailNext, Count, ResetCounts), so
// switching is a change of include and type name.
#ifndef CAIRN_TESTS_COMMON_MEMORY_STORAGE_H
#define CAIRN_TESTS_COMMON_MEMORY_STORAGE_H

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cairn/storage.h"

namespace cairn::testing {

enum class StorageOp { kFindMissing, kContains, kReadBlob, kWriteBlob };

class MemoryStorage : public Storage {
 public:
  StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>& digests) override {
    CAIRN_RETURN_IF_ERROR(Enter(StorageOp::kFindMissing));
    std::vector<Digest> missing;
    for (const Digest& d : digests) {
      if (blobs_.count(DigestToString(d)) == 0) missing.push_back(d);
    }
    return missing;
  }
  StatusOr<bool> Contains(const Digest& d) override {
    CAIRN_RETURN_IF_ERROR(Enter(StorageOp::kContains));
    return blobs_.count(DigestToString(d)) > 0;
  }
  StatusOr<std::string> ReadBlob(const Digest& d, uint64_t = 0, uint64_t = 0) override {
    CAIRN_RETURN_IF_ERROR(Enter(StorageOp::kReadBlob));
    auto found = blobs_.find(DigestToString(d));
    if (found == blobs_.end())
      return NotFound("blob " + DigestToString(d) + " is not in the store");
    return found->second;
  }
  StatusOr<Digest> WriteBlob(std::string_view data,
                             const std::optional<Digest>& = std::nullopt) override {
    CAIRN_RETURN_IF_ERROR(Enter(StorageOp::kWriteBlob));
    Digest d = DigestOfBytes(data);
    blobs_[DigestToString(d)] = std::string(data);
    return d;
  }
  Status ReadBlobToFd(const Digest&, int) override { return Fake(); }
  StatusOr<Digest> WriteBlobFromFd(int, const std::optional<Digest>&) override { return Fake(); }
  Status ReadBlobToPath(const Digest&, const std::string&, bool) override { return Fake(); }
  StatusOr<Digest> WriteBlobFromPath(const std::string&, bool,
                                     const std::optional<Digest>&) override {
    return Fake();
  }
  Status StageTree(const Digest&, const std::string&, const StageOptions&) override {
    return Fake();
  }
  StatusOr<CapturedTree> CaptureTree(const std::string&, const CaptureOptions&) override {
    return Fake();
  }
  StatusOr<ActionResult> GetActionResult(const std::string&, const Digest&) override {
    return Fake();
  }
  Status UpdateActionResult(const std::string&, const Digest&, const ActionResult&) override {
    return Fake();
  }
  StatusOr<Digest> GetReference(const std::string&) override { return Fake(); }
  Status SetReference(const std::string&, const Digest&) override { return Fake(); }
  StatusOr<VerifyReport> Verify(bool) override { return Fake(); }
  StatusOr<uint64_t> CollectGarbage(uint64_t) override { return Fake(); }
  StatusOr<StorageStats> Stats() override { return Fake(); }

  uint64_t Count(StorageOp op) const {
    auto found = counts_.find(op);
    return found == counts_.end() ? 0 : found->second;
  }
  void ResetCounts() { counts_.clear(); }
  // The next `times` calls of `op` fail with `status`.
  void FailNext(StorageOp op, int times, const Status& status) { failures_[op] = {times, status}; }

 private:
  static Status Fake() { return Unimplemented("not in this fake"); }
  Status Enter(StorageOp op) {
    ++counts_[op];
    auto failure = failures_.find(op);
    if (failure == failures_.end() || failure->second.first == 0) return Status::Ok();
    --failure->second.first;
    return failure->second.second;
  }

  std::map<std::string, std::string> blobs_;
  std::map<StorageOp, uint64_t> counts_;
  std::map<StorageOp, std::pair<int, Status>> failures_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_COMMON_MEMORY_STORAGE_H
