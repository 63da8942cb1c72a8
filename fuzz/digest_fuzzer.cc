// Digest parsing from text (ParseDigest) and from the wire (DigestFromWire):
// whatever they accept is valid and survives a round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cairn/digest.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  cairn::StatusOr<cairn::Digest> parsed = cairn::ParseDigest(bytes);
  if (parsed.ok()) {
    Require(cairn::ValidateDigest(*parsed).ok());
    cairn::StatusOr<cairn::Digest> again = cairn::ParseDigest(cairn::DigestToString(*parsed));
    Require(again.ok() && *again == *parsed);
  } else {
    Require(parsed.status().code() == cairn::Code::kInvalidArgument);
  }

  cairn::StatusOr<cairn::Digest> wire = cairn::DigestFromWire(bytes);
  if (wire.ok()) {
    Require(cairn::ValidateDigest(*wire).ok());
    cairn::StatusOr<cairn::Digest> again = cairn::DigestFromWire(cairn::DigestToWire(*wire));
    Require(again.ok() && *again == *wire);
  } else {
    Require(wire.status().code() == cairn::Code::kInvalidArgument);
  }
  return 0;
}
