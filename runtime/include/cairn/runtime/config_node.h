// cairn/runtime/config_node.h — a YAML tree that remembers where each value
// came from.
//
// Configuration comes from several files (defaults, cairn.yaml, the user's
// config.yaml) and the command line, merged in that order. Every node keeps
// the file, line and column it was read from, so an error found after the
// merge still names the place a user has to fix.
#ifndef CAIRN_RUNTIME_CONFIG_NODE_H
#define CAIRN_RUNTIME_CONFIG_NODE_H

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "cairn/status.h"

namespace cairn {

struct SourceLocation {
  std::string file;  // a path, or "<command line>", "<defaults>"
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based

  // "FILE:LINE:COLUMN" (or just FILE when the position is unknown).
  std::string ToString() const;
};

// INVALID_ARGUMENT "FILE:LINE:COLUMN: message", marked with the error
// reason kReasonConfiguration (cairn/status_details.h).
Status ConfigError(const SourceLocation& where, const std::string& message);

// `path` made absolute: a relative path is relative to the directory of the
// file `where` names (the working directory for the command line and the
// built-in defaults). "" stays "".
std::string ResolveConfigPath(const std::string& path, const SourceLocation& where);

// `text` as a double-quoted YAML scalar, escaped as needed.
std::string QuoteYaml(const std::string& text);

// Bounds on one YAML document, so a hostile file (an "alias bomb" of
// nested anchors, a huge or deeply nested document) is refused with a
// ConfigError naming the bound instead of exhausting memory or stack.
// Real configurations are a few hundred nodes, a few KiB and under ten
// levels deep; the bounds are orders of magnitude above that.
//
// Document size in bytes, checked before parsing.
inline constexpr size_t kMaxConfigDocumentBytes = 4u << 20;  // 4 MiB
// Nesting of sequences and mappings, counting the root as level 1.
inline constexpr int kMaxConfigDepth = 64;
// Nodes produced while converting the document (scalars, nulls, lists,
// mappings; map keys not counted). An alias counts again at every use,
// because that is what it costs once converted: this is the bound that
// stops an alias bomb, whose YAML is tiny and whose expansion is not.
inline constexpr size_t kMaxConfigNodes = 100000;

class ConfigNode {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };

  // Parses one YAML document. Syntax errors and duplicate keys are
  // ConfigErrors naming the position. An empty document is a null node.
  // A document past one of the bounds above is a ConfigError naming the
  // bound, at the place where it was crossed.
  static StatusOr<ConfigNode> Parse(const std::string& text, const std::string& file);
  static StatusOr<ConfigNode> ParseFile(const std::string& path);

  static ConfigNode Scalar(std::string value, SourceLocation where);
  static ConfigNode Null(SourceLocation where);
  static ConfigNode Map(SourceLocation where);
  static ConfigNode Sequence(SourceLocation where);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_map() const { return kind_ == Kind::kMap; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  const SourceLocation& location() const { return location_; }
  const std::string& scalar() const { return scalar_; }
  void set_scalar(std::string value) { scalar_ = std::move(value); }
  const std::vector<ConfigNode>& items() const { return items_; }
  std::vector<ConfigNode>& items() { return items_; }

  // Map access, in document order. Each entry keeps the key's location.
  struct Entry;
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }
  const ConfigNode* Get(const std::string& key) const;
  ConfigNode* Get(const std::string& key);
  // Inserts or replaces.
  void Set(const std::string& key, ConfigNode value, SourceLocation key_location);

  // Overlays `other` onto this node: maps merge key by key (recursively),
  // anything else is replaced by the overlay's value. A null overlay
  // leaves the node as it is.
  void MergeFrom(const ConfigNode& other);

  // YAML text of this node (for handing plugin options across the ABI);
  // parsing it gives a node with the same content.
  std::string ToYaml() const;

  // True when both trees hold the same kinds, keys in the same order and
  // scalars; where they came from does not count.
  bool SameContent(const ConfigNode& other) const;

 private:
  Kind kind_ = Kind::kNull;
  SourceLocation location_;
  std::string scalar_;
  std::vector<ConfigNode> items_;
  std::vector<Entry> entries_;
};

struct ConfigNode::Entry {
  std::string key;
  SourceLocation key_location;
  ConfigNode value;
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CONFIG_NODE_H
