// Project::Load: project.conf read as BuildStream 1.6 reads it (defaults,
// includes, options and conditionals, the keys a project may hold), and
// what every element composes on top of (KindDefaults). The elements
// themselves are read by the element loader (element_loader.cc).
#include "cairn/project/project.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>
#include <thread>

#include "cairn/project/composite.h"
#include "cairn/project/defaults.h"
#include "cairn/project/includes.h"
#include "cairn/quote.h"
#include "yaml_readers.h"

namespace cairn::project {
namespace {

namespace fs = std::filesystem;

constexpr char kProjectFile[] = "project.conf";

// The keys each kind of file may hold (BuildStream 1.6's, plus 2.x's
// min-version and defaults).
const std::set<std::string>& ProjectKeys() {
  static const std::set<std::string> kKeys = {"format-version",
                                              "min-version",
                                              "name",
                                              "element-path",
                                              "variables",
                                              "environment",
                                              "environment-nocache",
                                              "split-rules",
                                              "elements",
                                              "sources",
                                              "plugins",
                                              "aliases",
                                              "artifacts",
                                              "options",
                                              "fail-on-overlap",
                                              "shell",
                                              "fatal-warnings",
                                              "ref-storage",
                                              "sandbox",
                                              "mirrors",
                                              "remote-execution",
                                              "defaults"};
  return kKeys;
}

StatusOr<ConfigNode> MapOrEmpty(const ConfigNode* node, const SourceLocation& where,
                                const char* what) {
  if (node == nullptr || node->is_null()) return ConfigNode::Map(where);
  if (!node->is_map())
    return ConfigError(node->location(), std::string(what) + " must be a mapping");
  return *node;
}

}  // namespace

// --- Project -----------------------------------------------------------

StatusOr<std::shared_ptr<Project>> Project::Load(const LoadOptions& options) {
  std::shared_ptr<Project> project(new Project());
  CAIRN_RETURN_IF_ERROR(project->LoadConfiguration(options));
  return project;
}

Status Project::LoadConfiguration(const LoadOptions& load) {
  std::error_code error;
  directory_ = fs::weakly_canonical(fs::absolute(load.directory, error), error).string();
  std::string file = (fs::path(directory_) / kProjectFile).string();
  if (!fs::exists(file, error)) {
    return NotFound("no " + std::string(kProjectFile) + " in " + QuoteName(directory_) +
                    " (a BuildStream-format project has one at its top)");
  }
  CAIRN_ASSIGN_OR_RETURN(ConfigNode conf, ConfigNode::ParseFile(file));
  if (conf.is_null()) conf = ConfigNode::Map(SourceLocation{file, 1, 1});
  if (!conf.is_map()) return ConfigError(conf.location(), "project.conf must be a mapping");

  Includer includer(directory_);
  CAIRN_RETURN_IF_ERROR(includer.Process(conf));

  // Options first: their conditionals may appear anywhere else.
  options_ = std::make_unique<OptionPool>();
  if (const ConfigNode* declared = conf.Get("options")) {
    CAIRN_RETURN_IF_ERROR(options_->Declare(*declared));
  }
  if (!load.configured_options.is_null()) {
    CAIRN_RETURN_IF_ERROR(options_->SetValues(load.configured_options));
  }
  for (const OptionValue& value : load.option_values) {
    CAIRN_RETURN_IF_ERROR(options_->Set(value.name, value.value, value.where));
  }
  CAIRN_RETURN_IF_ERROR(options_->Resolve());
  CAIRN_RETURN_IF_ERROR(options_->ProcessConditionals(conf));
  CAIRN_RETURN_IF_ERROR(CheckKeys(conf, ProjectKeys(), "project.conf"));

  const ConfigNode* name = conf.Get("name");
  if (name == nullptr) {
    return ConfigError(conf.location(), "project.conf has no 'name' (the project's name)");
  }
  CAIRN_ASSIGN_OR_RETURN(name_, ReadString(*name, "name"));
  if (name_.empty()) return ConfigError(name->location(), "the project's name is empty");

  // The built-in defaults with project.conf on top.
  CAIRN_ASSIGN_OR_RETURN(ConfigNode merged, ConfigNode::Parse(ProjectDefaultsYaml(), "<defaults>"));
  CAIRN_RETURN_IF_ERROR(Composite(merged, conf));
  CAIRN_RETURN_IF_ERROR(ResolveListDirectives(merged));

  std::string element_path = ".";
  if (const ConfigNode* path = merged.Get("element-path")) {
    CAIRN_ASSIGN_OR_RETURN(element_path, ReadString(*path, "element-path"));
  }
  fs::path elements = (fs::path(directory_) / element_path).lexically_normal();
  if (!StaysInside(fs::path(directory_), elements)) {
    return ConfigError(merged.Get("element-path")->location(),
                       "element-path leaves the project directory");
  }
  element_directory_ = elements.string();
  if (!element_directory_.empty() && element_directory_.back() == '/')
    element_directory_.pop_back();

  if (const ConfigNode* defaults = conf.Get("defaults")) {
    if (const ConfigNode* targets = defaults->Get("targets")) {
      CAIRN_ASSIGN_OR_RETURN(default_targets_, ReadStringList(targets, "defaults: targets"));
    }
  }

  // Variables: the project's name and exported options join them.
  CAIRN_ASSIGN_OR_RETURN(variables_,
                         MapOrEmpty(merged.Get("variables"), merged.location(), "variables"));
  for (const ConfigNode::Entry& entry : variables_.entries()) {
    if (ProtectedVariables().count(entry.key) != 0) {
      return ConfigError(entry.key_location,
                         "variable '" + entry.key + "' is set by Cairn and may not be overridden");
    }
  }
  SourceLocation here{file, 0, 0};
  variables_.Set("project-name", ConfigNode::Scalar(name_, here), here);
  for (const auto& [variable, value] : options_->ExportedVariables()) {
    variables_.Set(variable, ConfigNode::Scalar(value, here), here);
  }
  // As bst: the processors this process may use, at most eight.
  max_jobs_ =
      load.max_jobs > 0
          ? load.max_jobs
          : static_cast<int>(std::min(8u, std::max(1u, std::thread::hardware_concurrency())));

  CAIRN_ASSIGN_OR_RETURN(environment_,
                         MapOrEmpty(merged.Get("environment"), merged.location(), "environment"));
  CAIRN_ASSIGN_OR_RETURN(environment_nocache_,
                         ReadStringList(merged.Get("environment-nocache"), "environment-nocache"));
  CAIRN_ASSIGN_OR_RETURN(split_rules_,
                         MapOrEmpty(merged.Get("split-rules"), merged.location(), "split-rules"));
  CAIRN_ASSIGN_OR_RETURN(sandbox_, MapOrEmpty(merged.Get("sandbox"), merged.location(), "sandbox"));
  CAIRN_ASSIGN_OR_RETURN(element_overrides_,
                         MapOrEmpty(merged.Get("elements"), merged.location(), "elements"));
  CAIRN_ASSIGN_OR_RETURN(source_overrides_,
                         MapOrEmpty(merged.Get("sources"), merged.location(), "sources"));
  CAIRN_ASSIGN_OR_RETURN(ConfigNode aliases,
                         MapOrEmpty(merged.Get("aliases"), merged.location(), "aliases"));
  for (const ConfigNode::Entry& alias : aliases.entries()) {
    CAIRN_ASSIGN_OR_RETURN(aliases_[alias.key], ReadString(alias.value, "an alias"));
  }
  if (const ConfigNode* artifacts = merged.Get("artifacts")) artifacts_ = *artifacts;

  CAIRN_ASSIGN_OR_RETURN(ConfigNode shell,
                         MapOrEmpty(merged.Get("shell"), merged.location(), "shell"));
  CAIRN_ASSIGN_OR_RETURN(shell_command_, ReadStringList(shell.Get("command"), "shell: command"));
  CAIRN_ASSIGN_OR_RETURN(
      ConfigNode shell_environment,
      MapOrEmpty(shell.Get("environment"), shell.location(), "shell: environment"));
  for (const ConfigNode::Entry& entry : shell_environment.entries()) {
    CAIRN_ASSIGN_OR_RETURN(shell_environment_[entry.key],
                           ReadString(entry.value, "an environment value"));
  }
  return Status::Ok();
}

StatusOr<const ConfigNode*> Project::KindDefaults(const std::string& kind) const {
  auto found = kind_defaults_.find(kind);
  if (found != kind_defaults_.end()) return &found->second;
  CAIRN_ASSIGN_OR_RETURN(std::string text, KindDefaultsYaml(kind));
  CAIRN_ASSIGN_OR_RETURN(ConfigNode defaults, ConfigNode::Parse(text, "<" + kind + " defaults>"));
  if (defaults.is_null())
    defaults = ConfigNode::Map(SourceLocation{"<" + kind + " defaults>", 0, 0});
  // The project's split rules are every element's default public data.
  ConfigNode public_data = ConfigNode::Map(split_rules_.location());
  ConfigNode bst = ConfigNode::Map(split_rules_.location());
  bst.Set("split-rules", split_rules_, split_rules_.location());
  public_data.Set("bst", std::move(bst), split_rules_.location());
  ConfigNode wrapper = ConfigNode::Map(split_rules_.location());
  wrapper.Set("public", std::move(public_data), split_rules_.location());
  CAIRN_RETURN_IF_ERROR(Composite(defaults, wrapper));
  if (const ConfigNode* overrides = element_overrides_.Get(kind)) {
    CAIRN_RETURN_IF_ERROR(Composite(defaults, *overrides));
  }
  return &kind_defaults_.emplace(kind, std::move(defaults)).first->second;
}

StatusOr<std::string> Project::ElementName(const std::string& target) const {
  std::error_code error;
  fs::path path(target);
  // A path to the file (from the shell's completion) names the element too.
  if (fs::exists(path, error) && fs::is_regular_file(path, error)) {
    fs::path absolute = fs::weakly_canonical(fs::absolute(path, error), error);
    if (StaysInside(fs::path(element_directory_), absolute)) {
      return absolute.lexically_relative(element_directory_).string();
    }
  }
  return fs::path(target).lexically_normal().string();
}

}  // namespace cairn::project
