#include "local_cas_options.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "cairn/plugin_options.h"
#include "file_util.h"

namespace cairn::cas_local {
namespace {

StatusOr<double> ParseFraction(PluginOptions& options, const std::string& key, double fallback) {
  if (!options.Has(key)) return fallback;
  CAIRN_ASSIGN_OR_RETURN(std::string text, options.GetString(key, ""));
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || !(value > 0) || value > 1) {
    return InvalidArgument("cas-local option '" + key + "' must be a fraction in (0, 1], not '" +
                           text + "'");
  }
  return value;
}

}  // namespace

StatusOr<LocalCasOptions> LocalCasOptions::Parse(std::string_view yaml) {
  CAIRN_ASSIGN_OR_RETURN(PluginOptions options, PluginOptions::Parse(yaml, "cas-local"));
  LocalCasOptions parsed;
  CAIRN_ASSIGN_OR_RETURN(parsed.path, options.GetString("path", ""));
  CAIRN_ASSIGN_OR_RETURN(std::string quota, options.GetString("quota", ""));
  CAIRN_ASSIGN_OR_RETURN(parsed.high_watermark, ParseFraction(options, "high-watermark", 1.0));
  CAIRN_ASSIGN_OR_RETURN(parsed.low_watermark, ParseFraction(options, "low-watermark", 0.8));
  CAIRN_ASSIGN_OR_RETURN(int64_t threads, options.GetInt("hash-threads", 2, 1, 64));
  CAIRN_ASSIGN_OR_RETURN(parsed.verify_on_stage, options.GetBool("verify-on-stage", false));
  CAIRN_RETURN_IF_ERROR(options.Finish());
  if (parsed.path.empty()) return InvalidArgument("cas-local option 'path' is required");
  parsed.threads = static_cast<int>(threads);
  if (parsed.low_watermark > parsed.high_watermark) {
    return InvalidArgument("cas-local option 'low-watermark' must not exceed 'high-watermark'");
  }
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(parsed.path));
  if (!quota.empty() && quota.back() == '%') {
    char* end = nullptr;
    double percent = std::strtod(quota.c_str(), &end);
    if (end != quota.c_str() + quota.size() - 1 || !(percent > 0) || percent > 100) {
      return InvalidArgument("cas-local option 'quota': '" + quota +
                             "' is not a percentage between 0 and 100");
    }
    struct statvfs fs;
    if (::statvfs(parsed.path.c_str(), &fs) != 0) return ErrnoStatus("statvfs", parsed.path, errno);
    double disk = static_cast<double>(fs.f_blocks) * static_cast<double>(fs.f_frsize);
    parsed.quota_bytes = static_cast<uint64_t>(std::llround(disk * percent / 100));
  } else if (!quota.empty()) {
    StatusOr<uint64_t> bytes = ParseByteSize(quota);
    if (!bytes.ok()) return bytes.status().WithContext("cas-local option 'quota'");
    parsed.quota_bytes = *bytes;
  }
  return parsed;
}

}  // namespace cairn::cas_local
