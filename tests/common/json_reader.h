// json_reader.h — a strict little JSON reader for tests that parse what
// `--format json` printed. Test-only: header-only, no error recovery.
//
// \udc80..\udcff (lone low surrogates) decode to the raw bytes 80..ff,
// undoing the "surrogateescape" of cairn/json_writer.h; other \u escapes
// below U+0800 decode to UTF-8 (all the writer produces).
#ifndef CAIRN_TESTS_COMMON_JSON_READER_H
#define CAIRN_TESTS_COMMON_JSON_READER_H

#include <cctype>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cairn::testing {

struct JsonValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject } type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;

  const JsonValue* Get(const std::string& key) const {
    for (const auto& member : object) {
      if (member.first == key) return &member.second;
    }
    return nullptr;
  }
};

class JsonReader {
 public:
  // The value `text` holds (surrounding whitespace allowed), or nullopt
  // when it is not exactly one valid JSON value.
  static std::optional<JsonValue> Parse(const std::string& text) {
    JsonReader reader(text);
    JsonValue value;
    if (!reader.Value(&value)) return std::nullopt;
    reader.Space();
    if (reader.at_ != text.size()) return std::nullopt;
    return value;
  }

 private:
  explicit JsonReader(const std::string& text) : text_(text) {}

  void Space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  bool Eat(char c) {
    Space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool Word(const char* word) {
    std::string w(word);
    if (text_.compare(at_, w.size(), w) != 0) return false;
    at_ += w.size();
    return true;
  }

  bool Value(JsonValue* value) {
    Space();
    if (at_ >= text_.size()) return false;
    char c = text_[at_];
    if (c == '{') return Object(value);
    if (c == '[') return Array(value);
    if (c == '"') {
      value->type = JsonValue::Type::kString;
      return String(&value->string);
    }
    if (Word("true") || Word("false")) {
      value->type = JsonValue::Type::kBool;
      value->boolean = c == 't';
      return true;
    }
    if (Word("null")) return true;
    char* end = nullptr;
    value->number = std::strtod(text_.c_str() + at_, &end);
    if (end == text_.c_str() + at_) return false;
    at_ = static_cast<size_t>(end - text_.c_str());
    value->type = JsonValue::Type::kNumber;
    return true;
  }

  bool Object(JsonValue* value) {
    value->type = JsonValue::Type::kObject;
    ++at_;
    if (Eat('}')) return true;
    do {
      std::pair<std::string, JsonValue> member;
      Space();
      if (!String(&member.first) || !Eat(':') || !Value(&member.second)) return false;
      value->object.push_back(std::move(member));
    } while (Eat(','));
    return Eat('}');
  }

  bool Array(JsonValue* value) {
    value->type = JsonValue::Type::kArray;
    ++at_;
    if (Eat(']')) return true;
    do {
      JsonValue item;
      if (!Value(&item)) return false;
      value->array.push_back(std::move(item));
    } while (Eat(','));
    return Eat(']');
  }

  bool String(std::string* out) {
    if (at_ >= text_.size() || text_[at_] != '"') return false;
    ++at_;
    while (at_ < text_.size() && text_[at_] != '"') {
      auto c = static_cast<unsigned char>(text_[at_++]);
      if (c < 0x20) return false;  // raw control characters are not JSON
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      if (at_ >= text_.size()) return false;
      char escape = text_[at_++];
      static const std::string kFrom = "\"\\/bfnrt", kTo = "\"\\/\b\f\n\r\t";
      size_t simple = kFrom.find(escape);
      if (simple != std::string::npos) {
        out->push_back(kTo[simple]);
        continue;
      }
      if (escape != 'u' || at_ + 4 > text_.size()) return false;
      unsigned int code = static_cast<unsigned int>(std::stoul(text_.substr(at_, 4), nullptr, 16));
      at_ += 4;
      if (code >= 0xdc80 && code <= 0xdcff) {
        out->push_back(static_cast<char>(code & 0xff));
      } else if (code < 0x80) {
        out->push_back(static_cast<char>(code));
      } else if (code < 0x800) {
        out->push_back(static_cast<char>(0xc0 | (code >> 6)));
        out->push_back(static_cast<char>(0x80 | (code & 0x3f)));
      } else {
        return false;
      }
    }
    return Eat('"');
  }

  const std::string& text_;
  size_t at_ = 0;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_COMMON_JSON_READER_H
