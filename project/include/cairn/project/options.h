// cairn/project/options.h — project options and the (?) conditionals they
// drive (bst 1.6 _options/).
//
// project.conf declares options; the user configuration and the command
// line (-o NAME VALUE) set them; (?) blocks in project.conf, included files
// and elements pick fragments by them; options with `variable:` become
// project variables.
//
//   OptionPool pool;
//   CAIRN_RETURN_IF_ERROR(pool.Declare(*project_conf.Get("options")));
//   CAIRN_RETURN_IF_ERROR(pool.Set("debug", "true", {"<command line>"}));
//   CAIRN_RETURN_IF_ERROR(pool.ProcessConditionals(element));
//
// Types, as in bst:
//   bool   `default` required (true/True/false/False); exported as 1 / 0
//   enum   `values` (non-empty) and `default` (one of them) required
//   flags  `values` (non-empty); `default` a list of them (or none);
//          exported comma-separated; set from the command line as
//          "a, b" (whitespace dropped), then sorted
//   arch   `values` (non-empty), no `default`: the value is the host's
//          machine name (uname, e.g. x86_64), which must be one of the
//          values unless something sets another (checked by Resolve and
//          ProcessConditionals)
// Every option needs a `description`; `variable` must be a symbol name.
// Option names are symbols without dashes (they appear in expressions).
//
// Threads: const methods may be called from several threads at once.
#ifndef CAIRN_PROJECT_OPTIONS_H
#define CAIRN_PROJECT_OPTIONS_H

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cairn/project/expression.h"
#include "cairn/runtime/config_node.h"
#include "cairn/status.h"

namespace cairn::project {

class OptionPool {
 public:
  // `host_arch` is the default of arch options; empty means uname's machine.
  explicit OptionPool(std::string host_arch = "");
  // A copy starts with an empty cache of condition results.
  OptionPool(const OptionPool& other);
  OptionPool& operator=(const OptionPool& other);
  OptionPool(OptionPool&& other) noexcept = default;
  OptionPool& operator=(OptionPool&& other) noexcept = default;

  // Reads project.conf's `options:` map (null: no options). Errors are
  // ConfigErrors naming FILE:LINE:COLUMN: a bad option or variable name, a
  // missing or unknown type, a missing description, an unexpected key, an
  // invalid default, no values. Declaring a name again replaces it.
  Status Declare(const ConfigNode& options);

  // A value from the command line (-o NAME VALUE) or the user configuration.
  // `where` names its origin ("<command line>" or the config file position).
  // Unknown option or invalid value -> InvalidArgument "WHERE: message"
  // naming both.
  Status Set(const std::string& name, const std::string& value, const SourceLocation& where);

  // A map of values as YAML (the user configuration's `options:` for the
  // project): a flags value may be a list there. Errors at each value.
  Status SetValues(const ConfigNode& values);

  // bst's resolve(): checks an arch option still holding the host's
  // architecture against its values. Call after the last Set.
  Status Resolve() const;

  // Every (?) and (!) in `node`, recursively (maps inside lists too), the
  // way bst's optionpool does it: in each map, while it holds "(?)", the
  // list is taken out and each entry, a single-key map {EXPRESSION: MAP},
  // has its MAP composited onto the map (Composite) when EXPRESSION is
  // true, in order; fragments may bring further (?) blocks, processed in
  // turn. Then its values are processed. A "(!)" is an error carrying its
  // message (bst's assertions). Errors at the expression's position: an
  // unknown option, a bad expression, a fragment that is not a map, an
  // entry with other than one key. Also fails as Resolve() does.
  Status ProcessConditionals(ConfigNode& node) const;

  // (variable, value) for options with `variable:`, in declaration order;
  // bool as "1"/"0" like bst, flags comma-separated.
  std::vector<std::pair<std::string, std::string>> ExportedVariables() const;

  // All options and their values as exported, sorted by name (for `show`
  // and cache keys).
  std::vector<std::pair<std::string, std::string>> Values() const;

  // EvaluateCondition with these options, remembering the result of each
  // expression until a value changes: a project repeats its conditions in
  // many elements.
  StatusOr<bool> Evaluate(const std::string& expression) const;

  // The value an expression sees for `name`; nullptr for no such option.
  const ConditionValue* ConditionValueOf(const std::string& name) const;

  bool empty() const { return options_.empty(); }

 private:
  enum class Type { kBool, kEnum, kFlags, kArch };
  struct Option {
    std::string name;
    Type type = Type::kBool;
    std::string description;
    std::string variable;             // "" = not exported
    std::vector<std::string> values;  // enum, flags, arch
    ConditionValue value;
    SourceLocation declared;  // the option's key in project.conf
    bool arch_from_host = false;
  };

  StatusOr<Option> ReadOption(const ConfigNode::Entry& entry) const;
  Status SetOption(Option& option, const std::string& value, const SourceLocation& where);
  Status CheckArch(const Option& option) const;
  Status ProcessMap(ConfigNode& map) const;
  Status ProcessValue(ConfigNode& value) const;
  Status ApplyConditionals(ConfigNode& map, ConfigNode&& conditions) const;
  static std::string Exported(const Option& option);

  std::string host_arch_;
  std::vector<Option> options_;          // declaration order
  std::map<std::string, size_t> index_;  // name -> options_ index

  struct ResultCache {
    std::mutex mutex;
    std::unordered_map<std::string, bool> results;  // expression -> truth
  };
  // Emptied whenever a value changes; null only in a moved-from pool.
  std::unique_ptr<ResultCache> cache_ = std::make_unique<ResultCache>();
  void ForgetResults();
};

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_OPTIONS_H
