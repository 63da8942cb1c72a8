// The element loader: Project::LoadElements and its ElementLoader, which
// read the target element files and everything they depend on, depth
// first, and compose each as BuildStream composes it (project.h tells the
// order of the layers). Here are the reading of an element file (its
// conditionals and includes), its dependency lists and their sorting in
// bst's order, the composition of its variables, environment, config,
// public data and sandbox, and its sources with the paths they may name.
// project.cc reads project.conf; both use the readers of yaml_readers.h.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "cairn/project/composite.h"
#include "cairn/project/defaults.h"
#include "cairn/project/includes.h"
#include "cairn/project/project.h"
#include "cairn/quote.h"
#include "yaml_readers.h"

namespace cairn::project {
namespace {

namespace fs = std::filesystem;

const std::set<std::string>& ElementKeys() {
  static const std::set<std::string> kKeys = {
      "kind",    "depends",   "build-depends", "runtime-depends",
      "sources", "variables", "environment",   "environment-nocache",
      "config",  "public",    "sandbox",       "description"};
  return kKeys;
}

StatusOr<uint32_t> ReadId(const ConfigNode& sandbox, const char* key) {
  const ConfigNode* node = sandbox.Get(key);
  if (node == nullptr || node->is_null()) return 0u;
  CAIRN_ASSIGN_OR_RETURN(std::string text, ReadString(*node, key));
  char* end = nullptr;
  errno = 0;
  unsigned long value = std::strtoul(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || value > 0xFFFFFFFEul) {
    return ConfigError(node->location(),
                       std::string(key) + " must be a number from 0 to 4294967294");
  }
  return static_cast<uint32_t>(value);
}

}  // namespace

// Reads element files, composes them and links their dependencies.
class Project::ElementLoader {
 public:
  explicit ElementLoader(const Project& project)
      : project_(project), includer_(project.directory_) {}

  StatusOr<ElementGraph> Load(const std::vector<std::string>& targets) {
    for (const std::string& target : targets) {
      CAIRN_ASSIGN_OR_RETURN(std::string name, project_.ElementName(target));
      CAIRN_ASSIGN_OR_RETURN(Element * element,
                             Visit(name, SourceLocation{"<command line>", 0, 0}));
      graph_.targets_.push_back(element);
    }
    return std::move(graph_);
  }

 private:
  struct Declared {
    std::string name;
    DependencyType type;
    SourceLocation where;
  };

  // Loads `name` and what it depends on, depth first; the stack of names
  // being loaded finds cycles.
  StatusOr<Element*> Visit(const std::string& name, const SourceLocation& referenced_at) {
    auto done = loaded_.find(name);
    if (done != loaded_.end()) return done->second;
    auto active = std::find(stack_.begin(), stack_.end(), name);
    if (active != stack_.end()) {
      std::string cycle;
      for (auto it = active; it != stack_.end(); ++it) cycle += *it + " -> ";
      return ConfigError(referenced_at, "dependency cycle: " + cycle + name);
    }
    stack_.push_back(name);
    CAIRN_ASSIGN_OR_RETURN(ConfigNode node, ReadElementFile(name, referenced_at));
    CAIRN_ASSIGN_OR_RETURN(std::vector<Declared> declared, Dependencies(node));
    std::vector<std::pair<Element*, DependencyType>> dependencies;
    for (const Declared& dependency : declared) {
      CAIRN_ASSIGN_OR_RETURN(Element * loaded, Visit(dependency.name, dependency.where));
      dependencies.emplace_back(loaded, dependency.type);
    }
    stack_.pop_back();
    SortDependencies(dependencies);

    auto element = std::make_unique<Element>();
    element->name = name;
    element->where = node.location();
    for (const auto& [dependency, type] : dependencies) {
      if (type != DependencyType::kRuntime) element->build_dependencies.push_back(dependency);
      if (type != DependencyType::kBuild) element->runtime_dependencies.push_back(dependency);
    }
    CAIRN_RETURN_IF_ERROR(Compose(node, *element));
    element->index = graph_.elements_.size();
    // What it reaches, for sorting the dependencies of what depends on it.
    std::vector<uint64_t> reach((element->index + 64) / 64, 0);
    for (const auto& [dependency, type] : dependencies) {
      const std::vector<uint64_t>& theirs = reach_[dependency->index];
      for (size_t word = 0; word < theirs.size(); ++word) reach[word] |= theirs[word];
      reach[dependency->index / 64] |= uint64_t{1} << (dependency->index % 64);
    }
    reach_.push_back(std::move(reach));
    Element* raw = element.get();
    graph_.elements_.push_back(std::move(element));
    graph_.by_name_[name] = raw;
    loaded_[name] = raw;
    return raw;
  }

