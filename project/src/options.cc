// Project options (bst 1.6 _options/); see options.h for the rules.
#include "cairn/project/options.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "cairn/project/composite.h"

namespace cairn::project {
namespace {

// bst's assert_symbol_name: letters, digits, underscores (and dashes where
// allowed), not starting with a digit.
bool IsSymbolName(const std::string& name, bool allow_dashes) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && !(allow_dashes && c == '-')) {
      return false;
    }
  }
  return true;
}

std::string HostArch() {
  struct utsname host;
  if (uname(&host) != 0) return "";
  return host.machine;
}

std::string Join(const std::vector<std::string>& values, const char* separator) {
  std::string out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += separator;
    out += values[i];
  }
  return out;
}

bool Contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

const char* TypeName(int type) {
  static const char* const kNames[] = {"bool", "enum", "flags", "arch"};
  return kNames[type];
}

// How YAML spells a boolean for bst (ruamel's YAML 1.2 booleans).
bool ParseYamlBool(const std::string& text, bool* value) {
  if (text == "true" || text == "True" || text == "TRUE") {
    *value = true;
  } else if (text == "false" || text == "False" || text == "FALSE") {
    *value = false;
  } else {
    return false;
  }
  return true;
}

StatusOr<std::vector<std::string>> ScalarList(const ConfigNode& node, const std::string& what) {
  std::vector<std::string> values;
  if (node.is_null()) return values;
  if (!node.is_sequence()) return ConfigError(node.location(), what + " must be a list");
  for (const ConfigNode& item : node.items()) {
    if (!item.is_scalar()) return ConfigError(item.location(), what + " must be a list of strings");
    values.push_back(item.scalar());
  }
  return values;
}

}  // namespace

OptionPool::OptionPool(std::string host_arch)
    : host_arch_(host_arch.empty() ? HostArch() : std::move(host_arch)) {}

OptionPool::OptionPool(const OptionPool& other)
    : host_arch_(other.host_arch_), options_(other.options_), index_(other.index_) {}

OptionPool& OptionPool::operator=(const OptionPool& other) {
  host_arch_ = other.host_arch_;
  options_ = other.options_;
  index_ = other.index_;
  ForgetResults();
  return *this;
}

void OptionPool::ForgetResults() {
  if (!cache_) cache_ = std::make_unique<ResultCache>();
  std::lock_guard<std::mutex> lock(cache_->mutex);
  cache_->results.clear();
}

StatusOr<bool> OptionPool::Evaluate(const std::string& expression) const {
  if (cache_) {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    auto known = cache_->results.find(expression);
    if (known != cache_->results.end()) return known->second;
  }
  CAIRN_ASSIGN_OR_RETURN(bool holds, EvaluateCondition(expression, *this));
  if (cache_) {
    std::lock_guard<std::mutex> lock(cache_->mutex);
    cache_->results.emplace(expression, holds);
  }
  return holds;
}

