#include "cairn/runtime/config_node.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>

#include "cairn/quote.h"
#include "cairn/status_details.h"

namespace cairn {
namespace {

// YAML is Unicode text: bytes that are not UTF-8 would print as something
// else than they are (two keys could print alike).
Status RequireUtf8(std::string_view text, const SourceLocation& where, const char* what) {
  for (size_t i = 0; i < text.size();) {
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      return ConfigError(where,
                         std::string(what) + " holds bytes that are not UTF-8: " + QuoteName(text));
    }
    i += length;
  }
  return Status::Ok();
}

SourceLocation LocationOf(const YAML::Mark& mark, const std::string& file) {
  SourceLocation where;
  where.file = file;
  // yaml-cpp counts from 0; editors and compilers count from 1.
  where.line = mark.line >= 0 ? mark.line + 1 : 0;
  where.column = mark.column >= 0 ? mark.column + 1 : 0;
  return where;
}

// Turns yaml-cpp's tree into ConfigNodes, counting what it produces.
// yaml-cpp keeps an alias as a second reference to the anchored node, so
// its tree stays as small as the text; the copies are made here, which is
// why the node bound is enforced here and not on the text.
class Converter {
 public:
  explicit Converter(const std::string& file) : file_(file) {}

  StatusOr<ConfigNode> Convert(const YAML::Node& node, int depth) {
    SourceLocation where = LocationOf(node.Mark(), file_);
    if (++produced_ > kMaxConfigNodes) {
      return ConfigError(where, "the document expands to more than " +
                                    std::to_string(kMaxConfigNodes) +
                                    " nodes (the bound on a configuration document; "
                                    "aliases count at every use)");
    }
    if ((node.IsSequence() || node.IsMap()) && depth > kMaxConfigDepth) {
      return ConfigError(where, "nesting deeper than " + std::to_string(kMaxConfigDepth) +
                                    " levels (the bound on a configuration document)");
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return ConfigNode::Null(where);
      case YAML::NodeType::Scalar:
        CAIRN_RETURN_IF_ERROR(RequireUtf8(node.Scalar(), where, "a value"));
        return ConfigNode::Scalar(node.Scalar(), where);
      case YAML::NodeType::Sequence: {
        ConfigNode sequence = ConfigNode::Sequence(where);
        for (const YAML::Node& item : node) {
          CAIRN_ASSIGN_OR_RETURN(ConfigNode converted, Convert(item, depth + 1));
          sequence.items().push_back(std::move(converted));
        }
        return sequence;
      }
      case YAML::NodeType::Map: {
        ConfigNode map = ConfigNode::Map(where);
        for (const auto& pair : node) {
          SourceLocation key_where = LocationOf(pair.first.Mark(), file_);
          if (!pair.first.IsScalar()) return ConfigError(key_where, "keys must be plain strings");
          std::string key = pair.first.Scalar();
          CAIRN_RETURN_IF_ERROR(RequireUtf8(key, key_where, "a key"));
          if (map.Get(key) != nullptr) {
            return ConfigError(key_where, "duplicate key '" + key + "'");
          }
          CAIRN_ASSIGN_OR_RETURN(ConfigNode value, Convert(pair.second, depth + 1));
          map.Set(key, std::move(value), key_where);
        }
        return map;
      }
    }
    return ConfigNode();
  }

 private:
  const std::string& file_;
  size_t produced_ = 0;
};

// Where byte `offset` of `text` is, for an error about the document's size.
SourceLocation LocationAt(const std::string& text, size_t offset, const std::string& file) {
  SourceLocation where{file, 1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++where.line;
      where.column = 1;
    } else {
      ++where.column;
    }
  }
  return where;
}

Status TooLarge(const SourceLocation& where) {
  return ConfigError(where, "the document is larger than " +
                                std::to_string(kMaxConfigDocumentBytes) +
                                " bytes (the bound on a configuration document)");
}

}  // namespace

std::string SourceLocation::ToString() const {
  // A path with a newline or invalid UTF-8 must not split or garble the message.
  std::string name = file.empty() || file[0] == '<' ? file : QuoteName(file);
  if (line <= 0) return name;
  return name + ":" + std::to_string(line) + ":" + std::to_string(column);
}

Status ConfigError(const SourceLocation& where, const std::string& message) {
  return WithErrorReason(InvalidArgument(where.ToString() + ": " + message), kReasonConfiguration);
}

std::string ResolveConfigPath(const std::string& path, const SourceLocation& where) {
  if (path.empty() || path[0] == '/') return path;
  std::error_code error;
  std::filesystem::path base = (where.file.empty() || where.file[0] == '<')
                                   ? std::filesystem::current_path(error)
                                   : std::filesystem::absolute(where.file, error).parent_path();
  return (base / path).lexically_normal().string();
}

std::string QuoteYaml(const std::string& text) {
  YAML::Emitter out;
  out << YAML::DoubleQuoted << text;
  return out.c_str();
}

