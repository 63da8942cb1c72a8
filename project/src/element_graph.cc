// Element's readers and ElementGraph's closures (cairn/project/project.h).
#include <functional>

#include "cairn/project/project.h"

namespace cairn::project {

// Readers of an element's composed configuration and public data.

std::vector<std::string> Element::ConfigList(const std::string& key) const {
  std::vector<std::string> values;
  const ConfigNode* node = config.Get(key);
  if (node == nullptr || !node->is_sequence()) return values;
  for (const ConfigNode& item : node->items()) {
    if (item.is_scalar()) values.push_back(item.scalar());
  }
  return values;
}

std::string Element::ConfigString(const std::string& key, const std::string& fallback) const {
  const ConfigNode* node = config.Get(key);
  return node != nullptr && node->is_scalar() ? node->scalar() : fallback;
}

bool Element::ConfigBool(const std::string& key, bool fallback) const {
  const ConfigNode* node = config.Get(key);
  if (node == nullptr || !node->is_scalar()) return fallback;
  const std::string& text = node->scalar();
  if (text == "true" || text == "True" || text == "TRUE" || text == "yes") return true;
  if (text == "false" || text == "False" || text == "FALSE" || text == "no") return false;
  return fallback;
}

std::vector<std::string> Element::IntegrationCommands() const {
  std::vector<std::string> commands;
  const ConfigNode* bst = public_data.Get("bst");
  const ConfigNode* list = bst != nullptr ? bst->Get("integration-commands") : nullptr;
  if (list == nullptr || !list->is_sequence()) return commands;
  for (const ConfigNode& item : list->items()) {
    if (item.is_scalar()) commands.push_back(item.scalar());
  }
  return commands;
}

std::map<std::string, std::vector<std::string>> Element::SplitRules() const {
  std::map<std::string, std::vector<std::string>> rules;
  const ConfigNode* bst = public_data.Get("bst");
  const ConfigNode* splits = bst != nullptr ? bst->Get("split-rules") : nullptr;
  if (splits == nullptr || !splits->is_map()) return rules;
  for (const ConfigNode::Entry& domain : splits->entries()) {
    std::vector<std::string>& patterns = rules[domain.key];
    if (!domain.value.is_sequence()) continue;
    for (const ConfigNode& item : domain.value.items()) {
      if (item.is_scalar()) patterns.emplace_back(StripYamlWhitespace(item.scalar()));
    }
  }
  return rules;
}

// --- ElementGraph ------------------------------------------------------

const Element* ElementGraph::Find(const std::string& name) const {
  auto found = by_name_.find(name);
  return found == by_name_.end() ? nullptr : found->second;
}

std::vector<const Element*> ElementGraph::Closure(const std::vector<const Element*>& starts) const {
  std::vector<const Element*> order;
  std::vector<char> seen(elements_.size(), 0);
  // Depth first, runtime dependencies before dependents, each once.
  std::function<void(const Element&)> visit = [&](const Element& current) {
    if (seen[current.index]) return;
    seen[current.index] = 1;
    for (const Element* dependency : current.runtime_dependencies) visit(*dependency);
    order.push_back(&current);
  };
  for (const Element* start : starts) visit(*start);
  return order;
}

std::vector<const Element*> ElementGraph::RuntimeClosure(const Element& element) const {
  return Closure({&element});
}

std::vector<const Element*> ElementGraph::BuildClosure(const Element& element) const {
  return Closure(element.build_dependencies);
}

std::vector<const Element*> ElementGraph::Plan() const {
  std::vector<const Element*> order;
  order.reserve(elements_.size());
  for (const auto& element : elements_) order.push_back(element.get());
  return order;
}

}  // namespace cairn::project
