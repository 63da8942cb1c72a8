#include "asset_qualifiers.h"

#include <set>
#include <string>
#include <string_view>

#include "cairn/status_details.h"
#include "google/rpc/error_details.pb.h"

namespace cairn::server {
namespace {

constexpr std::string_view kContentQualifiers[] = {
    "resource_type", "checksum.sri",       "directory", "vcs.branch",
    "vcs.commit",    "bazel.canonical_id", "cache-key",
};

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Instructions for reaching the origin (Bazel's request headers); with no
// origin to reach they constrain nothing.
bool IsOriginQualifier(std::string_view name) {
  return StartsWith(name, "http_header:") || StartsWith(name, "http_header_url:") ||
         name == "bazel.auth_headers";
}

bool IsContentQualifier(std::string_view name) {
  for (std::string_view known : kContentQualifiers) {
    if (name == known) return true;
  }
  return false;
}

}  // namespace

StatusOr<AssetQualifiers> KeyQualifiers(const AssetQualifiers& given) {
  std::set<std::string> names;
  google::rpc::BadRequest unsupported;
  std::string listed;
  AssetQualifiers key;
  for (const auto& qualifier : given) {
    if (!names.insert(qualifier.name()).second) {
      return BadRequestError("qualifiers",
                             "the qualifier '" + qualifier.name() + "' is given more than once");
    }
    if (IsContentQualifier(qualifier.name())) {
      *key.Add() = qualifier;
    } else if (!IsOriginQualifier(qualifier.name())) {
      auto* violation = unsupported.add_field_violations();
      violation->set_field("qualifiers.name");
      violation->set_description("\"" + qualifier.name() + "\" not supported");
      listed += (listed.empty() ? "" : ", ") + qualifier.name();
    }
  }
  if (unsupported.field_violations_size() > 0) {
    return WithDetail(InvalidArgument("unsupported qualifiers: " + listed +
                                      " (this server keys pushed assets by resource_type, "
                                      "checksum.sri, directory, vcs.branch, vcs.commit, "
                                      "bazel.canonical_id and cache-key)"),
                      unsupported);
  }
  return key;
}

}  // namespace cairn::server
