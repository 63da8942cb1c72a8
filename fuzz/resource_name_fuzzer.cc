// ByteStream resource names (cairn/resource_name.h): a name either parses
// into fields that format back to a name parsing to the same fields, or is
// refused with INVALID_ARGUMENT and a bounded message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cairn/resource_name.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

bool SameFields(const cairn::BlobResourceName& a, const cairn::BlobResourceName& b) {
  return a.instance_name == b.instance_name && a.upload_id == b.upload_id &&
         a.compressor == b.compressor && a.digest_function == b.digest_function &&
         a.digest == b.digest && a.metadata == b.metadata;
}

void Check(const cairn::StatusOr<cairn::BlobResourceName>& parsed, bool write) {
  if (!parsed.ok()) {
    Require(parsed.status().code() == cairn::Code::kInvalidArgument);
    Require(parsed.status().message().size() < 1024);
    return;
  }
  std::string formatted =
      write ? cairn::FormatWriteResourceName(*parsed) : cairn::FormatReadResourceName(*parsed);
  cairn::StatusOr<cairn::BlobResourceName> again =
      write ? cairn::ParseWriteResourceName(formatted) : cairn::ParseReadResourceName(formatted);
  Require(again.ok() && SameFields(*again, *parsed));
  Require(parsed->digest.size_bytes() >= 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view name(reinterpret_cast<const char*>(data), size);
  Check(cairn::ParseReadResourceName(name), /*write=*/false);
  Check(cairn::ParseWriteResourceName(name), /*write=*/true);
  return 0;
}
