// BuildStream's composition; see composite.h for the rules.
#include "cairn/project/composite.h"

#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace cairn::project {
namespace {

bool IsDirectiveKey(const std::string& key) {
  return key == kAppendDirective || key == kPrependDirective || key == kReplaceDirective;
}

const char* KindName(const ConfigNode& node) {
  switch (node.kind()) {
    case ConfigNode::Kind::kNull:
      return "null";
    case ConfigNode::Kind::kScalar:
      return "scalar";
    case ConfigNode::Kind::kSequence:
      return "list";
    case ConfigNode::Kind::kMap:
      return "map";
  }
  return "value";
}

std::string JoinPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// Checks the directives' values; the map is known to hold only directives.
Status CheckDirectiveValues(const ConfigNode& directives) {
  for (const ConfigNode::Entry& entry : directives.entries()) {
    if (!entry.value.is_sequence() && !entry.value.is_null()) {
      return ConfigError(entry.value.location(),
                         "'" + entry.key + "' must be a list, not a " + KindName(entry.value));
    }
  }
  return Status::Ok();
}

ConfigNode* FindEntry(ConfigNode& map, const char* key) { return map.Get(key); }

void EraseEntry(ConfigNode& map, const char* key) {
  std::vector<ConfigNode::Entry>& entries = map.entries();
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it->key == key) {
      entries.erase(it);
      return;
    }
  }
}

void Prepend(std::vector<ConfigNode>& target, std::vector<ConfigNode>&& items) {
  target.insert(target.begin(), std::make_move_iterator(items.begin()),
                std::make_move_iterator(items.end()));
}

void Append(std::vector<ConfigNode>& target, std::vector<ConfigNode>&& items) {
  target.insert(target.end(), std::make_move_iterator(items.begin()),
                std::make_move_iterator(items.end()));
}

// bst applies (=) first, then (<), then (>), whatever the order in the file.
void ApplyDirectives(ConfigNode& list, ConfigNode&& directives) {
  if (ConfigNode* replace = FindEntry(directives, kReplaceDirective)) {
    list.items() = std::move(replace->items());
  }
  if (ConfigNode* prepend = FindEntry(directives, kPrependDirective)) {
    Prepend(list.items(), std::move(prepend->items()));
  }
  if (ConfigNode* append = FindEntry(directives, kAppendDirective)) {
    Append(list.items(), std::move(append->items()));
  }
}

// Both sides are directive maps: the result, applied to a list later, must
// equal applying `target` and then `source`.
void CombineDirectives(ConfigNode& target, ConfigNode&& source) {
  if (ConfigNode* replace = FindEntry(source, kReplaceDirective)) {
    EraseEntry(target, kPrependDirective);
    EraseEntry(target, kAppendDirective);
    ConfigNode list = ConfigNode::Sequence(replace->location());
    list.items() = std::move(replace->items());
    target.Set(kReplaceDirective, std::move(list), replace->location());
  }
  for (const char* key : {kPrependDirective, kAppendDirective}) {
    ConfigNode* from = FindEntry(source, key);
    if (from == nullptr || from->items().empty()) continue;
    ConfigNode* into = FindEntry(target, key);
    if (into == nullptr || !into->is_sequence()) {
      ConfigNode list = ConfigNode::Sequence(from->location());
      target.Set(key, std::move(list), from->location());
      into = FindEntry(target, key);
    }
    if (key == kPrependDirective) {
      Prepend(into->items(), std::move(from->items()));
    } else {
      Append(into->items(), std::move(from->items()));
    }
  }
}

Status CompositeMap(ConfigNode& base, ConfigNode&& overlay, const std::string& path);

