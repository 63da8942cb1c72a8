// cairn/project/variables.h — BuildStream's `%{name}` variables.
//
// Every element has its own set of variables: the project's (project.conf
// over the built-in defaults), its kind's defaults, its own `variables:`,
// plus what the loader adds (project-name, element-name, max-jobs). Values
// refer to each other with `%{name}`, in any order, and elements use them in
// their commands, environment and configuration.
//
// The syntax is BuildStream 1.6's (_variables.py): a reference is `%{`,
// a letter, then letters, digits, `_` or `-`, then `}`. Anything else stays
// as it is: `%{ x}`, `%{1x}` and `%` alone are literal text, and there is no
// escape (`%%{x}` is `%` followed by the value of x), so a command can never
// spell a literal `%{x}` — as in bst.
//
//   CAIRN_ASSIGN_OR_RETURN(Variables vars, Variables::Resolve(*node.Get("variables")));
//   CAIRN_ASSIGN_OR_RETURN(std::string cmd, vars.Substitute(text, where));
//
// A Variables is immutable once resolved and safe to read from any thread.
#ifndef CAIRN_PROJECT_VARIABLES_H
#define CAIRN_PROJECT_VARIABLES_H

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/runtime/config_node.h"
#include "cairn/status.h"

namespace cairn::project {

class Variables {
 public:
  Variables() = default;

  // Resolves a map of name -> scalar (after composition). Like bst, each
  // value is first stripped of leading and trailing whitespace (bst strips
  // every string it reads from YAML), a null value is "", and the result
  // does not depend on the order of the entries.
  //
  // Also as in bst: when `notparallel` is true (true/True/TRUE), max-jobs
  // is set to "1"; a `notparallel` that is not a boolean is an error.
  //
  // Errors are INVALID_ARGUMENT ConfigErrors at the offending value's
  // FILE:LINE:COLUMN: a reference to an undefined variable (naming it and
  // the variable that refers to it), a cycle (the chain `a -> b -> a`, with
  // where each step is defined), a list or map as a value. A null node is
  // an empty set of variables.
  static StatusOr<Variables> Resolve(const ConfigNode& variables);

  // `text` with every `%{name}` replaced by its value. The text itself is
  // not stripped (see StripYamlWhitespace). A reference to an undefined
  // variable is a ConfigError at `where`.
  StatusOr<std::string> Substitute(const std::string& text, const SourceLocation& where) const;

  // Strips and substitutes every scalar of `node` (keys stay as they are),
  // as bst's node_subst_member does; nulls stay null. On error the tree is
  // partly substituted.
  Status SubstituteTree(ConfigNode& node) const;

  // The resolved value, or nullptr when `name` is not defined.
  const std::string* Find(const std::string& name) const;

  // All resolved variables sorted by name.
  std::vector<std::pair<std::string, std::string>> Sorted() const;

  size_t size() const { return names_.size(); }

 private:
  const std::string* FindView(std::string_view name) const;

  // Sorted by name; values_[i] belongs to names_[i].
  std::vector<std::string> names_;
  std::vector<std::string> values_;
};

// `text` without leading and trailing whitespace, as Python's str.strip()
// for ASCII text (bst strips every string it reads from YAML).
std::string_view StripYamlWhitespace(std::string_view text);

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_VARIABLES_H