StatusOr<OptionPool::Option> OptionPool::ReadOption(const ConfigNode::Entry& entry) const {
  Option option;
  option.name = entry.key;
  option.declared = entry.key_location;
  if (!IsSymbolName(entry.key, /*allow_dashes=*/false)) {
    return ConfigError(entry.key_location,
                       "invalid option name '" + entry.key +
                           "': use letters, digits and underscores, not starting with a digit");
  }
  const ConfigNode& definition = entry.value;
  const std::string quoted = "option '" + entry.key + "'";
  if (!definition.is_map()) return ConfigError(definition.location(), quoted + " must be a map");

  const ConfigNode* type = definition.Get("type");
  if (type == nullptr) return ConfigError(definition.location(), quoted + " has no 'type'");
  const std::string type_name = type->is_scalar() ? type->scalar() : "";
  if (type_name == "bool") {
    option.type = Type::kBool;
  } else if (type_name == "enum") {
    option.type = Type::kEnum;
  } else if (type_name == "flags") {
    option.type = Type::kFlags;
  } else if (type_name == "arch") {
    option.type = Type::kArch;
  } else {
    return ConfigError(type->location(), "invalid type '" + type_name + "' for " + quoted +
                                             " (bool, enum, flags or arch)");
  }
  const std::string described = std::string(TypeName(static_cast<int>(option.type))) + " " + quoted;

  for (const ConfigNode::Entry& key : definition.entries()) {
    bool known = key.key == "type" || key.key == "description" || key.key == "variable" ||
                 (key.key == "default" && option.type != Type::kArch) ||
                 (key.key == "values" && option.type != Type::kBool);
    if (!known) {
      return ConfigError(key.key_location, "unexpected key '" + key.key + "' in " + described);
    }
  }

  const ConfigNode* description = definition.Get("description");
  if (description == nullptr) {
    return ConfigError(definition.location(), quoted + " has no 'description'");
  }
  if (!description->is_scalar()) {
    return ConfigError(description->location(),
                       "the description of " + quoted + " must be a string");
  }
  option.description = description->scalar();

  if (const ConfigNode* variable = definition.Get("variable")) {
    if (!variable->is_scalar() || !IsSymbolName(variable->scalar(), /*allow_dashes=*/true)) {
      return ConfigError(variable->location(),
                         "invalid variable name for " + quoted +
                             ": use letters, digits, underscores and dashes, not starting with "
                             "a digit");
    }
    option.variable = variable->scalar();
  }

  const ConfigNode* values = definition.Get("values");
  if (option.type != Type::kBool) {
    if (values != nullptr) {
      CAIRN_ASSIGN_OR_RETURN(option.values, ScalarList(*values, "the values of " + quoted));
    }
    if (option.values.empty()) {
      return ConfigError(definition.location(), "no values specified for " + described);
    }
  }
  const std::string valid = " (valid values: " + Join(option.values, ", ") + ")";

  const ConfigNode* default_value = definition.Get("default");
  switch (option.type) {
    case Type::kBool: {
      bool value = false;
      if (default_value == nullptr) {
        return ConfigError(definition.location(), described + " has no 'default'");
      }
      if (!default_value->is_scalar() || !ParseYamlBool(default_value->scalar(), &value)) {
        return ConfigError(default_value->location(),
                           "the default of " + described + " must be true or false");
      }
      option.value = ConditionValue::Bool(value);
      break;
    }
    case Type::kEnum:
      if (default_value == nullptr) {
        return ConfigError(definition.location(), described + " has no 'default'");
      }
      if (!default_value->is_scalar() || !Contains(option.values, default_value->scalar())) {
        return ConfigError(default_value->location(), "invalid default for " + described + ": " +
                                                          default_value->ToYaml() + valid);
      }
      option.value = ConditionValue::String(default_value->scalar());
      break;
    case Type::kFlags: {
      std::vector<std::string> flags;
      if (default_value != nullptr) {
        CAIRN_ASSIGN_OR_RETURN(flags, ScalarList(*default_value, "the default of " + quoted));
      }
      for (const std::string& flag : flags) {
        if (!Contains(option.values, flag)) {
          return ConfigError(default_value->location(),
                             "invalid default for " + described + ": '" + flag + "'" + valid);
        }
      }
      // Kept in the declared order, as bst does for defaults.
      option.value = ConditionValue::StringList(flags);
      break;
    }
    case Type::kArch:
      option.value = ConditionValue::String(host_arch_);
      option.arch_from_host = true;
      break;
  }
  return option;
}

Status OptionPool::Declare(const ConfigNode& options) {
  ForgetResults();
  if (options.is_null()) return Status::Ok();
  if (!options.is_map()) return ConfigError(options.location(), "'options' must be a map");
  for (const ConfigNode::Entry& entry : options.entries()) {
    CAIRN_ASSIGN_OR_RETURN(Option option, ReadOption(entry));
    auto found = index_.find(option.name);
    if (found != index_.end()) {
      options_[found->second] = std::move(option);
    } else {
      index_.emplace(option.name, options_.size());
      options_.push_back(std::move(option));
    }
  }
  return Status::Ok();
}

