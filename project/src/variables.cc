#include "cairn/project/variables.h"

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace cairn::project {
namespace {

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool IsNameChar(char c) {
  return IsAsciiLetter(c) || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Walks `text` once, calling literal(begin, length) for plain text and
// reference(name) for each `%{name}`, in order. This is bst's
// VALUE_EXPRESSION_REGEX, `%\{([a-zA-Z][a-zA-Z0-9_-]*)\}`, matched left to
// right: a `%` that does not start a reference is plain text.
template <typename Literal, typename Reference>
void ScanValue(std::string_view text, Literal&& literal, Reference&& reference) {
  size_t literal_begin = 0;
  size_t search = 0;
  while (true) {
    size_t percent = text.find('%', search);
    if (percent == std::string_view::npos) break;
    size_t name_begin = percent + 2;
    size_t end = name_begin;
    if (name_begin < text.size() && text[percent + 1] == '{' && IsAsciiLetter(text[name_begin])) {
      end = name_begin + 1;
      while (end < text.size() && IsNameChar(text[end])) ++end;
    }
    if (end == name_begin || end >= text.size() || text[end] != '}') {
      search = percent + 1;
      continue;
    }
    if (percent > literal_begin) literal(literal_begin, percent - literal_begin);
    reference(text.substr(name_begin, end - name_begin));
    literal_begin = search = end + 1;
  }
  if (literal_begin < text.size()) literal(literal_begin, text.size() - literal_begin);
}

// One piece of a parsed value: `length` bytes of literal text at `begin`,
// or (ref >= 0) the value of variable number `ref`.
struct Segment {
  uint32_t begin;
  uint32_t length;
  int32_t ref;
};

// A variable as read, before resolution.
struct RawVariable {
  std::string_view name;
  std::string_view text;  // stripped
  const SourceLocation* where;
  uint32_t first_segment = 0;
  uint32_t end_segment = 0;
};

const char* KindName(const ConfigNode& node) {
  switch (node.kind()) {
    case ConfigNode::Kind::kSequence:
      return "a list";
    case ConfigNode::Kind::kMap:
      return "a map";
    default:
      return "a scalar";
  }
}

// bst reads `notparallel` as a boolean (_yaml.node_get(node, bool, ...)).
StatusOr<bool> NotParallel(const ConfigNode& value) {
  if (value.is_null()) return false;
  std::string_view text = StripYamlWhitespace(value.scalar());
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return ConfigError(value.location(), "variable 'notparallel' must be true or false, not '" +
                                           std::string(text) + "'");
}

constexpr uint8_t kUnvisited = 0;
constexpr uint8_t kInProgress = 1;
constexpr uint8_t kDone = 2;

Status CycleError(const std::vector<RawVariable>& raw, const std::vector<int32_t>& chain) {
  std::string path;
  std::string steps;
  for (size_t i = 0; i < chain.size(); ++i) {
    const RawVariable& variable = raw[chain[i]];
    if (i > 0) path += " -> ";
    path += variable.name;
    if (i + 1 < chain.size()) {
      steps += "\n  " + variable.where->ToString() + ": '" + std::string(variable.name) +
               "' refers to '" + std::string(raw[chain[i + 1]].name) + "'";
    }
  }
  return ConfigError(*raw[chain.front()].where,
                     "circular reference between variables: " + path + steps);
}

}  // namespace

std::string_view StripYamlWhitespace(std::string_view text) {
  // Python's str.isspace() for ASCII: \t \n \v \f \r, \x1c-\x1f and space.
  auto is_space = [](char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
  };
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

StatusOr<Variables> Variables::Resolve(const ConfigNode& variables) {
  Variables result;
  if (variables.is_null()) return result;
  if (!variables.is_map()) {
    return ConfigError(variables.location(),
                       std::string("variables must be a map, not ") + KindName(variables));
  }

  std::vector<RawVariable> raw;
  raw.reserve(variables.entries().size() + 1);
  const ConfigNode* not_parallel = nullptr;
  for (const ConfigNode::Entry& entry : variables.entries()) {
    const ConfigNode& value = entry.value;
    if (!value.is_scalar() && !value.is_null()) {
      return ConfigError(value.location(),
                         "variable '" + entry.key + "' must be a scalar, not " + KindName(value));
    }
    if (entry.key == "notparallel") not_parallel = &value;
    raw.push_back({entry.key, StripYamlWhitespace(value.scalar()), &value.location()});
  }
  if (not_parallel != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(bool serial, NotParallel(*not_parallel));
    if (serial) {
      // Appended last, so it replaces any max-jobs when duplicates are dropped.
      raw.push_back({"max-jobs", "1", &not_parallel->location()});
    }
  }

  // Sorted by name; for a repeated name the later entry wins, as when the
  // map was composed.
  std::stable_sort(raw.begin(), raw.end(),
                   [](const RawVariable& a, const RawVariable& b) { return a.name < b.name; });
  std::vector<RawVariable> unique;
  unique.reserve(raw.size());
  for (const RawVariable& variable : raw) {
    if (!unique.empty() && unique.back().name == variable.name) {
      unique.back() = variable;
    } else {
      unique.push_back(variable);
    }
  }
  raw = std::move(unique);

  auto index_of = [&raw](std::string_view name) -> int32_t {
    auto it = std::lower_bound(raw.begin(), raw.end(), name,
                               [](const RawVariable& v, std::string_view n) { return v.name < n; });
    if (it == raw.end() || it->name != name) return -1;
    return static_cast<int32_t>(it - raw.begin());
  };

  // Parse every value once into segments.
  std::vector<Segment> segments;
  segments.reserve(raw.size() * 2);
  for (RawVariable& variable : raw) {
    variable.first_segment = static_cast<uint32_t>(segments.size());
    std::string_view undefined;
    ScanValue(
        variable.text,
        [&](size_t begin, size_t length) {
          segments.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(length), -1});
        },
        [&](std::string_view name) {
          int32_t ref = index_of(name);
          if (ref < 0 && undefined.empty()) undefined = name;
          segments.push_back({0, 0, ref});
        });
    if (!undefined.empty()) {
      return ConfigError(*variable.where, "variable '" + std::string(variable.name) +
                                              "' refers to undefined variable '" +
                                              std::string(undefined) + "'");
    }
    variable.end_segment = static_cast<uint32_t>(segments.size());
  }

  // Memoized depth-first resolution with an explicit stack, so a long chain
  // of references cannot overflow the call stack.
  std::vector<std::string> values(raw.size());
  std::vector<uint8_t> state(raw.size(), kUnvisited);
  std::vector<int32_t> stack;
  std::vector<uint32_t> next_segment(raw.size(), 0);
  for (int32_t root = 0; root < static_cast<int32_t>(raw.size()); ++root) {
    if (state[root] == kDone) continue;
    stack.push_back(root);
    state[root] = kInProgress;
    next_segment[root] = raw[root].first_segment;
    while (!stack.empty()) {
      int32_t current = stack.back();
      const RawVariable& variable = raw[current];
      uint32_t& next = next_segment[current];
      int32_t pending = -1;
      for (; next < variable.end_segment; ++next) {
        int32_t ref = segments[next].ref;
        if (ref >= 0 && state[ref] != kDone) {
          pending = ref;
          break;
        }
      }
      if (pending >= 0) {
        if (state[pending] == kInProgress) {
          std::vector<int32_t> chain(std::find(stack.begin(), stack.end(), pending), stack.end());
          chain.push_back(pending);
          return CycleError(raw, chain);
        }
        state[pending] = kInProgress;
        next_segment[pending] = raw[pending].first_segment;
        stack.push_back(pending);
        continue;
      }
      size_t length = 0;
      for (uint32_t i = variable.first_segment; i < variable.end_segment; ++i) {
        length += segments[i].ref >= 0 ? values[segments[i].ref].size() : segments[i].length;
      }
      std::string& value = values[current];
      value.reserve(length);
      for (uint32_t i = variable.first_segment; i < variable.end_segment; ++i) {
        const Segment& segment = segments[i];
        if (segment.ref >= 0) {
          value += values[segment.ref];
        } else {
          value.append(variable.text.data() + segment.begin, segment.length);
        }
      }
      state[current] = kDone;
      stack.pop_back();
    }
  }

  result.names_.reserve(raw.size());
  for (const RawVariable& variable : raw) result.names_.emplace_back(variable.name);
  result.values_ = std::move(values);
  return result;
}

const std::string* Variables::FindView(std::string_view name) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), name,
                             [](const std::string& a, std::string_view b) { return a < b; });
  if (it == names_.end() || *it != name) return nullptr;
  return &values_[it - names_.begin()];
}