Status CompositeEntry(ConfigNode& base, ConfigNode::Entry&& entry, const std::string& path) {
  ConfigNode& value = entry.value;
  ConfigNode* target = base.Get(entry.key);
  const std::string key_path = JoinPath(path, entry.key);
  auto where_target = [&] { return target->location().ToString(); };

  if (value.is_sequence()) {
    if (target != nullptr && !target->is_null() && !target->is_sequence()) {
      CAIRN_ASSIGN_OR_RETURN(bool directives, IsListDirectiveMap(*target));
      if (!directives) {
        return ConfigError(value.location(), "'" + key_path + "': a list cannot replace the " +
                                                 KindName(*target) + " at " + where_target());
      }
    }
    // Conditionals of an included file and of the file including it are
    // all kept (bst's special case for "(?)").
    if (entry.key == "(?)" && target != nullptr && target->is_sequence()) {
      Append(target->items(), std::move(value.items()));
      return Status::Ok();
    }
    base.Set(entry.key, std::move(value), std::move(entry.key_location));
    return Status::Ok();
  }

  if (value.is_map()) {
    CAIRN_ASSIGN_OR_RETURN(bool directives, IsListDirectiveMap(value));
    if (directives) {
      CAIRN_RETURN_IF_ERROR(CheckDirectiveValues(value));
      if (target == nullptr || target->is_null()) {
        // Kept for a list composited under it later.
        base.Set(entry.key, std::move(value), std::move(entry.key_location));
        return Status::Ok();
      }
      if (target->is_sequence()) {
        ApplyDirectives(*target, std::move(value));
        return Status::Ok();
      }
      CAIRN_ASSIGN_OR_RETURN(bool target_directives, IsListDirectiveMap(*target));
      if (target_directives) {
        CombineDirectives(*target, std::move(value));
        return Status::Ok();
      }
      return ConfigError(value.location(),
                         "'" + key_path + "': list directives apply to a list, but the " +
                             "value at " + where_target() + " is a " + KindName(*target));
    }
    if (target == nullptr || target->is_null()) {
      base.Set(entry.key, std::move(value), std::move(entry.key_location));
      return Status::Ok();
    }
    if (!target->is_map()) {
      return ConfigError(value.location(), "'" + key_path + "': a map cannot replace the " +
                                               KindName(*target) + " at " + where_target());
    }
    CAIRN_ASSIGN_OR_RETURN(bool target_directives, IsListDirectiveMap(*target));
    if (target_directives) {
      return ConfigError(value.location(), "'" + key_path + "': a map cannot replace the " +
                                               "list directives at " + where_target());
    }
    return CompositeMap(*target, std::move(value), key_path);
  }

  // A scalar or null (bst reads an empty value as an empty string here).
  if (target != nullptr && (target->is_map() || target->is_sequence())) {
    return ConfigError(value.location(), "'" + key_path + "': a " + KindName(value) +
                                             " cannot replace the " + KindName(*target) + " at " +
                                             where_target());
  }
  base.Set(entry.key, std::move(value), std::move(entry.key_location));
  return Status::Ok();
}

Status CompositeMap(ConfigNode& base, ConfigNode&& overlay, const std::string& path) {
  for (ConfigNode::Entry& entry : overlay.entries()) {
    CAIRN_RETURN_IF_ERROR(CompositeEntry(base, std::move(entry), path));
  }
  return Status::Ok();
}

// Turns the directive map `node` into its list.
void DirectivesToList(ConfigNode& node) {
  ConfigNode list = ConfigNode::Sequence(node.location());
  ApplyDirectives(list, std::move(node));
  node = std::move(list);
}

}  // namespace

StatusOr<bool> IsListDirectiveMap(const ConfigNode& node) {
  if (!node.is_map()) return false;
  const ConfigNode::Entry* directive = nullptr;
  const ConfigNode::Entry* other = nullptr;
  for (const ConfigNode::Entry& entry : node.entries()) {
    (IsDirectiveKey(entry.key) ? directive : other) = &entry;
  }
  if (directive != nullptr && other != nullptr) {
    return ConfigError(other->key_location, "a map holding list directives ('" + directive->key +
                                                "') cannot also hold the key '" + other->key + "'");
  }
  return directive != nullptr;
}

Status Composite(ConfigNode& base, ConfigNode&& overlay) {
  if (overlay.is_null()) return Status::Ok();
  if (!overlay.is_map()) {
    return ConfigError(overlay.location(),
                       std::string("only a map can be composited, not a ") + KindName(overlay));
  }
  if (base.is_null()) base = ConfigNode::Map(overlay.location());
  if (!base.is_map()) {
    return ConfigError(overlay.location(), std::string("cannot composite a map onto the ") +
                                               KindName(base) + " at " +
                                               base.location().ToString());
  }
  return CompositeMap(base, std::move(overlay), "");
}

Status Composite(ConfigNode& base, const ConfigNode& overlay) {
  ConfigNode copy = overlay;
  return Composite(base, std::move(copy));
}

Status ResolveListDirectives(ConfigNode& node) {
  if (node.is_sequence()) {
    for (ConfigNode& item : node.items()) CAIRN_RETURN_IF_ERROR(ResolveListDirectives(item));
    return Status::Ok();
  }
  if (!node.is_map()) return Status::Ok();
  CAIRN_ASSIGN_OR_RETURN(bool directives, IsListDirectiveMap(node));
  if (directives) {
    CAIRN_RETURN_IF_ERROR(CheckDirectiveValues(node));
    DirectivesToList(node);
    return ResolveListDirectives(node);
  }
  for (ConfigNode::Entry& entry : node.entries()) {
    CAIRN_RETURN_IF_ERROR(ResolveListDirectives(entry.value));
  }
  return Status::Ok();
}

Status CheckNoListDirectives(const ConfigNode& node) {
  if (node.is_sequence()) {
    for (const ConfigNode& item : node.items()) CAIRN_RETURN_IF_ERROR(CheckNoListDirectives(item));
    return Status::Ok();
  }
  for (const ConfigNode::Entry& entry : node.entries()) {
    if (IsDirectiveKey(entry.key)) {
      return ConfigError(entry.key_location,
                         "'" + entry.key + "' overrides a list that does not exist");
    }
    CAIRN_RETURN_IF_ERROR(CheckNoListDirectives(entry.value));
  }
  return Status::Ok();
}

}  // namespace cairn::project