  bool Reaches(const Element& from, const Element& to) const {
    const std::vector<uint64_t>& bits = reach_[from.index];
    size_t word = to.index / 64;
    return word < bits.size() && (bits[word] >> (to.index % 64) & 1) != 0;
  }

  // BuildStream's order of an element's direct dependencies
  // (_loader/loader.py, _sort_dependencies): one that depends on another
  // comes after it; otherwise runtime-only ones last; otherwise by name.
  // That comparison is not a total order, so the result depends on the
  // sorting algorithm: this is CPython's list.sort for lists under 64 (a
  // run, then binary insertion), which gives bst's order exactly; longer
  // lists fall back to a stable sort.
  void SortDependencies(std::vector<std::pair<Element*, DependencyType>>& deps) const {
    auto less = [this](const std::pair<Element*, DependencyType>& a,
                       const std::pair<Element*, DependencyType>& b) {
      if (Reaches(*a.first, *b.first)) return false;
      if (Reaches(*b.first, *a.first)) return true;
      if (a.second != b.second) {
        if (a.second == DependencyType::kRuntime) return false;
        if (b.second == DependencyType::kRuntime) return true;
      }
      return a.first->name < b.first->name;
    };
    size_t count = deps.size();
    if (count < 2) return;
    if (count >= 64) {
      std::stable_sort(deps.begin(), deps.end(), less);
      return;
    }
    size_t run = 2;
    if (less(deps[1], deps[0])) {
      while (run < count && less(deps[run], deps[run - 1])) ++run;
      std::reverse(deps.begin(), deps.begin() + static_cast<long>(run));
    } else {
      while (run < count && !less(deps[run], deps[run - 1])) ++run;
    }
    for (size_t start = run; start < count; ++start) {
      auto pivot = deps[start];
      size_t left = 0;
      size_t right = start;
      while (left < right) {
        size_t middle = left + (right - left) / 2;
        if (less(pivot, deps[middle])) {
          right = middle;
        } else {
          left = middle + 1;
        }
      }
      for (size_t at = start; at > left; --at) deps[at] = deps[at - 1];
      deps[left] = pivot;
    }
  }

  StatusOr<ConfigNode> ReadElementFile(const std::string& name,
                                       const SourceLocation& referenced_at) {
    fs::path path = (fs::path(project_.element_directory_) / name).lexically_normal();
    if (name.empty() || fs::path(name).is_absolute() ||
        !StaysInside(fs::path(project_.element_directory_), path)) {
      return ConfigError(referenced_at, "element name " + QuoteName(name) +
                                            " must be a path below the element directory");
    }
    std::error_code error;
    if (!fs::is_regular_file(path, error)) {
      return ConfigError(referenced_at, "element " + QuoteName(name) + " not found (no file " +
                                            QuoteName(path.string()) + ")");
    }
    CAIRN_ASSIGN_OR_RETURN(ConfigNode node, ConfigNode::ParseFile(path.string()));
    if (!node.is_map()) return ConfigError(node.location(), "an element must be a mapping");
    // As bst: the element's own conditionals first, then its includes
    // (each included file's conditionals processed before it is composited
    // under the element, so the element's own values win).
    CAIRN_RETURN_IF_ERROR(project_.options_->ProcessConditionals(node));
    CAIRN_RETURN_IF_ERROR(includer_.Process(node));
    CAIRN_RETURN_IF_ERROR(CheckKeys(node, ElementKeys(), "an element"));
    return node;
  }

