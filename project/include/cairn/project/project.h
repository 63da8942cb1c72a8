// cairn/project/project.h — a BuildStream-format project and its elements.
//
// Project::Load reads project.conf the way BuildStream 1.6 does: the
// built-in defaults (cairn/project/defaults.h) with project.conf composited
// on top, (@) includes, options and their (?) conditionals, list
// directives. LoadElements then reads the targets and everything they
// depend on, each element composed as BuildStream composes it:
//
//   variables    project  <- kind defaults <- `elements: KIND:` <- element
//   environment  project  <- kind defaults <- overrides <- element
//   config       kind defaults <- overrides <- element
//   public       kind defaults <- overrides <- element (split-rules
//                extend the project's)
//   sandbox      project  <- kind defaults <- overrides <- element
//
// and every value of config, environment and public substituted with the
// element's variables. Errors name FILE:LINE:COLUMN: unknown kinds and
// keys, missing files, dependency cycles (printed), bad variables and
// options.
//
// Elements are plain values once loaded: share them read-only between
// threads.
#ifndef CAIRN_PROJECT_PROJECT_H
#define CAIRN_PROJECT_PROJECT_H

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cairn/project/options.h"
#include "cairn/project/variables.h"
#include "cairn/runtime/config_node.h"
#include "cairn/status.h"

namespace cairn::project {

// A value for an option, from the command line (-o NAME VALUE) or the
// user configuration; later values win.
struct OptionValue {
  std::string name;
  std::string value;
  SourceLocation where;
};

struct LoadOptions {
  std::string directory;  // holds project.conf
  // Option values from the user configuration (a map; null for none),
  // then from the command line, which wins.
  ConfigNode configured_options;
  std::vector<OptionValue> option_values;
  // %{max-jobs}; 0 = the number of processors.
  int max_jobs = 0;
};

enum class DependencyType { kAll, kBuild, kRuntime };

struct Source {
  std::string kind;  // "local" or "tar"
  SourceLocation where;
  // local: the file or directory (absolute). tar: the archive (absolute).
  std::string path;
  std::string url;       // tar: as written
  std::string ref;       // tar: the archive's SHA-256 (hex)
  std::string base_dir;  // tar: "*" by default
  // Where below %{build-root} the source is staged ("" = there).
  std::string directory;
};

struct Element {
  std::string name;  // relative to element-path: "base/busybox.bst"
  std::string kind;  // import, manual, stack, compose, script
  SourceLocation where;

  // Direct dependencies, in BuildStream's order (build-depends,
  // runtime-depends, depends, then sorted as bst sorts them: one that
  // depends on another after it, runtime-only ones last, then by name).
  std::vector<const Element*> build_dependencies;
  std::vector<const Element*> runtime_dependencies;

  std::vector<Source> sources;
  std::optional<Variables> variables;              // always set once loaded
  std::map<std::string, std::string> environment;  // substituted
  std::vector<std::string> environment_nocache;
  ConfigNode config;       // the kind's configuration, substituted
  ConfigNode public_data;  // `public:`, substituted
  uint32_t build_uid = 0;
  uint32_t build_gid = 0;

  // Position in ElementGraph::elements() (dependencies come first).
  size_t index = 0;

  // Convenience readers of `config` and `public_data`.
  std::vector<std::string> ConfigList(const std::string& key) const;
  std::string ConfigString(const std::string& key, const std::string& fallback = "") const;
  bool ConfigBool(const std::string& key, bool fallback) const;
  std::vector<std::string> IntegrationCommands() const;
  // domain -> patterns (bst: public.bst.split-rules).
  std::map<std::string, std::vector<std::string>> SplitRules() const;
};

// The targets and everything they depend on.
class ElementGraph {
 public:
  // Every element, each after all it depends on.
  const std::vector<std::unique_ptr<Element>>& elements() const { return elements_; }
  const std::vector<const Element*>& targets() const { return targets_; }
  const Element* Find(const std::string& name) const;

  // BuildStream's Scope.RUN: the element, then what it needs at run time,
  // recursively; each once, dependencies before dependents.
  std::vector<const Element*> RuntimeClosure(const Element& element) const;
  // Scope.BUILD: the runtime closure of each build dependency; what is
  // staged to build `element`.
  std::vector<const Element*> BuildClosure(const Element& element) const;
  // Scope.ALL of the targets: everything, in dependency order.
  std::vector<const Element*> Plan() const;

 private:
  friend class Project;
  // The starts and their runtime dependencies, recursively, in that order.
  std::vector<const Element*> Closure(const std::vector<const Element*>& starts) const;

  std::vector<std::unique_ptr<Element>> elements_;
  std::vector<const Element*> targets_;
  std::unordered_map<std::string, const Element*> by_name_;
};

class Project {
 public:
  static StatusOr<std::shared_ptr<Project>> Load(const LoadOptions& options);

  const std::string& name() const { return name_; }
  const std::string& directory() const { return directory_; }
  const std::string& element_directory() const { return element_directory_; }
  // `defaults: targets`, when the project names any.
  const std::vector<std::string>& default_targets() const { return default_targets_; }
  // `shell: command` and `shell: environment` (values as written: the
  // shell substitutes them with its element's variables).
  const std::vector<std::string>& shell_command() const { return shell_command_; }
  const std::map<std::string, std::string>& shell_environment() const { return shell_environment_; }
  // `artifacts:` as written (for remote artifact caches).
  const ConfigNode& artifacts() const { return artifacts_; }
  const OptionPool& options() const { return *options_; }
  int max_jobs() const { return max_jobs_; }

  // Reads the targets (names relative to element-path, or paths to .bst
  // files below it) and their dependencies.
  StatusOr<ElementGraph> LoadElements(const std::vector<std::string>& targets) const;

  // A target given on the command line as an element name.
  StatusOr<std::string> ElementName(const std::string& target) const;

 private:
  class ElementLoader;
  Project() = default;
  Status LoadConfiguration(const LoadOptions& options);
  StatusOr<const ConfigNode*> KindDefaults(const std::string& kind) const;

  std::string name_;
  std::string directory_;
  std::string element_directory_;
  std::vector<std::string> default_targets_;
  std::vector<std::string> shell_command_;
  std::map<std::string, std::string> shell_environment_;
  ConfigNode artifacts_;
  std::unique_ptr<OptionPool> options_;
  int max_jobs_ = 1;

  ConfigNode variables_;  // composited, with project-name and exported options
  ConfigNode environment_;
  std::vector<std::string> environment_nocache_;
  ConfigNode split_rules_;
  ConfigNode sandbox_;
  ConfigNode element_overrides_;  // `elements:`
  ConfigNode source_overrides_;   // `sources:`
  std::map<std::string, std::string> aliases_;
  // Kind defaults composed with the project's overrides, parsed once.
  mutable std::map<std::string, ConfigNode> kind_defaults_;
};

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_PROJECT_H
