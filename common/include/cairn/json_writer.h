// cairn/json_writer.h — a small streaming JSON writer for `--format json`.
//
// Writes one JSON value (usually an object or an array of objects) to a
// std::string, adding commas and escaping strings:
//
//   JsonWriter json;
//   json.BeginObject();
//   json.Key("path").String(name);
//   json.Key("size").Int(42);
//   json.EndObject();
//   out << json.text() << "\n";
//
// Strings are escaped for any byte sequence: '"', '\' and control
// characters (U+0000..U+001F, DEL) as \" \\ \n \t ... or \u00XX. Valid
// UTF-8 passes unchanged. A byte that is not part of valid UTF-8 is
// written as the lone surrogate \udcXX (XX = the byte, 80..FF), as
// Python's "surrogateescape" does: the output stays one line of ASCII-safe
// JSON, and a reader that wants the exact bytes back can recover them.
//
// The caller nests Begin/End pairs correctly; the writer does not check
// the structure. Not thread-safe; cheap to create.
#ifndef CAIRN_JSON_WRITER_H
#define CAIRN_JSON_WRITER_H

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // An object member's name; the value follows with the next call.
  JsonWriter& Key(std::string_view name);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  const std::string& text() const { return text_; }

 private:
  void BeforeValue();
  void Open(char bracket);
  void Close(char bracket);
  void AppendString(std::string_view value);

  std::string text_;
  // For each open object or array: whether it has a member yet.
  std::vector<bool> has_member_;
  bool after_key_ = false;
};

}  // namespace cairn

#endif  // CAIRN_JSON_WRITER_H
