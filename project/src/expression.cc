// A recursive-descent evaluator for the Jinja2 conditions of (?) blocks;
// see expression.h for the language.
#include "cairn/project/expression.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "cairn/project/options.h"

namespace cairn::project {

ConditionValue ConditionValue::Bool(bool value) {
  ConditionValue result;
  result.kind = Kind::kBool;
  result.boolean = value;
  return result;
}

ConditionValue ConditionValue::Number(double value) {
  ConditionValue result;
  result.kind = Kind::kNumber;
  result.number = value;
  return result;
}

ConditionValue ConditionValue::String(std::string value) {
  ConditionValue result;
  result.kind = Kind::kString;
  result.text = std::move(value);
  return result;
}

ConditionValue ConditionValue::StringList(const std::vector<std::string>& values) {
  ConditionValue result;
  result.kind = Kind::kList;
  result.items.reserve(values.size());
  for (const std::string& value : values) result.items.push_back(String(value));
  return result;
}

bool ConditionValue::Truth() const {
  switch (kind) {
    case Kind::kBool:
      return boolean;
    case Kind::kNumber:
      return number != 0;
    case Kind::kString:
      return !text.empty();
    case Kind::kList:
      return !items.empty();
  }
  return false;
}

namespace {

bool IsNumeric(const ConditionValue& value) {
  return value.kind == ConditionValue::Kind::kBool || value.kind == ConditionValue::Kind::kNumber;
}

double NumericOf(const ConditionValue& value) {
  return value.kind == ConditionValue::Kind::kBool ? (value.boolean ? 1 : 0) : value.number;
}

}  // namespace

bool ConditionValue::Equals(const ConditionValue& other) const {
  if (IsNumeric(*this) && IsNumeric(other)) return NumericOf(*this) == NumericOf(other);
  if (kind != other.kind) return false;
  if (kind == Kind::kString) return text == other.text;
  if (items.size() != other.items.size()) return false;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!items[i].Equals(other.items[i])) return false;
  }
  return true;
}

std::string ConditionValue::Repr() const {
  switch (kind) {
    case Kind::kBool:
      return boolean ? "True" : "False";
    case Kind::kNumber: {
      char buffer[32];
      if (std::floor(number) == number && std::fabs(number) < 1e15) {
        std::snprintf(buffer, sizeof(buffer), "%lld", static_cast<long long>(number));
      } else {
        std::snprintf(buffer, sizeof(buffer), "%g", number);
      }
      return buffer;
    }
    case Kind::kString:
      return "'" + text + "'";
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += ", ";
        out += items[i].Repr();
      }
      return out + "]";
    }
  }
  return "";
}

namespace {

const char* TypeName(const ConditionValue& value) {
  switch (value.kind) {
    case ConditionValue::Kind::kBool:
      return "bool";
    case ConditionValue::Kind::kNumber:
      return std::floor(value.number) == value.number ? "int" : "float";
    case ConditionValue::Kind::kString:
      return "str";
    case ConditionValue::Kind::kList:
      return "list";
  }
  return "value";
}

struct Token {
  enum class Kind { kName, kNumber, kString, kSymbol, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // name, string contents or symbol
  double number = 0;
  size_t column = 0;  // 1-based
};

Status ErrorAt(size_t column, const std::string& message) {
  return InvalidArgument("column " + std::to_string(column) + ": " + message);
}

StatusOr<std::vector<Token>> Tokenize(const std::string& text) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (true) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    Token token;
    token.column = i + 1;
    if (i == text.size()) {
      tokens.push_back(std::move(token));
      return tokens;
    }
    const char c = text[i];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = i;
      while (end < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) {
        ++end;
      }
      token.kind = Token::Kind::kName;
      token.text = text.substr(i, end - i);
      i = end;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t end = i;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
      if (end + 1 < text.size() && text[end] == '.' &&
          std::isdigit(static_cast<unsigned char>(text[end + 1]))) {
        ++end;
        while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
      }
      token.kind = Token::Kind::kNumber;
      token.number = std::strtod(text.substr(i, end - i).c_str(), nullptr);
      i = end;
    } else if (c == '\'' || c == '"') {
      token.kind = Token::Kind::kString;
      size_t j = i + 1;
      while (true) {
        if (j >= text.size()) return ErrorAt(token.column, "unterminated string");
        if (text[j] == c) break;
        if (text[j] == '\\' && j + 1 < text.size()) {
          char escaped = text[++j];
          switch (escaped) {
            case 'n':
              token.text += '\n';
              break;
            case 't':
              token.text += '\t';
              break;
            default:
              token.text += escaped;
          }
        } else {
          token.text += text[j];
        }
        ++j;
      }
      i = j + 1;
    } else {
      static const char* const kSymbols[] = {"==", "!=", "<=", ">=", "<", ">",
                                             "(",  ")",  "[",  "]",  ",", "-"};
      for (const char* symbol : kSymbols) {
        if (text.compare(i, std::char_traits<char>::length(symbol), symbol) == 0) {
          token.kind = Token::Kind::kSymbol;
          token.text = symbol;
          break;
        }
      }
      if (token.kind != Token::Kind::kSymbol) {
        return ErrorAt(token.column, std::string("unexpected character '") + c + "'");
      }
      i += token.text.size();
    }
    tokens.push_back(std::move(token));
  }
}

