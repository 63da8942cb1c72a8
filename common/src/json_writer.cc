#include "cairn/json_writer.h"

#include "cairn/quote.h"

namespace cairn {
namespace {

const char kHex[] = "0123456789abcdef";

void AppendUnicodeEscape(unsigned int code, std::string* out) {
  out->append("\\u");
  for (int shift = 12; shift >= 0; shift -= 4) out->push_back(kHex[(code >> shift) & 0xf]);
}

}  // namespace

void JsonWriter::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_member_.empty()) {
    if (has_member_.back()) text_.push_back(',');
    has_member_.back() = true;
  }
}

void JsonWriter::Open(char bracket) {
  BeforeValue();
  text_.push_back(bracket);
  has_member_.push_back(false);
}

void JsonWriter::Close(char bracket) {
  text_.push_back(bracket);
  if (!has_member_.empty()) has_member_.pop_back();
}

JsonWriter& JsonWriter::BeginObject() {
  Open('{');
  return *this;
}

JsonWriter& JsonWriter::EndObject() {
  Close('}');
  return *this;
}

JsonWriter& JsonWriter::BeginArray() {
  Open('[');
  return *this;
}

JsonWriter& JsonWriter::EndArray() {
  Close(']');
  return *this;
}

JsonWriter& JsonWriter::Key(std::string_view name) {
  BeforeValue();
  AppendString(name);
  text_.push_back(':');
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::String(std::string_view value) {
  BeforeValue();
  AppendString(value);
  return *this;
}

JsonWriter& JsonWriter::Int(int64_t value) {
  BeforeValue();
  text_ += std::to_string(value);
  return *this;
}

JsonWriter& JsonWriter::Bool(bool value) {
  BeforeValue();
  text_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::Null() {
  BeforeValue();
  text_ += "null";
  return *this;
}

void JsonWriter::AppendString(std::string_view value) {
  text_.push_back('"');
  for (size_t i = 0; i < value.size();) {
    auto byte = static_cast<unsigned char>(value[i]);
    size_t length = Utf8SequenceLength(value, i);
    if (length == 0) {
      AppendUnicodeEscape(0xdc00 | byte, &text_);
      ++i;
      continue;
    }
    if (length > 1) {
      text_.append(value.substr(i, length));
      i += length;
      continue;
    }
    ++i;
    switch (byte) {
      case '"':
        text_ += "\\\"";
        break;
      case '\\':
        text_ += "\\\\";
        break;
      case '\n':
        text_ += "\\n";
        break;
      case '\t':
        text_ += "\\t";
        break;
      case '\r':
        text_ += "\\r";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          AppendUnicodeEscape(byte, &text_);
        } else {
          text_.push_back(static_cast<char>(byte));
        }
    }
  }
  text_.push_back('"');
}

}  // namespace cairn
