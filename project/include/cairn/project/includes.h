// cairn/project/includes.h — BuildStream's (@) include directive
// (bst 1.6 _includes.py).
//
//   # project.conf or an element
//   (@): include/common.yml          # or a list of files
//   variables: {prefix: /opt}
//
// The included file's map is the base and the including map is composited
// on top (Composite, so the including file wins and its list directives
// apply to the included lists). With several files, a later one wins over
// an earlier one. Includes nest; every path is relative to the project
// directory, wherever the including file is.
//
//   // An element, in bst's order: its own (?) first, then its includes,
//   // each included file with its (?) processed before it is composited.
//   Includer includer(project_dir);
//   includer.set_options(&pool);
//   CAIRN_RETURN_IF_ERROR(pool.ProcessConditionals(element));
//   CAIRN_RETURN_IF_ERROR(includer.Process(element));
//
//   // project.conf: includes first (options may be declared in them), then
//   // the (?) of the whole composed file once the options are set.
//   Includer conf_includer(project_dir);
//   CAIRN_RETURN_IF_ERROR(conf_includer.Process(project_conf));
//
// Each included file is read and processed once per Includer and copied
// into every map including it. Not thread-safe: one Includer per thread.
#ifndef CAIRN_PROJECT_INCLUDES_H
#define CAIRN_PROJECT_INCLUDES_H

#include <string>
#include <unordered_map>
#include <vector>

#include "cairn/runtime/config_node.h"
#include "cairn/status.h"

namespace cairn::project {

class OptionPool;

class Includer {
 public:
  explicit Includer(std::string project_dir);

  // When set, the (?) blocks of each included file are processed with
  // `options` before it is composited, as bst does when loading elements
  // (for project.conf bst processes them after the includes: leave unset,
  // and the (?) lists of all files are kept, appended in order). Not owned;
  // must outlive the Includer's use. Clears the cache.
  void set_options(const OptionPool* options);

  // Processes every (@) in `node` recursively (maps inside lists too): the
  // value is a file name or a list of them, relative to the project
  // directory. ConfigErrors at the (@) entry: a missing or unreadable file,
  // an absolute path or one leading out of the project directory (also
  // through a symlink), a junction include ("junction:file", not
  // supported), an include cycle (naming the chain, a.yml -> b.yml ->
  // a.yml). Errors inside an included file (YAML, composition, a file that
  // is not a map) name their own position.
  Status Process(ConfigNode& node);

 private:
  struct Include {
    std::string name;  // as written
    SourceLocation where;
  };
  Status ProcessNode(ConfigNode& node);
  Status ProcessValue(ConfigNode& value);
  StatusOr<ConfigNode> Load(const Include& include);
  // The canonical path of an include, checked to be in the project.
  StatusOr<std::string> Resolve(const Include& include);
  // The path files are read from, and so named in positions.
  std::string DisplayPath(const Include& include) const;

  std::string project_dir_;            // as given
  std::string canonical_project_dir_;  // symlinks resolved
  const OptionPool* options_ = nullptr;
  // Canonical path -> the file with its own includes (and options) done.
  std::unordered_map<std::string, ConfigNode> processed_;
  // Name as written -> canonical path.
  std::unordered_map<std::string, std::string> resolved_;
  // Canonical paths of the files being processed, outermost first, with
  // their names as written.
  std::vector<std::pair<std::string, std::string>> chain_;
};

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_INCLUDES_H