const std::string* Variables::Find(const std::string& name) const { return FindView(name); }

StatusOr<std::string> Variables::Substitute(const std::string& text,
                                            const SourceLocation& where) const {
  std::string result;
  if (text.find('%') == std::string::npos) return text;
  result.reserve(text.size());
  std::string_view undefined;
  std::string_view view(text);
  ScanValue(
      view, [&](size_t begin, size_t length) { result.append(text, begin, length); },
      [&](std::string_view name) {
        const std::string* value = FindView(name);
        if (value != nullptr) {
          result += *value;
        } else if (undefined.empty()) {
          undefined = name;
        }
      });
  if (!undefined.empty()) {
    return ConfigError(where, "reference to undefined variable '" + std::string(undefined) + "'");
  }
  return result;
}

Status Variables::SubstituteTree(ConfigNode& node) const {
  switch (node.kind()) {
    case ConfigNode::Kind::kNull:
      return Status::Ok();
    case ConfigNode::Kind::kScalar: {
      std::string_view stripped = StripYamlWhitespace(node.scalar());
      if (stripped.find('%') == std::string_view::npos) {
        // Most scalars hold no reference: only trim them.
        if (stripped.size() != node.scalar().size()) node.set_scalar(std::string(stripped));
        return Status::Ok();
      }
      CAIRN_ASSIGN_OR_RETURN(std::string value, Substitute(std::string(stripped), node.location()));
      node.set_scalar(std::move(value));
      return Status::Ok();
    }
    case ConfigNode::Kind::kSequence:
      for (ConfigNode& item : node.items()) CAIRN_RETURN_IF_ERROR(SubstituteTree(item));
      return Status::Ok();
    case ConfigNode::Kind::kMap:
      for (ConfigNode::Entry& entry : node.entries()) {
        CAIRN_RETURN_IF_ERROR(SubstituteTree(entry.value));
      }
      return Status::Ok();
  }
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> Variables::Sorted() const {
  std::vector<std::pair<std::string, std::string>> sorted;
  sorted.reserve(names_.size());
  for (size_t i = 0; i < names_.size(); ++i) sorted.emplace_back(names_[i], values_[i]);
  return sorted;
}

}  // namespace cairn::project