  StatusOr<std::vector<Declared>> Dependencies(const ConfigNode& node) {
    std::vector<Declared> declared;
    // bst's order: build-depends, runtime-depends, depends (then sorted).
    const std::pair<const char*, DependencyType> lists[] = {
        {"build-depends", DependencyType::kBuild},
        {"runtime-depends", DependencyType::kRuntime},
        {"depends", DependencyType::kAll}};
    for (const auto& [key, list_type] : lists) {
      const ConfigNode* list = node.Get(key);
      if (list == nullptr || list->is_null()) continue;
      if (!list->is_sequence()) {
        return ConfigError(list->location(), std::string(key) + " must be a list");
      }
      for (const ConfigNode& item : list->items()) {
        Declared dependency{"", list_type, item.location()};
        if (item.is_scalar()) {
          dependency.name = std::string(StripYamlWhitespace(item.scalar()));
        } else if (item.is_map()) {
          CAIRN_RETURN_IF_ERROR(CheckKeys(
              item, {"filename", "type", "junction", "strict", "config"}, "a dependency"));
          const ConfigNode* filename = item.Get("filename");
          if (filename == nullptr) {
            return ConfigError(item.location(), "a dependency needs a 'filename'");
          }
          CAIRN_ASSIGN_OR_RETURN(dependency.name, ReadString(*filename, "filename"));
          if (item.Get("junction") != nullptr) {
            return ConfigError(item.Get("junction")->location(), "junctions are not supported");
          }
          if (const ConfigNode* type = item.Get("type")) {
            CAIRN_ASSIGN_OR_RETURN(std::string text, ReadString(*type, "type"));
            if (list_type != DependencyType::kAll) {
              return ConfigError(type->location(),
                                 "'type' is only allowed in 'depends' (here the list says it)");
            }
            if (text == "build") {
              dependency.type = DependencyType::kBuild;
            } else if (text == "runtime") {
              dependency.type = DependencyType::kRuntime;
            } else if (text == "all") {
              dependency.type = DependencyType::kAll;
            } else {
              return ConfigError(type->location(), "dependency type '" + text +
                                                       "' is not one of build, runtime, all");
            }
          }
        } else {
          return ConfigError(item.location(), "a dependency must be a name or a mapping");
        }
        if (dependency.name.empty()) return ConfigError(item.location(), "empty dependency name");
        declared.push_back(std::move(dependency));
      }
    }
    return declared;
  }

  Status Compose(const ConfigNode& node, Element& element) {
    const ConfigNode* kind = node.Get("kind");
    if (kind == nullptr) return ConfigError(node.location(), "the element has no 'kind'");
    CAIRN_ASSIGN_OR_RETURN(element.kind, ReadString(*kind, "kind"));
    StatusOr<const ConfigNode*> found = project_.KindDefaults(element.kind);
    if (!found.ok()) {
      return ConfigError(kind->location(), "unknown element kind '" + element.kind +
                                               "' (known: " + JoinKinds() + ")");
    }
    const ConfigNode& defaults = **found;
    const SourceLocation& where = node.location();

    // Variables.
    ConfigNode variables = project_.variables_;
    CAIRN_RETURN_IF_ERROR(Overlay(variables, defaults.Get("variables"), "variables"));
    if (const ConfigNode* own = node.Get("variables")) {
      if (own->is_map()) {
        for (const ConfigNode::Entry& entry : own->entries()) {
          if (ProtectedVariables().count(entry.key) != 0) {
            return ConfigError(
                entry.key_location,
                "variable '" + entry.key + "' is set by Cairn and may not be overridden");
          }
        }
      }
      CAIRN_RETURN_IF_ERROR(Overlay(variables, own, "variables"));
    }
    variables.Set("element-name", ConfigNode::Scalar(element.name, where), where);
    variables.Set("max-jobs", ConfigNode::Scalar(std::to_string(project_.max_jobs_), where), where);
    CAIRN_RETURN_IF_ERROR(ResolveListDirectives(variables));
    CAIRN_ASSIGN_OR_RETURN(Variables resolved, Variables::Resolve(variables));
    element.variables = std::move(resolved);
    const Variables& vars = *element.variables;

    // Environment.
    ConfigNode environment = project_.environment_;
    CAIRN_RETURN_IF_ERROR(Overlay(environment, defaults.Get("environment"), "environment"));
    CAIRN_RETURN_IF_ERROR(Overlay(environment, node.Get("environment"), "environment"));
    CAIRN_RETURN_IF_ERROR(ResolveListDirectives(environment));
    for (const ConfigNode::Entry& entry : environment.entries()) {
      CAIRN_ASSIGN_OR_RETURN(std::string value, ReadString(entry.value, "an environment value"));
      CAIRN_ASSIGN_OR_RETURN(element.environment[entry.key],
                             vars.Substitute(value, entry.value.location()));
    }
    element.environment_nocache = project_.environment_nocache_;
    for (const ConfigNode* list :
         {defaults.Get("environment-nocache"), node.Get("environment-nocache")}) {
      CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names,
                             ReadStringList(list, "environment-nocache"));
      element.environment_nocache.insert(element.environment_nocache.end(), names.begin(),
                                         names.end());
    }