class Evaluator {
 public:
  Evaluator(std::vector<Token> tokens, const ConditionLookup& lookup)
      : tokens_(std::move(tokens)), lookup_(lookup) {}

  StatusOr<bool> Run() {
    CAIRN_ASSIGN_OR_RETURN(ConditionValue value, Or());
    if (Peek().kind != Token::Kind::kEnd) return Unexpected();
    return value.Truth();
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t index = std::min(next_ + ahead, tokens_.size() - 1);
    return tokens_[index];
  }
  bool IsWord(const Token& token, const char* word) const {
    return token.kind == Token::Kind::kName && token.text == word;
  }
  bool IsSymbol(const Token& token, const char* symbol) const {
    return token.kind == Token::Kind::kSymbol && token.text == symbol;
  }
  Status Unexpected() const {
    const Token& token = Peek();
    if (token.kind == Token::Kind::kEnd)
      return ErrorAt(token.column, "unexpected end of expression");
    std::string shown = token.kind == Token::Kind::kString   ? "'" + token.text + "'"
                        : token.kind == Token::Kind::kNumber ? "number"
                                                             : "'" + token.text + "'";
    return ErrorAt(token.column, "unexpected " + shown);
  }

  StatusOr<ConditionValue> Or() {
    CAIRN_ASSIGN_OR_RETURN(ConditionValue left, And());
    while (IsWord(Peek(), "or")) {
      ++next_;
      CAIRN_ASSIGN_OR_RETURN(ConditionValue right, And());
      // Python's `or` yields the deciding operand.
      if (!left.Truth()) left = std::move(right);
    }
    return left;
  }

  StatusOr<ConditionValue> And() {
    CAIRN_ASSIGN_OR_RETURN(ConditionValue left, Not());
    while (IsWord(Peek(), "and")) {
      ++next_;
      CAIRN_ASSIGN_OR_RETURN(ConditionValue right, Not());
      if (left.Truth()) left = std::move(right);
    }
    return left;
  }

  StatusOr<ConditionValue> Not() {
    if (IsWord(Peek(), "not")) {
      ++next_;
      CAIRN_ASSIGN_OR_RETURN(ConditionValue operand, Not());
      return ConditionValue::Bool(!operand.Truth());
    }
    return Comparison();
  }

  // The operator at the cursor, consumed; "" when there is none.
  std::string TakeComparisonOperator() {
    const Token& token = Peek();
    if (token.kind == Token::Kind::kSymbol) {
      for (const char* op : {"==", "!=", "<", ">", "<=", ">="}) {
        if (token.text == op) {
          ++next_;
          return op;
        }
      }
      return "";
    }
    if (IsWord(token, "in")) {
      ++next_;
      return "in";
    }
    if (IsWord(token, "not") && IsWord(Peek(1), "in")) {
      next_ += 2;
      return "not in";
    }
    return "";
  }

  StatusOr<ConditionValue> Comparison() {
    CAIRN_ASSIGN_OR_RETURN(ConditionValue left, Primary());
    bool result = true;
    bool compared = false;
    while (true) {
      size_t column = Peek().column;
      std::string op = TakeComparisonOperator();
      if (op.empty()) break;
      CAIRN_ASSIGN_OR_RETURN(ConditionValue right, Primary());
      CAIRN_ASSIGN_OR_RETURN(bool holds, Compare(op, left, right, column));
      result = result && holds;
      compared = true;
      left = std::move(right);
    }
    if (!compared) return left;
    return ConditionValue::Bool(result);
  }

