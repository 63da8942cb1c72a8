#include "cairn/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace cairn {

struct Sha256::State {
  EVP_MD_CTX* context = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->context); }

void Sha256::Update(const void* data, size_t size) {
  EVP_DigestUpdate(state_->context, data, size);
  bytes_ += size;
}

std::string Sha256::FinishHex() {
  unsigned char raw[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->context, raw, &length);
  EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr);
  bytes_ = 0;
  static const char kHex[] = "0123456789abcdef";
  std::string hex(length * 2, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[raw[i] >> 4];
    hex[2 * i + 1] = kHex[raw[i] & 0xf];
  }
  return hex;
}

Digest MakeDigest(std::string hash, int64_t size_bytes) {
  Digest digest;
  digest.set_hash(std::move(hash));
  digest.set_size_bytes(size_bytes);
  return digest;
}

Digest DigestOfBytes(std::string_view data) {
  Sha256 hasher;
  hasher.Update(data);
  return MakeDigest(hasher.FinishHex(), static_cast<int64_t>(data.size()));
}

Digest EmptyDigest() { return MakeDigest(std::string(kEmptySha256), 0); }

bool IsEmptyDigest(const Digest& digest) {
  return digest.size_bytes() == 0 && digest.hash() == kEmptySha256;
}

StatusOr<Digest> DigestOfFd(int fd) {
  Sha256 hasher;
  std::vector<char> buffer(1 << 20);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", "fd " + std::to_string(fd), errno);
    }
    if (n == 0) break;
    hasher.Update(buffer.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  return MakeDigest(hasher.FinishHex(), static_cast<int64_t>(total));
}

StatusOr<Digest> DigestOfFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", path, errno);
  StatusOr<Digest> digest = DigestOfFd(fd);
  ::close(fd);
  if (!digest.ok()) return digest.status().WithContext("hashing " + path);
  return digest;
}

Digest DigestOfMessage(const google::protobuf::MessageLite& message) {
  return DigestOfBytes(message.SerializeAsString());
}

Status CheckExpectedDigest(const Digest& actual, const std::optional<Digest>& expected,
                           const std::string& what) {
  if (!expected) return Status::Ok();
  CAIRN_RETURN_IF_ERROR(ValidateDigest(*expected));
  if (expected->size_bytes() != actual.size_bytes()) {
    return InvalidArgument("digest " + DigestToString(*expected) + " does not match " + what +
                           ": " + std::to_string(actual.size_bytes()) + " bytes were given, not " +
                           std::to_string(expected->size_bytes()));
  }
  if (expected->hash() != actual.hash()) {
    return InvalidArgument("digest " + DigestToString(*expected) + " does not match " + what +
                           ", which hashes to " + DigestToString(actual));
  }
  return Status::Ok();
}

Status ValidateDigest(const Digest& digest) {
  const std::string& hash = digest.hash();
  bool hex = hash.size() == 64;
  for (char c : hash) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) hex = false;
  }
  if (!hex) {
    return InvalidArgument("malformed digest " + DigestToString(digest) +
                           ": the hash must be 64 lowercase hexadecimal digits (SHA-256)");
  }
  if (digest.size_bytes() < 0) {
    return InvalidArgument("malformed digest " + DigestToString(digest) + ": the size is negative");
  }
  return Status::Ok();
}

std::string DigestToString(const Digest& digest) {
  return digest.hash() + "/" + std::to_string(digest.size_bytes());
}

StatusOr<Digest> ParseDigest(std::string_view text) {
  size_t separator = text.find_last_of("/:");
  if (separator == std::string_view::npos) {
    return InvalidArgument("malformed digest '" + std::string(text) + "': expected HASH/SIZE");
  }
  std::string size_text(text.substr(separator + 1));
  if (size_text.empty() || size_text.find_first_not_of("0123456789") != std::string::npos ||
      size_text.size() > 18) {
    return InvalidArgument("malformed digest '" + std::string(text) +
                           "': the size must be a non-negative decimal number");
  }
  Digest digest = MakeDigest(std::string(text.substr(0, separator)), std::stoll(size_text));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  return digest;
}

StatusOr<Digest> DigestFromWire(std::string_view bytes) {
  Digest digest;
  if (!digest.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return InvalidArgument(
        "a digest argument is not a serialized build.bazel.remote.execution.v2.Digest");
  }
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  return digest;
}

std::string DigestToWire(const Digest& digest) { return digest.SerializeAsString(); }

}  // namespace cairn