    // Configuration of the kind.
    element.config = ConfigNode::Map(where);
    CAIRN_RETURN_IF_ERROR(Overlay(element.config, defaults.Get("config"), "config"));
    CAIRN_RETURN_IF_ERROR(Overlay(element.config, node.Get("config"), "config"));
    CAIRN_RETURN_IF_ERROR(ResolveListDirectives(element.config));
    CAIRN_RETURN_IF_ERROR(CheckConfigKeys(element, defaults));
    CAIRN_RETURN_IF_ERROR(vars.SubstituteTree(element.config));

    // Public data: the element's split rules extend the defaults'.
    element.public_data = ConfigNode::Map(where);
    CAIRN_RETURN_IF_ERROR(Overlay(element.public_data, defaults.Get("public"), "public"));
    CAIRN_RETURN_IF_ERROR(Overlay(element.public_data, node.Get("public"), "public"));
    CAIRN_RETURN_IF_ERROR(ResolveListDirectives(element.public_data));
    CAIRN_RETURN_IF_ERROR(vars.SubstituteTree(element.public_data));

    // Sandbox.
    ConfigNode sandbox = project_.sandbox_;
    CAIRN_RETURN_IF_ERROR(Overlay(sandbox, defaults.Get("sandbox"), "sandbox"));
    CAIRN_RETURN_IF_ERROR(Overlay(sandbox, node.Get("sandbox"), "sandbox"));
    CAIRN_RETURN_IF_ERROR(
        CheckKeys(sandbox, {"build-uid", "build-gid", "build-os", "build-arch"}, "sandbox"));
    CAIRN_ASSIGN_OR_RETURN(element.build_uid, ReadId(sandbox, "build-uid"));
    CAIRN_ASSIGN_OR_RETURN(element.build_gid, ReadId(sandbox, "build-gid"));

    return ReadSources(node, element);
  }

  static std::string JoinKinds() {
    std::string joined;
    for (const std::string& kind : KnownKinds()) joined += (joined.empty() ? "" : ", ") + kind;
    return joined;
  }

  static Status Overlay(ConfigNode& base, const ConfigNode* overlay, const char* what) {
    if (overlay == nullptr || overlay->is_null()) return Status::Ok();
    if (!overlay->is_map()) {
      return ConfigError(overlay->location(), std::string(what) + " must be a mapping");
    }
    return Composite(base, *overlay);
  }

  // The configuration keys of a kind are those its defaults name.
  static Status CheckConfigKeys(const Element& element, const ConfigNode& defaults) {
    const ConfigNode* known = defaults.Get("config");
    std::set<std::string> allowed;
    if (known != nullptr && known->is_map()) {
      for (const ConfigNode::Entry& entry : known->entries()) allowed.insert(entry.key);
    }
    // Commands of BuildElements may be added per stage (bst: any *-commands).
    for (const ConfigNode::Entry& entry : element.config.entries()) {
      if (allowed.count(entry.key) != 0) continue;
      if (element.kind == "manual" && entry.key.size() > 9 &&
          entry.key.compare(entry.key.size() - 9, 9, "-commands") == 0) {
        continue;
      }
      if (element.kind == "script" && entry.key == "layout") continue;
      return ConfigError(entry.key_location, "unknown key '" + entry.key + "' in the config of a " +
                                                 element.kind +
                                                 " element (known: " + JoinKeys(allowed) + ")");
    }
    return Status::Ok();
  }