StatusOr<ConfigNode> ConfigNode::Parse(const std::string& text, const std::string& file) {
  if (text.size() > kMaxConfigDocumentBytes) {
    return TooLarge(LocationAt(text, kMaxConfigDocumentBytes, file));
  }
  // YAML text is UTF-8 here: without this check yaml-cpp takes a document
  // starting with a NUL or a UTF-16 byte order mark for UTF-16 (found by
  // the configuration fuzzer). Control characters YAML does not allow are
  // refused where they stand.
  for (size_t at = 0; at < text.size();) {
    unsigned char byte = static_cast<unsigned char>(text[at]);
    size_t length = Utf8SequenceLength(text, at);
    bool control = (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') || byte == 0x7f;
    if (length == 0 || control) {
      return ConfigError(LocationAt(text, at, file),
                         length == 0 ? "the text is not UTF-8"
                                     : "control character " + QuoteC(std::string(1, text[at])) +
                                           " (YAML allows tab, newline and carriage return only)");
    }
    at += length;
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return ConfigError(LocationOf(e.mark, file), e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) return Null(SourceLocation{file, 0, 0});
  return Converter(file).Convert(root, 1);
}

StatusOr<ConfigNode> ConfigNode::ParseFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("cannot read configuration file", QuoteName(path), errno);
  // Never more than one byte past the bound, whatever the file's size, and
  // no more memory than the file needs.
  std::string text;
  char chunk[64 * 1024];
  while (in && text.size() <= kMaxConfigDocumentBytes) {
    size_t want = std::min(sizeof(chunk), kMaxConfigDocumentBytes + 1 - text.size());
    in.read(chunk, static_cast<std::streamsize>(want));
    text.append(chunk, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return ErrnoStatus("cannot read configuration file", QuoteName(path), errno);
  return Parse(text, path);
}

ConfigNode ConfigNode::Scalar(std::string value, SourceLocation where) {
  ConfigNode node;
  node.kind_ = Kind::kScalar;
  node.scalar_ = std::move(value);
  node.location_ = std::move(where);
  return node;
}

ConfigNode ConfigNode::Null(SourceLocation where) {
  ConfigNode node;
  node.location_ = std::move(where);
  return node;
}

ConfigNode ConfigNode::Sequence(SourceLocation where) {
  ConfigNode node;
  node.kind_ = Kind::kSequence;
  node.location_ = std::move(where);
  return node;
}

ConfigNode ConfigNode::Map(SourceLocation where) {
  ConfigNode node;
  node.kind_ = Kind::kMap;
  node.location_ = std::move(where);
  return node;
}

const ConfigNode* ConfigNode::Get(const std::string& key) const {
  for (const Entry& entry : entries_) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

ConfigNode* ConfigNode::Get(const std::string& key) {
  for (Entry& entry : entries_) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

void ConfigNode::Set(const std::string& key, ConfigNode value, SourceLocation key_location) {
  kind_ = Kind::kMap;
  for (Entry& entry : entries_) {
    if (entry.key == key) {
      entry.value = std::move(value);
      entry.key_location = std::move(key_location);
      return;
    }
  }
  entries_.push_back(Entry{key, std::move(key_location), std::move(value)});
}

void ConfigNode::MergeFrom(const ConfigNode& other) {
  if (other.is_null()) return;
  if (is_map() && other.is_map()) {
    // The mapping now reads as given by the last layer that touched it, so
    // an error about it (a plugin rejecting its options) points there.
    location_ = other.location_;
    for (const Entry& entry : other.entries_) {
      ConfigNode* mine = Get(entry.key);
      if (mine != nullptr && mine->is_map() && entry.value.is_map()) {
        mine->MergeFrom(entry.value);
      } else {
        Set(entry.key, entry.value, entry.key_location);
      }
    }
    return;
  }
  *this = other;
}

namespace {

// yaml-cpp prints "---" and "... x" bare, and at the start of a line they
// mark a document; it also prints a carriage return bare, which reads back
// as a line break. Such scalars are printed double-quoted, with escapes.
void EmitScalar(const std::string& text, YAML::Emitter& out) {
  bool marker = text.compare(0, 3, "---") == 0 || text.compare(0, 3, "...") == 0;
  bool control = std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 && c != '\n';
  });
  if (marker || control) out << YAML::DoubleQuoted;
  out << text;
}

void Emit(const ConfigNode& node, YAML::Emitter& out) {
  switch (node.kind()) {
    case ConfigNode::Kind::kNull:
      out << YAML::Null;
      break;
    case ConfigNode::Kind::kScalar:
      EmitScalar(node.scalar(), out);
      break;
    case ConfigNode::Kind::kSequence:
      out << YAML::BeginSeq;
      for (const ConfigNode& item : node.items()) Emit(item, out);
      out << YAML::EndSeq;
      break;
    case ConfigNode::Kind::kMap:
      out << YAML::BeginMap;
      for (const ConfigNode::Entry& entry : node.entries()) {
        out << YAML::Key;
        EmitScalar(entry.key, out);
        out << YAML::Value;
        Emit(entry.value, out);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

bool ConfigNode::SameContent(const ConfigNode& other) const {
  if (kind_ != other.kind_ || scalar_ != other.scalar_) return false;
  if (items_.size() != other.items_.size() || entries_.size() != other.entries_.size()) {
    return false;
  }
  for (size_t i = 0; i < items_.size(); ++i) {
    if (!items_[i].SameContent(other.items_[i])) return false;
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].key != other.entries_[i].key) return false;
    if (!entries_[i].value.SameContent(other.entries_[i].value)) return false;
  }
  return true;
}

std::string ConfigNode::ToYaml() const {
  if (is_null()) return "";
  YAML::Emitter out;
  Emit(*this, out);
  return out.c_str();
}

}  // namespace cairn