  static StatusOr<bool> Compare(const std::string& op, const ConditionValue& left,
                                const ConditionValue& right, size_t column) {
    if (op == "==") return left.Equals(right);
    if (op == "!=") return !left.Equals(right);
    if (op == "in" || op == "not in") {
      bool found = false;
      if (right.kind == ConditionValue::Kind::kList) {
        for (const ConditionValue& item : right.items) found = found || item.Equals(left);
      } else if (right.kind == ConditionValue::Kind::kString) {
        if (left.kind != ConditionValue::Kind::kString) {
          return ErrorAt(
              column,
              std::string("'in <string>' requires string as left operand, not ") + TypeName(left));
        }
        found = right.text.find(left.text) != std::string::npos;
      } else {
        return ErrorAt(column,
                       std::string("argument of type '") + TypeName(right) + "' is not iterable");
      }
      return op == "in" ? found : !found;
    }
    int order = 0;
    if (IsNumeric(left) && IsNumeric(right)) {
      double a = NumericOf(left), b = NumericOf(right);
      order = a < b ? -1 : (a > b ? 1 : 0);
    } else if (left.kind == ConditionValue::Kind::kString &&
               right.kind == ConditionValue::Kind::kString) {
      int c = left.text.compare(right.text);
      order = c < 0 ? -1 : (c > 0 ? 1 : 0);
    } else {
      return ErrorAt(column, "'" + op + "' not supported between instances of '" + TypeName(left) +
                                 "' and '" + TypeName(right) + "'");
    }
    if (op == "<") return order < 0;
    if (op == ">") return order > 0;
    if (op == "<=") return order <= 0;
    return order >= 0;
  }

  StatusOr<ConditionValue> Primary() {
    const Token& token = Peek();
    switch (token.kind) {
      case Token::Kind::kNumber:
        ++next_;
        return ConditionValue::Number(token.number);
      case Token::Kind::kString:
        ++next_;
        return ConditionValue::String(token.text);
      case Token::Kind::kName:
        return Name();
      case Token::Kind::kSymbol:
        if (IsSymbol(token, "-")) {
          ++next_;
          size_t column = Peek().column;
          CAIRN_ASSIGN_OR_RETURN(ConditionValue operand, Primary());
          if (!IsNumeric(operand)) {
            return ErrorAt(
                column, std::string("bad operand type for unary -: '") + TypeName(operand) + "'");
          }
          return ConditionValue::Number(-NumericOf(operand));
        }
        if (IsSymbol(token, "(")) return Sequence(")", /*parenthesis=*/true);
        if (IsSymbol(token, "[")) return Sequence("]", /*parenthesis=*/false);
        return Unexpected();
      case Token::Kind::kEnd:
        return Unexpected();
    }
    return Unexpected();
  }

  StatusOr<ConditionValue> Name() {
    const Token& token = Peek();
    static const char* const kReserved[] = {"and", "or", "not", "in"};
    for (const char* word : kReserved) {
      if (token.text == word) return Unexpected();
    }
    ++next_;
    if (token.text == "true" || token.text == "True") return ConditionValue::Bool(true);
    if (token.text == "false" || token.text == "False") return ConditionValue::Bool(false);
    const ConditionValue* value = lookup_(token.text);
    if (value == nullptr) return ErrorAt(token.column, "'" + token.text + "' is undefined");
    return *value;
  }

  // "(expr)", "(a, b)", "[a, b]": a parenthesis with a comma, or brackets,
  // make a list (Python's tuple compares like a list here).
  StatusOr<ConditionValue> Sequence(const char* close, bool parenthesis) {
    ++next_;
    ConditionValue list;
    list.kind = ConditionValue::Kind::kList;
    bool comma = false;
    while (!IsSymbol(Peek(), close)) {
      CAIRN_ASSIGN_OR_RETURN(ConditionValue item, Or());
      list.items.push_back(std::move(item));
      if (!IsSymbol(Peek(), ",")) break;
      comma = true;
      ++next_;
    }
    if (!IsSymbol(Peek(), close)) return Unexpected();
    ++next_;
    if (parenthesis && !comma) {
      if (list.items.size() == 1) return std::move(list.items[0]);
    }
    return list;
  }

  std::vector<Token> tokens_;
  const ConditionLookup& lookup_;
  size_t next_ = 0;
};

}  // namespace

StatusOr<bool> EvaluateCondition(const std::string& expression, const ConditionLookup& lookup) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(expression));
  return Evaluator(std::move(tokens), lookup).Run();
}

StatusOr<bool> EvaluateCondition(const std::string& expression, const OptionPool& options) {
  return EvaluateCondition(
      expression, [&options](const std::string& name) { return options.ConditionValueOf(name); });
}

}  // namespace cairn::project