  Status ReadSources(const ConfigNode& node, Element& element) {
    const ConfigNode* sources = node.Get("sources");
    if (sources == nullptr || sources->is_null()) return Status::Ok();
    if (!sources->is_sequence()) return ConfigError(sources->location(), "sources must be a list");
    for (const ConfigNode& item : sources->items()) {
      if (!item.is_map()) return ConfigError(item.location(), "a source must be a mapping");
      const ConfigNode* kind_node = item.Get("kind");
      if (kind_node == nullptr) return ConfigError(item.location(), "the source has no 'kind'");
      Source source;
      source.where = item.location();
      CAIRN_ASSIGN_OR_RETURN(source.kind, ReadString(*kind_node, "kind"));
      ConfigNode config = ConfigNode::Map(item.location());
      CAIRN_RETURN_IF_ERROR(
          Overlay(config, project_.source_overrides_.Get(source.kind), "sources"));
      CAIRN_RETURN_IF_ERROR(Composite(config, item));
      if (const ConfigNode* directory = config.Get("directory")) {
        CAIRN_ASSIGN_OR_RETURN(source.directory, ReadString(*directory, "directory"));
        fs::path normal = fs::path(source.directory).lexically_normal();
        if (normal.is_absolute() || (!normal.empty() && *normal.begin() == "..")) {
          return ConfigError(directory->location(), "directory must stay below the build root");
        }
        source.directory = normal.string() == "." ? "" : normal.string();
      }
      if (source.kind == "local") {
        CAIRN_RETURN_IF_ERROR(CheckKeys(config, {"kind", "path", "directory"}, "a local source"));
        const ConfigNode* path = config.Get("path");
        if (path == nullptr) return ConfigError(item.location(), "a local source needs a 'path'");
        CAIRN_ASSIGN_OR_RETURN(std::string relative, ReadString(*path, "path"));
        CAIRN_ASSIGN_OR_RETURN(source.path, ProjectPath(relative, path->location()));
      } else if (source.kind == "tar") {
        CAIRN_RETURN_IF_ERROR(
            CheckKeys(config, {"kind", "url", "ref", "base-dir", "directory"}, "a tar source"));
        const ConfigNode* url = config.Get("url");
        if (url == nullptr) return ConfigError(item.location(), "a tar source needs a 'url'");
        CAIRN_ASSIGN_OR_RETURN(source.url, ReadString(*url, "url"));
        CAIRN_ASSIGN_OR_RETURN(source.path, ArchivePath(source.url, url->location()));
        const ConfigNode* ref = config.Get("ref");
        if (ref == nullptr) {
          return ConfigError(item.location(),
                             "the tar source has no 'ref' (the archive's SHA-256; "
                             "`sha256sum " +
                                 source.path + "` prints it)");
        }
        CAIRN_ASSIGN_OR_RETURN(source.ref, ReadString(*ref, "ref"));
        source.base_dir = "*";
        if (const ConfigNode* base = config.Get("base-dir")) {
          CAIRN_ASSIGN_OR_RETURN(source.base_dir, ReadString(*base, "base-dir"));
        }
      } else {
        return ConfigError(kind_node->location(),
                           "unknown source kind '" + source.kind + "' (known: local, tar)");
      }
      element.sources.push_back(std::move(source));
    }
    return Status::Ok();
  }

  // A path in the project, which it may not leave.
  StatusOr<std::string> ProjectPath(const std::string& relative, const SourceLocation& where) {
    fs::path path = (fs::path(project_.directory_) / relative).lexically_normal();
    if (fs::path(relative).is_absolute() || !StaysInside(fs::path(project_.directory_), path)) {
      return ConfigError(where, "path " + QuoteName(relative) + " leaves the project directory");
    }
    std::error_code error;
    if (!fs::exists(fs::symlink_status(path, error))) {
      return ConfigError(where, "path " + QuoteName(relative) + " does not exist (looked for " +
                                    QuoteName(path.string()) + ")");
    }
    std::string text = path.string();
    if (text.size() > 1 && text.back() == '/') text.pop_back();
    return text;
  }

  // alias:path, file:// URLs, and paths in the project.
  StatusOr<std::string> ArchivePath(const std::string& url, const SourceLocation& where) {
    std::string expanded = url;
    size_t colon = url.find(':');
    if (colon != std::string::npos && url.compare(colon, 3, "://") != 0) {
      std::string alias = url.substr(0, colon);
      auto found = project_.aliases_.find(alias);
      if (found == project_.aliases_.end()) {
        return ConfigError(where, "unknown alias '" + alias + "' in url " + QuoteName(url));
      }
      expanded = found->second + url.substr(colon + 1);
    }
    if (expanded.compare(0, 7, "file://") == 0) {
      std::string path = expanded.substr(7);
      if (path.empty() || path[0] != '/') {
        return ConfigError(where,
                           "file:// URL " + QuoteName(expanded) + " must name an absolute path");
      }
      std::error_code error;
      if (!fs::exists(path, error)) {
        return ConfigError(where, "archive " + QuoteName(path) + " does not exist");
      }
      return path;
    }
    if (expanded.find("://") != std::string::npos) {
      return ConfigError(where, "url " + QuoteName(expanded) +
                                    " is not local (Cairn reads tar archives from the project "
                                    "or file:// URLs)");
    }
    return ProjectPath(expanded, where);
  }

  const Project& project_;
  Includer includer_;
  ElementGraph graph_;
  std::unordered_map<std::string, Element*> loaded_;
  std::vector<std::string> stack_;
  // Per element index: the bit set of every element it depends on.
  std::vector<std::vector<uint64_t>> reach_;
};

StatusOr<ElementGraph> Project::LoadElements(const std::vector<std::string>& targets) const {
  ElementLoader loader(*this);
  return loader.Load(targets);
}

}  // namespace cairn::project
