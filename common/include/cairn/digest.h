// cairn/digest.h — REAPI digests: lowercase SHA-256 hex plus size.
//
// Every blob Cairn stores is addressed by a build.bazel.remote.execution.v2
// Digest. Hashing uses OpenSSL's EVP API. All functions are thread-safe.
//
//   Digest d = DigestOfBytes("hello");
//   std::string text = DigestToString(d);   // "2cf2...9824/5"
//   StatusOr<Digest> back = ParseDigest(text);
#ifndef CAIRN_DIGEST_H
#define CAIRN_DIGEST_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/status.h"

// Comparisons live in the message's own namespace so that argument-dependent
// lookup finds them everywhere (gtest, std::map, std::find).
namespace build::bazel::remote::execution::v2 {
inline bool operator==(const Digest& a, const Digest& b) {
  return a.size_bytes() == b.size_bytes() && a.hash() == b.hash();
}
inline bool operator!=(const Digest& a, const Digest& b) { return !(a == b); }
inline bool operator<(const Digest& a, const Digest& b) {
  return a.hash() != b.hash() ? a.hash() < b.hash() : a.size_bytes() < b.size_bytes();
}
}  // namespace build::bazel::remote::execution::v2

namespace cairn {

using Digest = build::bazel::remote::execution::v2::Digest;

// The SHA-256 of zero bytes.
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Incremental SHA-256. Not copyable; one per thread.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // Lowercase hex of everything given; the hasher is reset afterwards.
  std::string FinishHex();
  uint64_t bytes() const { return bytes_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  uint64_t bytes_ = 0;
};

Digest MakeDigest(std::string hash, int64_t size_bytes);
Digest DigestOfBytes(std::string_view data);
Digest EmptyDigest();
bool IsEmptyDigest(const Digest& digest);

// Hashes everything readable from `fd` from its current offset.
StatusOr<Digest> DigestOfFd(int fd);
StatusOr<Digest> DigestOfFile(const std::string& path);

// Digest of a message's canonical binary encoding.
Digest DigestOfMessage(const google::protobuf::MessageLite& message);

// INVALID_ARGUMENT naming the digest when the hash is not 64 lowercase hex
// digits or the size is negative.
Status ValidateDigest(const Digest& digest);

// OK when `expected` is absent or is `actual` (the digest of the bytes a
// writer was given); INVALID_ARGUMENT naming the expected digest and what
// differs (the size, or the hash `what` — "the data", a path — has)
// otherwise, or when `expected` itself is malformed.
Status CheckExpectedDigest(const Digest& actual, const std::optional<Digest>& expected,
                           const std::string& what = "the data");

// "hash/size"
std::string DigestToString(const Digest& digest);
// Accepts "hash/size" (and "hash:size"); validates.
StatusOr<Digest> ParseDigest(std::string_view text);

// Serialized Digest <-> Digest, validating.
StatusOr<Digest> DigestFromWire(std::string_view bytes);
std::string DigestToWire(const Digest& digest);

struct DigestHash {
  size_t operator()(const Digest& d) const {
    return std::hash<std::string>()(d.hash()) ^ static_cast<size_t>(d.size_bytes());
  }
};
struct DigestEqual {
  bool operator()(const Digest& a, const Digest& b) const { return a == b; }
};

}  // namespace cairn

#endif  // CAIRN_DIGEST_H