Status OptionPool::SetOption(Option& option, const std::string& value,
                             const SourceLocation& where) {
  ForgetResults();
  const std::string described =
      std::string(TypeName(static_cast<int>(option.type))) + " option '" + option.name + "'";
  switch (option.type) {
    case Type::kBool:
      // bst takes exactly these four spellings for a boolean value.
      if (value == "true" || value == "True") {
        option.value = ConditionValue::Bool(true);
      } else if (value == "false" || value == "False") {
        option.value = ConditionValue::Bool(false);
      } else {
        return ConfigError(where, "invalid value '" + value + "' for " + described +
                                      " (valid values: true, false)");
      }
      return Status::Ok();
    case Type::kEnum:
    case Type::kArch:
      if (!Contains(option.values, value)) {
        return ConfigError(where, "invalid value '" + value + "' for " + described +
                                      " (valid values: " + Join(option.values, ", ") + ")");
      }
      option.value = ConditionValue::String(value);
      option.arch_from_host = false;
      return Status::Ok();
    case Type::kFlags: {
      // "a, b" on the command line: whitespace dropped, split at commas.
      std::string stripped;
      for (char c : value) {
        if (!std::isspace(static_cast<unsigned char>(c))) stripped += c;
      }
      std::vector<std::string> flags;
      size_t start = 0;
      while (true) {
        size_t comma = stripped.find(',', start);
        flags.push_back(stripped.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      for (const std::string& flag : flags) {
        if (!Contains(option.values, flag)) {
          return ConfigError(where, "invalid value '" + flag + "' for " + described +
                                        " (valid values: " + Join(option.values, ", ") + ")");
        }
      }
      std::sort(flags.begin(), flags.end());
      option.value = ConditionValue::StringList(flags);
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status OptionPool::Set(const std::string& name, const std::string& value,
                       const SourceLocation& where) {
  auto found = index_.find(name);
  if (found == index_.end()) {
    return ConfigError(where, "unknown option '" + name + "' (set to '" + value + "')");
  }
  return SetOption(options_[found->second], value, where);
}

Status OptionPool::SetValues(const ConfigNode& values) {
  if (values.is_null()) return Status::Ok();
  if (!values.is_map()) return ConfigError(values.location(), "option values must be a map");
  for (const ConfigNode::Entry& entry : values.entries()) {
    auto found = index_.find(entry.key);
    if (found == index_.end()) {
      return ConfigError(entry.key_location, "unknown option '" + entry.key + "'");
    }
    Option& option = options_[found->second];
    const ConfigNode& value = entry.value;
    if (option.type == Type::kFlags && (value.is_sequence() || value.is_null())) {
      CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> flags,
                             ScalarList(value, "the value of option '" + entry.key + "'"));
      for (const std::string& flag : flags) {
        if (!Contains(option.values, flag)) {
          return ConfigError(value.location(),
                             "invalid value '" + flag + "' for flags option '" + entry.key +
                                 "' (valid values: " + Join(option.values, ", ") + ")");
        }
      }
      std::sort(flags.begin(), flags.end());
      option.value = ConditionValue::StringList(flags);
      ForgetResults();
      continue;
    }
    if (!value.is_scalar()) {
      return ConfigError(value.location(),
                         "the value of option '" + entry.key + "' must be a string");
    }
    std::string text = value.scalar();
    bool boolean = false;
    // YAML's TRUE/FALSE are booleans too; normalise before SetOption.
    if (option.type == Type::kBool && ParseYamlBool(text, &boolean)) {
      text = boolean ? "true" : "false";
    }
    CAIRN_RETURN_IF_ERROR(SetOption(option, text, value.location()));
  }
  return Status::Ok();
}

Status OptionPool::CheckArch(const Option& option) const {
  if (option.type != Type::kArch || !option.arch_from_host) return Status::Ok();
  if (Contains(option.values, option.value.text)) return Status::Ok();
  return ConfigError(option.declared, "the host architecture '" + option.value.text +
                                          "' is not a valid value of arch option '" + option.name +
                                          "' (valid values: " + Join(option.values, ", ") +
                                          "); set one with -o " + option.name + " VALUE");
}

Status OptionPool::Resolve() const {
  for (const Option& option : options_) CAIRN_RETURN_IF_ERROR(CheckArch(option));
  return Status::Ok();
}

const ConditionValue* OptionPool::ConditionValueOf(const std::string& name) const {
  auto found = index_.find(name);
  return found == index_.end() ? nullptr : &options_[found->second].value;
}

Status OptionPool::ProcessConditionals(ConfigNode& node) const {
  CAIRN_RETURN_IF_ERROR(Resolve());
  return ProcessValue(node);
}

Status OptionPool::ProcessValue(ConfigNode& value) const {
  if (value.is_map()) return ProcessMap(value);
  if (value.is_sequence()) {
    for (ConfigNode& item : value.items()) CAIRN_RETURN_IF_ERROR(ProcessValue(item));
  }
  return Status::Ok();
}

Status OptionPool::ProcessMap(ConfigNode& map) const {
  // A fragment can bring another (?) into this map: repeat until none is
  // left, as bst does.
  while (true) {
    if (const ConfigNode* assertion = map.Get("(!)")) {
      if (!assertion->is_scalar()) {
        return ConfigError(assertion->location(), "'(!)' must be a message");
      }
      std::string message = assertion->scalar();
      while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) {
        message.pop_back();
      }
      return ConfigError(assertion->location(), message);
    }
    std::vector<ConfigNode::Entry>& entries = map.entries();
    auto conditional = std::find_if(entries.begin(), entries.end(),
                                    [](const ConfigNode::Entry& e) { return e.key == "(?)"; });
    if (conditional == entries.end()) break;
    ConfigNode conditions = std::move(conditional->value);
    entries.erase(conditional);
    CAIRN_RETURN_IF_ERROR(ApplyConditionals(map, std::move(conditions)));
  }
  for (ConfigNode::Entry& entry : map.entries()) CAIRN_RETURN_IF_ERROR(ProcessValue(entry.value));
  return Status::Ok();
}

Status OptionPool::ApplyConditionals(ConfigNode& map, ConfigNode&& conditions) const {
  if (!conditions.is_sequence()) {
    return ConfigError(conditions.location(), "'(?)' must be a list of conditions");
  }
  for (ConfigNode& condition : conditions.items()) {
    if (!condition.is_map() || condition.entries().size() != 1) {
      return ConfigError(condition.location(),
                         "a conditional must be a map with one key, its expression");
    }
    ConfigNode::Entry& entry = condition.entries()[0];
    StatusOr<bool> holds = Evaluate(entry.key);
    if (!holds.ok()) {
      return ConfigError(entry.key_location,
                         "cannot evaluate '" + entry.key + "': " + holds.status().message());
    }
    if (!entry.value.is_map()) {
      return ConfigError(entry.value.location(),
                         "the value of a conditional must be a map to composite");
    }
    if (*holds) CAIRN_RETURN_IF_ERROR(Composite(map, std::move(entry.value)));
  }
  return Status::Ok();
}

std::string OptionPool::Exported(const Option& option) {
  switch (option.type) {
    case Type::kBool:
      return option.value.boolean ? "1" : "0";
    case Type::kFlags: {
      std::string out;
      for (size_t i = 0; i < option.value.items.size(); ++i) {
        if (i > 0) out += ",";
        out += option.value.items[i].text;
      }
      return out;
    }
    case Type::kEnum:
    case Type::kArch:
      return option.value.text;
  }
  return "";
}

std::vector<std::pair<std::string, std::string>> OptionPool::ExportedVariables() const {
  std::vector<std::pair<std::string, std::string>> variables;
  for (const Option& option : options_) {
    if (!option.variable.empty()) variables.emplace_back(option.variable, Exported(option));
  }
  return variables;
}

std::vector<std::pair<std::string, std::string>> OptionPool::Values() const {
  std::vector<std::pair<std::string, std::string>> values;
  values.reserve(options_.size());
  for (const auto& [name, index] : index_) values.emplace_back(name, Exported(options_[index]));
  return values;
}

}  // namespace cairn::project
