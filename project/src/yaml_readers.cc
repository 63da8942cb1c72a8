// The readers project.conf and element files share (yaml_readers.h): the
// checks of keys, strings and paths every part of the loader applies the
// same way, so an error reads the same wherever the value was written.
#include "yaml_readers.h"

#include "cairn/project/variables.h"

namespace cairn::project {

namespace fs = std::filesystem;

const std::set<std::string>& ProtectedVariables() {
  static const std::set<std::string> kNames = {"project-name", "element-name", "max-jobs"};
  return kNames;
}

std::string JoinKeys(const std::set<std::string>& keys) {
  std::string joined;
  for (const std::string& key : keys) joined += (joined.empty() ? "" : ", ") + key;
  return joined;
}

Status CheckKeys(const ConfigNode& map, const std::set<std::string>& allowed, const char* what) {
  for (const ConfigNode::Entry& entry : map.entries()) {
    if (allowed.count(entry.key) == 0) {
      return ConfigError(entry.key_location, "unknown key '" + entry.key + "' in " + what +
                                                 " (known: " + JoinKeys(allowed) + ")");
    }
  }
  return Status::Ok();
}

StatusOr<std::string> ReadString(const ConfigNode& node, const char* what) {
  if (!node.is_scalar())
    return ConfigError(node.location(), std::string(what) + " must be a string");
  return std::string(StripYamlWhitespace(node.scalar()));
}

StatusOr<std::vector<std::string>> ReadStringList(const ConfigNode* node, const char* what) {
  std::vector<std::string> values;
  if (node == nullptr || node->is_null()) return values;
  if (!node->is_sequence()) {
    return ConfigError(node->location(), std::string(what) + " must be a list of strings");
  }
  for (const ConfigNode& item : node->items()) {
    CAIRN_ASSIGN_OR_RETURN(std::string value, ReadString(item, what));
    values.push_back(std::move(value));
  }
  return values;
}

bool StaysInside(const fs::path& base, const fs::path& candidate) {
  auto base_it = base.begin();
  auto it = candidate.begin();
  for (; base_it != base.end() && !base_it->empty(); ++base_it, ++it) {
    if (it == candidate.end() || *it != *base_it) return false;
  }
  return true;
}

}  // namespace cairn::project
