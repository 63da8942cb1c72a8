// BuildStream's (@) includes; see includes.h for the rules.
#include "cairn/project/includes.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "cairn/project/composite.h"
#include "cairn/project/options.h"

namespace cairn::project {
namespace fs = std::filesystem;

Includer::Includer(std::string project_dir) : project_dir_(std::move(project_dir)) {
  std::error_code error;
  fs::path canonical = fs::canonical(project_dir_, error);
  canonical_project_dir_ =
      error ? fs::path(project_dir_).lexically_normal().string() : canonical.string();
}

void Includer::set_options(const OptionPool* options) {
  options_ = options;
  processed_.clear();
}

Status Includer::Process(ConfigNode& node) { return ProcessValue(node); }

Status Includer::ProcessValue(ConfigNode& value) {
  if (value.is_map()) return ProcessNode(value);
  if (value.is_sequence()) {
    for (ConfigNode& item : value.items()) CAIRN_RETURN_IF_ERROR(ProcessValue(item));
  }
  return Status::Ok();
}

Status Includer::ProcessNode(ConfigNode& node) {
  std::vector<ConfigNode::Entry>& entries = node.entries();
  auto directive = std::find_if(entries.begin(), entries.end(),
                                [](const ConfigNode::Entry& e) { return e.key == "(@)"; });
  if (directive != entries.end()) {
    ConfigNode value = std::move(directive->value);
    entries.erase(directive);

    std::vector<Include> includes;
    if (value.is_null()) {
      // "(@):" with nothing: bst includes nothing.
    } else if (value.is_scalar()) {
      includes.push_back({value.scalar(), value.location()});
    } else if (value.is_sequence()) {
      for (const ConfigNode& item : value.items()) {
        if (!item.is_scalar()) {
          return ConfigError(item.location(), "'(@)' must list file names");
        }
        includes.push_back({item.scalar(), item.location()});
      }
    } else {
      return ConfigError(value.location(), "'(@)' must be a file name or a list of file names");
    }

    // bst composites the last include under the map first, then each
    // earlier one under the result: a later file wins over an earlier one.
    for (auto include = includes.rbegin(); include != includes.rend(); ++include) {
      CAIRN_ASSIGN_OR_RETURN(ConfigNode included, Load(*include));
      // The map keeps its own position; its entries are the included
      // file's with this map composited on top.
      ConfigNode composed = ConfigNode::Map(node.location());
      CAIRN_RETURN_IF_ERROR(Composite(composed, std::move(included)));
      CAIRN_RETURN_IF_ERROR(Composite(composed, std::move(node)));
      node = std::move(composed);
    }
  }
  for (ConfigNode::Entry& entry : node.entries()) CAIRN_RETURN_IF_ERROR(ProcessValue(entry.value));
  return Status::Ok();
}

std::string Includer::DisplayPath(const Include& include) const {
  return (fs::path(project_dir_) / fs::path(include.name).lexically_normal()).string();
}

StatusOr<std::string> Includer::Resolve(const Include& include) {
  // realpath() costs a system call per path component: once per name.
  auto known = resolved_.find(include.name);
  if (known != resolved_.end()) return known->second;
  const std::string quoted = "'" + include.name + "'";
  fs::path relative = fs::path(include.name).lexically_normal();
  if (relative.is_absolute() || (!relative.empty() && *relative.begin() == "..")) {
    return ConfigError(include.where,
                       "cannot include " + quoted + ": it leads outside the project directory");
  }
  const fs::path path = fs::path(project_dir_) / relative;
  std::error_code error;
  const fs::path canonical = fs::canonical(path, error);
  if (error) {
    return ConfigError(include.where, "cannot include " + quoted + ": " +
                                          (error == std::errc::no_such_file_or_directory
                                               ? "no such file in the project directory"
                                               : error.message()));
  }
  const std::string key = canonical.string();
  if (key.compare(0, canonical_project_dir_.size(), canonical_project_dir_) != 0 ||
      key.size() <= canonical_project_dir_.size() || key[canonical_project_dir_.size()] != '/') {
    return ConfigError(
        include.where,
        "cannot include " + quoted + ": it leads outside the project directory (to " + key + ")");
  }
  resolved_.emplace(include.name, key);
  return key;
}

StatusOr<ConfigNode> Includer::Load(const Include& include) {
  const std::string quoted = "'" + include.name + "'";
  if (include.name.empty()) return ConfigError(include.where, "empty file name in '(@)'");
  if (include.name.find(':') != std::string::npos) {
    return ConfigError(include.where, "cannot include " + quoted +
                                          ": includes from junctions ('junction:file') are not "
                                          "supported");
  }
  CAIRN_ASSIGN_OR_RETURN(const std::string key, Resolve(include));
  for (size_t i = 0; i < chain_.size(); ++i) {
    if (chain_[i].first != key) continue;
    std::string cycle;
    for (size_t j = i; j < chain_.size(); ++j) cycle += chain_[j].second + " -> ";
    return ConfigError(include.where, "include cycle: " + cycle + include.name);
  }

  auto cached = processed_.find(key);
  if (cached != processed_.end()) return cached->second;

  std::error_code error;
  if (fs::is_directory(key, error)) {
    return ConfigError(include.where, "cannot include " + quoted + ": it is a directory");
  }
  StatusOr<ConfigNode> parsed = ConfigNode::ParseFile(DisplayPath(include));
  if (!parsed.ok()) {
    // A YAML error names its own position; an I/O error needs the (@).
    if (parsed.status().code() == Code::kInvalidArgument) return parsed.status();
    return ConfigError(include.where,
                       "cannot include " + quoted + ": " + parsed.status().message());
  }
  ConfigNode document = std::move(parsed).value();
  if (document.is_null()) document = ConfigNode::Map(document.location());
  if (!document.is_map()) {
    return ConfigError(document.location(), "an included file must hold a map (included as " +
                                                quoted + " at " + include.where.ToString() + ")");
  }
  if (options_ != nullptr) CAIRN_RETURN_IF_ERROR(options_->ProcessConditionals(document));

  chain_.emplace_back(key, include.name);
  Status status = ProcessNode(document);
  chain_.pop_back();
  CAIRN_RETURN_IF_ERROR(status);
  return processed_.emplace(key, std::move(document)).first->second;
}

}  // namespace cairn::project
