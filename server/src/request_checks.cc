#include "request_checks.h"

#include "cairn/status_details.h"

namespace cairn::server {

Status CheckDigestFunction(DigestFunction::Value function, const std::string& field) {
  if (function == DigestFunction::UNKNOWN || function == DigestFunction::SHA256) {
    return Status::Ok();
  }
  return BadRequestError(field, "digest function " + DigestFunction::Value_Name(function) +
                                    " is not supported; this server uses SHA256 only");
}

Status CheckDigest(const Digest& digest, const std::string& field, uint64_t max_size) {
  if (digest.hash().size() != 64) {
    return BadRequestError(field, "hash '" + digest.hash().substr(0, 80) +
                                      "' is not a SHA-256 (64 hexadecimal digits)");
  }
  for (char c : digest.hash()) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return BadRequestError(field,
                             "hash '" + digest.hash() + "' must be lowercase hexadecimal digits");
    }
  }
  if (digest.size_bytes() < 0) {
    return BadRequestError(field,
                           "size_bytes " + std::to_string(digest.size_bytes()) + " is negative");
  }
  if (max_size != 0 && static_cast<uint64_t>(digest.size_bytes()) > max_size) {
    return BadRequestError(field, "blob of " + std::to_string(digest.size_bytes()) +
                                      " bytes is larger than this server accepts (" +
                                      std::to_string(max_size) + " bytes)");
  }
  return Status::Ok();
}

std::string Indexed(const std::string& field, size_t index) {
  return field + "[" + std::to_string(index) + "]";
}

}  // namespace cairn::server
