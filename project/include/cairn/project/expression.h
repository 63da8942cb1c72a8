// cairn/project/expression.h — the conditions of BuildStream's (?) blocks.
//
// bst 1.6 renders "{% if EXPRESSION %}" with Jinja2; projects use a small
// part of that language, which is what this evaluates:
//
//   names            option names, looked up when evaluated
//   literals         'string', "string" (with \ escapes), 12, 1.5, -3,
//                    true false True False, [list, of, values], (a, tuple)
//   comparisons      == != < > <= >= in, not in (chains: a < b < c)
//   logic            and, or, not, parentheses
//
// Precedence as in Jinja2: or < and < not < comparisons. Values follow
// Python: a bool option is a bool, an enum or arch option a string, a flags
// option a list of strings ('x' in flags); `in` on a string is a substring
// test; True == 1; a value is true when it is true, non-zero or non-empty.
//
// Deviation from bst: both sides of `and`/`or` are evaluated, so an unknown
// name is an error even where Python would not have looked at it.
#ifndef CAIRN_PROJECT_EXPRESSION_H
#define CAIRN_PROJECT_EXPRESSION_H

#include <functional>
#include <string>
#include <vector>

#include "cairn/status.h"

namespace cairn::project {

class OptionPool;

// A value in a condition.
struct ConditionValue {
  enum class Kind { kBool, kNumber, kString, kList };
  Kind kind = Kind::kBool;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<ConditionValue> items;

  static ConditionValue Bool(bool value);
  static ConditionValue Number(double value);
  static ConditionValue String(std::string value);
  static ConditionValue StringList(const std::vector<std::string>& values);

  bool Truth() const;
  // Python's ==: values of different kinds differ, except bools and numbers.
  bool Equals(const ConditionValue& other) const;
  // Python's repr, for error messages: 'a', True, 1.5, ['a', 'b'].
  std::string Repr() const;
};

// The value of a name, or nullptr when there is no such name. The pointer
// need only live until the call returns.
using ConditionLookup = std::function<const ConditionValue*(const std::string& name)>;

// The truth of `expression`. Errors are INVALID_ARGUMENT "column N: ..."
// (N 1-based within the expression): a syntax error, an unknown name
// ("'name' is undefined"), `in` on a value that holds nothing.
StatusOr<bool> EvaluateCondition(const std::string& expression, const ConditionLookup& lookup);

// The same with the options' values (OptionPool::ConditionValueOf).
StatusOr<bool> EvaluateCondition(const std::string& expression, const OptionPool& options);

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_EXPRESSION_H
