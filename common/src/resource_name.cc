#include "cairn/resource_name.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace cairn {

namespace {

using Compressor = BlobResourceName::Compressor;
using DigestFunction = BlobResourceName::DigestFunction;

std::vector<std::string_view> Split(std::string_view name) {
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (true) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) {
      segments.push_back(name.substr(start));
      return segments;
    }
    segments.push_back(name.substr(start, end - start));
    start = end + 1;
  }
}

std::string Upper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

Status Malformed(std::string_view name, const std::string& what) {
  // Long enough to recognise, short enough that a hostile name cannot
  // flood a log.
  constexpr size_t kShown = 160;
  std::string shown(name.substr(0, kShown));
  if (name.size() > kShown) shown += "...";
  return InvalidArgument("malformed resource name '" + shown + "': " + what);
}

bool IsBlobKeyword(std::string_view segment) {
  return segment == "blobs" || segment == "compressed-blobs";
}

bool IsLowerHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// REAPI names the function only for these; the others are inferred from
// the hash length and must be left out.
bool FunctionIsNamed(DigestFunction::Value function) {
  return function == DigestFunction::SHA256TREE || function == DigestFunction::BLAKE3 ||
         function == DigestFunction::GITSHA1;
}

// Parses `blobs/...` or `compressed-blobs/...` from segments[at].
Status ParseBlob(std::string_view name, const std::vector<std::string_view>& segments, size_t at,
                 bool write, BlobResourceName* out) {
  if (segments[at] == "compressed-blobs") {
    if (++at >= segments.size()) return Malformed(name, "no compressor after 'compressed-blobs'");
    std::string_view compressor = segments[at];
    Compressor::Value value = Compressor::IDENTITY;
    if (compressor == "identity") {
      return Malformed(name, "'identity' is never named: use 'blobs' for uncompressed data");
    }
    if (Lower(compressor) != compressor || !Compressor::Value_Parse(Upper(compressor), &value)) {
      return Malformed(name, "unknown compressor '" + std::string(compressor) + "'");
    }
    out->compressor = value;
  }
  ++at;
  DigestFunction::Value function = DigestFunction::UNKNOWN;
  if (at < segments.size() && Lower(segments[at]) == segments[at] &&
      DigestFunction::Value_Parse(Upper(segments[at]), &function)) {
    if (!FunctionIsNamed(function)) {
      return Malformed(name, "the digest function '" + std::string(segments[at]) +
                                 "' must be left out (it follows from the hash length)");
    }
    out->digest_function = function;
    ++at;
  }
  if (segments.size() - at < 2) return Malformed(name, "expected {hash}/{size}");
  std::string_view hash = segments[at];
  std::string_view size = segments[at + 1];
  static constexpr size_t kHashLengths[] = {32, 40, 64, 96, 128};
  if (std::find(std::begin(kHashLengths), std::end(kHashLengths), hash.size()) ==
          std::end(kHashLengths) ||
      !IsLowerHex(hash)) {
    return Malformed(name, "the hash is not lowercase hex of 32, 40, 64, 96 or 128 digits");
  }
  if (size.empty() || size.size() > 18 ||
      size.find_first_not_of("0123456789") != std::string_view::npos) {
    return Malformed(name, "the size is not a non-negative decimal number");
  }
  out->digest = MakeDigest(std::string(hash), std::stoll(std::string(size)));
  at += 2;
  if (at == segments.size()) return Status::Ok();
  if (!write)
    return Malformed(name, "unexpected '" + std::string(segments[at]) + "' after the size");
  size_t metadata_start = static_cast<size_t>(segments[at].data() - name.data());
  out->metadata = std::string(name.substr(metadata_start));
  return Status::Ok();
}

// The index of the segment ending the instance name, after checking the
// instance name's segments.
StatusOr<size_t> InstanceEnd(std::string_view name, const std::vector<std::string_view>& segments) {
  for (size_t at = 0; at < segments.size(); ++at) {
    if (IsBlobKeyword(segments[at]) || segments[at] == "uploads") return at;
    if (segments[at].empty()) return Malformed(name, "the instance name has an empty segment");
  }
  return Malformed(name, "expected 'blobs/', 'compressed-blobs/' or 'uploads/'");
}

StatusOr<BlobResourceName> Parse(std::string_view name, bool write) {
  std::vector<std::string_view> segments = Split(name);
  CAIRN_ASSIGN_OR_RETURN(size_t at, InstanceEnd(name, segments));
  BlobResourceName parsed;
  parsed.instance_name =
      std::string(name.substr(0, at == 0 ? 0 : segments[at].data() - name.data() - 1));
  if (write) {
    if (segments[at] != "uploads") return Malformed(name, "a write name needs 'uploads/{uuid}/'");
    if (segments.size() - at < 3 || segments[at + 1].empty()) {
      return Malformed(name,
                       "expected uploads/{uuid}/blobs/... or uploads/{uuid}/compressed-blobs/...");
    }
    parsed.upload_id = std::string(segments[at + 1]);
    at += 2;
    if (!IsBlobKeyword(segments[at])) {
      return Malformed(name, "expected 'blobs' or 'compressed-blobs' after the upload id");
    }
  } else if (segments[at] == "uploads") {
    return Malformed(name, "an upload name where a read name was expected");
  }
  CAIRN_RETURN_IF_ERROR(ParseBlob(name, segments, at, write, &parsed));
  return parsed;
}

std::string FormatBlob(const BlobResourceName& name) {
  std::string text;
  if (name.compressor == Compressor::IDENTITY) {
    text = "blobs/";
  } else {
    text = "compressed-blobs/" + Lower(Compressor::Value_Name(name.compressor)) + "/";
  }
  if (name.digest_function != DigestFunction::UNKNOWN) {
    text += Lower(DigestFunction::Value_Name(name.digest_function)) + "/";
  }
  return text + name.digest.hash() + "/" + std::to_string(name.digest.size_bytes());
}

std::string InstancePrefix(const BlobResourceName& name) {
  return name.instance_name.empty() ? "" : name.instance_name + "/";
}

}  // namespace

StatusOr<BlobResourceName> ParseReadResourceName(std::string_view name) {
  return Parse(name, /*write=*/false);
}

StatusOr<BlobResourceName> ParseWriteResourceName(std::string_view name) {
  return Parse(name, /*write=*/true);
}

std::string FormatReadResourceName(const BlobResourceName& name) {
  return InstancePrefix(name) + FormatBlob(name);
}

std::string FormatWriteResourceName(const BlobResourceName& name) {
  std::string text = InstancePrefix(name) + "uploads/" + name.upload_id + "/" + FormatBlob(name);
  return name.metadata.empty() ? text : text + "/" + name.metadata;
}

}  // namespace cairn
