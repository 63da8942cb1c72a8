#include "cairn/plugin_options.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace cairn {

struct PluginOptions::Impl {
  YAML::Node root;
  std::string plugin;
  std::string key_prefix;  // "storage-service." for a section's keys

  // How messages name `key`: with the path of its section.
  std::string Name(const std::string& key) const { return key_prefix + key; }
};

StatusOr<PluginOptions> PluginOptions::Parse(std::string_view yaml_text, std::string plugin) {
  PluginOptions options;
  options.impl_ = std::make_shared<Impl>();
  options.impl_->plugin = std::move(plugin);
  try {
    options.impl_->root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument(options.impl_->plugin + " options are not valid YAML: " + e.what());
  }
  const YAML::Node& root = options.impl_->root;
  if (root.IsDefined() && !root.IsNull() && !root.IsMap()) {
    return InvalidArgument(options.impl_->plugin + " options must be a mapping");
  }
  return options;
}

bool PluginOptions::Has(const std::string& key) {
  asked_.insert(key);
  return impl_->root.IsMap() && impl_->root[key].IsDefined() && !impl_->root[key].IsNull();
}

StatusOr<std::string> PluginOptions::GetString(const std::string& key,
                                               const std::string& fallback) {
  if (!Has(key)) return fallback;
  const YAML::Node node = impl_->root[key];
  if (!node.IsScalar()) {
    return InvalidArgument(impl_->plugin + " option '" + impl_->Name(key) + "' must be a string");
  }
  return node.as<std::string>();
}

StatusOr<int64_t> PluginOptions::GetInt(const std::string& key, int64_t fallback, int64_t min,
                                        int64_t max) {
  if (!Has(key)) return fallback;
  const YAML::Node node = impl_->root[key];
  std::string range = "from " + std::to_string(min) + " to " + std::to_string(max);
  std::string text = node.IsScalar() ? node.Scalar() : std::string();
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') {
    return InvalidArgument(impl_->plugin + " option '" + impl_->Name(key) +
                           "' must be a whole number " + range);
  }
  if (errno == ERANGE || value < min || value > max) {
    return InvalidArgument(impl_->plugin + " option '" + impl_->Name(key) + "': '" + text +
                           "' is out of range (allowed " + range + ")");
  }
  return static_cast<int64_t>(value);
}

StatusOr<bool> PluginOptions::GetBool(const std::string& key, bool fallback) {
  if (!Has(key)) return fallback;
  try {
    return impl_->root[key].as<bool>();
  } catch (const YAML::Exception&) {
    return InvalidArgument(impl_->plugin + " option '" + impl_->Name(key) +
                           "' must be true or false");
  }
}

StatusOr<std::vector<std::string>> PluginOptions::GetStringList(const std::string& key) {
  std::vector<std::string> values;
  if (!Has(key)) return values;
  const YAML::Node node = impl_->root[key];
  if (!node.IsSequence()) {
    return InvalidArgument(impl_->plugin + " option '" + impl_->Name(key) +
                           "' must be a list of strings");
  }
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) {
      return InvalidArgument(impl_->plugin + " option '" + impl_->Name(key) +
                             "' must be a list of strings");
    }
    values.push_back(item.as<std::string>());
  }
  return values;
}

StatusOr<std::optional<PluginOptions>> PluginOptions::GetSection(const std::string& key) {
  if (!Has(key)) return std::optional<PluginOptions>();
  const YAML::Node node = impl_->root[key];
  if (!node.IsMap()) {
    return InvalidArgument(impl_->plugin + " option '" + impl_->Name(key) + "' must be a mapping");
  }
  PluginOptions section;
  section.impl_ = std::make_shared<Impl>();
  section.impl_->root = node;
  section.impl_->plugin = impl_->plugin;
  section.impl_->key_prefix = impl_->Name(key) + ".";
  return std::optional<PluginOptions>(std::move(section));
}

Status PluginOptions::Finish() const {
  if (!impl_->root.IsMap()) return Status::Ok();
  std::string unknown;
  for (const auto& entry : impl_->root) {
    std::string key = entry.first.as<std::string>();
    if (asked_.count(key) == 0) {
      unknown += (unknown.empty() ? "'" : ", '") + impl_->Name(key) + "'";
    }
  }
  if (unknown.empty()) return Status::Ok();
  std::string known;
  for (const std::string& key : asked_) known += (known.empty() ? "" : ", ") + key;
  return InvalidArgument(
      "unknown " + impl_->plugin + " option " + unknown +
      (known.empty() ? " (it takes no options)" : " (expected one of: " + known + ")"));
}

StatusOr<uint64_t> ParseByteSize(std::string_view text) {
  std::string s(text);
  size_t i = 0;
  size_t dots = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    dots += s[i] == '.' ? 1 : 0;
    ++i;
  }
  if (i == 0 || dots > 1 || (i == 1 && dots == 1)) {
    return InvalidArgument("'" + s + "' is not a size (expected e.g. 512M, 10G, 1T)");
  }
  // strtod, not stod: a number of a thousand digits is HUGE_VAL, not an exception.
  double number = std::strtod(s.substr(0, i).c_str(), nullptr);
  std::string unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'B') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'I') unit.pop_back();
  double multiplier = 1;
  if (unit.empty() || unit == "B")
    multiplier = 1;
  else if (unit == "K")
    multiplier = 1024.0;
  else if (unit == "M")
    multiplier = 1024.0 * 1024;
  else if (unit == "G")
    multiplier = 1024.0 * 1024 * 1024;
  else if (unit == "T")
    multiplier = 1024.0 * 1024 * 1024 * 1024;
  else
    return InvalidArgument("'" + s + "' has an unknown size unit (expected K, M, G or T)");
  double bytes = number * multiplier;
  // Compared as doubles before any conversion: converting a double past
  // 2^64 to an integer is undefined, and llround saturated at 2^63.
  if (!(bytes <= static_cast<double>(kMaxByteSize))) {
    return InvalidArgument("'" + s + "' is out of range (allowed 0 to " +
                           std::to_string(kMaxByteSize) + " bytes)");
  }
  return static_cast<uint64_t>(std::llround(bytes));
}

}  // namespace cairn
