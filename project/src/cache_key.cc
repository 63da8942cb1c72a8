#include "cairn/project/cache_key.h"

#include <algorithm>
#include <set>

#include "cairn/digest.h"
#include "cairn/json_writer.h"

namespace cairn::project {
namespace {

// Bumped whenever the same inputs would give different artifacts.
constexpr int kKeyFormat = 1;

void WriteNode(const ConfigNode& node, JsonWriter& out) {
  switch (node.kind()) {
    case ConfigNode::Kind::kNull:
      out.Null();
      break;
    case ConfigNode::Kind::kScalar:
      out.String(node.scalar());
      break;
    case ConfigNode::Kind::kSequence:
      out.BeginArray();
      for (const ConfigNode& item : node.items()) WriteNode(item, out);
      out.EndArray();
      break;
    case ConfigNode::Kind::kMap: {
      std::vector<const ConfigNode::Entry*> entries;
      for (const ConfigNode::Entry& entry : node.entries()) entries.push_back(&entry);
      std::sort(entries.begin(), entries.end(),
                [](const auto* a, const auto* b) { return a->key < b->key; });
      out.BeginObject();
      for (const ConfigNode::Entry* entry : entries) {
        out.Key(entry->key);
        WriteNode(entry->value, out);
      }
      out.EndObject();
      break;
    }
  }
}

}  // namespace

std::string CacheKeyDocument(const Element& element, const std::vector<std::string>& source_keys,
                             const std::vector<std::pair<std::string, std::string>>& dependencies) {
  JsonWriter out;
  out.BeginObject();
  out.Key("cairn-key").Int(kKeyFormat);
  out.Key("kind").String(element.kind);
  out.Key("config");
  WriteNode(element.config, out);
  std::set<std::string> nocache(element.environment_nocache.begin(),
                                element.environment_nocache.end());
  out.Key("environment").BeginObject();
  for (const auto& [name, value] : element.environment) {  // a std::map: sorted
    if (nocache.count(name) == 0) out.Key(name).String(value);
  }
  out.EndObject();
  out.Key("sandbox").BeginObject();
  out.Key("build-uid").Int(element.build_uid);
  out.Key("build-gid").Int(element.build_gid);
  out.EndObject();
  out.Key("public");
  WriteNode(element.public_data, out);
  out.Key("sources").BeginArray();
  for (size_t i = 0; i < element.sources.size(); ++i) {
    const Source& source = element.sources[i];
    out.BeginObject();
    out.Key("kind").String(source.kind);
    out.Key("directory").String(source.directory);
    if (source.kind == "tar") out.Key("base-dir").String(source.base_dir);
    out.Key("content").String(i < source_keys.size() ? source_keys[i] : "");
    out.EndObject();
  }
  out.EndArray();
  out.Key("dependencies").BeginArray();
  for (const auto& [name, key] : dependencies) {
    out.BeginArray().String(name).String(key).EndArray();
  }
  out.EndArray();
  out.EndObject();
  return out.text();
}

StatusOr<std::vector<std::string>> ComputeCacheKeys(const ElementGraph& graph,
                                                    const SourceKeyFunction& source_key) {
  size_t count = graph.elements().size();
  std::vector<std::string> keys(count);
  std::vector<std::string> runtime_keys(count);
  Sha256 hasher;
  // Dependencies come first in elements(), so their keys are ready.
  for (const auto& element : graph.elements()) {
    std::vector<std::string> source_keys;
    for (const Source& source : element->sources) {
      CAIRN_ASSIGN_OR_RETURN(std::string key, source_key(*element, source));
      source_keys.push_back(std::move(key));
    }
    std::vector<std::pair<std::string, std::string>> dependencies;
    for (const Element* dependency : element->build_dependencies) {
      dependencies.emplace_back(dependency->name, runtime_keys[dependency->index]);
    }
    hasher.Update(CacheKeyDocument(*element, source_keys, dependencies));
    std::string key = hasher.FinishHex();
    JsonWriter runtime;
    runtime.BeginArray().String(key);
    for (const Element* dependency : element->runtime_dependencies) {
      runtime.BeginArray()
          .String(dependency->name)
          .String(runtime_keys[dependency->index])
          .EndArray();
    }
    runtime.EndArray();
    hasher.Update(runtime.text());
    runtime_keys[element->index] = hasher.FinishHex();
    keys[element->index] = std::move(key);
  }
  return keys;
}

}  // namespace cairn::project
