// cairn/plugin_options.h — reading a plugin's `options` mapping.
//
// The host passes a plugin its options as YAML text. PluginOptions parses
// it once, hands out typed values, and rejects keys the plugin did not ask
// for, so a misspelt option is an error and never silently ignored:
//
//   CAIRN_ASSIGN_OR_RETURN(PluginOptions options, PluginOptions::Parse(text, "bwrap"));
//   CAIRN_ASSIGN_OR_RETURN(std::string binary, options.GetString("bwrap-path", "bwrap"));
//   CAIRN_RETURN_IF_ERROR(options.Finish());   // INVALID_ARGUMENT on unknown keys
#ifndef CAIRN_PLUGIN_OPTIONS_H
#define CAIRN_PLUGIN_OPTIONS_H

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/status.h"

namespace cairn {

class PluginOptions {
 public:
  // `plugin` names the plugin in messages. Empty text means no options.
  static StatusOr<PluginOptions> Parse(std::string_view yaml_text, std::string plugin);

  bool Has(const std::string& key);
  // INVALID_ARGUMENT naming the option when it is a list or a mapping.
  StatusOr<std::string> GetString(const std::string& key, const std::string& fallback);
  // INVALID_ARGUMENT naming the option, the value as written and the
  // allowed range when it is not a whole number from `min` to `max`
  // (a number past 64 bits included: it never saturates).
  StatusOr<int64_t> GetInt(const std::string& key, int64_t fallback, int64_t min = INT64_MIN,
                           int64_t max = INT64_MAX);
  StatusOr<bool> GetBool(const std::string& key, bool fallback);
  StatusOr<std::vector<std::string>> GetStringList(const std::string& key);
  // A nested mapping, read the same way (its messages name the option as
  // 'section.key'; call Finish() on it too); nullopt when absent.
  // INVALID_ARGUMENT when it is not a mapping.
  StatusOr<std::optional<PluginOptions>> GetSection(const std::string& key);

  // INVALID_ARGUMENT naming every key that was never asked for.
  Status Finish() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
  std::set<std::string> asked_;
};

// Parses "10G", "512MiB", "1.5T", "80%"-free sizes into bytes.
// INVALID_ARGUMENT naming the text and the allowed range for a size past
// kMaxByteSize (never a saturated value).
StatusOr<uint64_t> ParseByteSize(std::string_view text);
inline constexpr uint64_t kMaxByteSize = uint64_t{1} << 62;  // 4 EiB

}  // namespace cairn

#endif  // CAIRN_PLUGIN_OPTIONS_H
