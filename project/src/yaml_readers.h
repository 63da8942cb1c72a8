// yaml_readers.h — the readers of project.conf and element files share.
//
// Project::LoadConfiguration (project.cc) and the element loader
// (element_loader.cc) read the same kinds of values the same way: strings
// and lists of strings with their YAML whitespace stripped, maps checked
// against the keys they may hold, the variables no file may set, and paths
// that must stay inside a directory. Every error is a ConfigError naming
// the value's FILE:LINE:COLUMN. Pure functions, safe from any thread.
#ifndef CAIRN_PROJECT_YAML_READERS_H
#define CAIRN_PROJECT_YAML_READERS_H

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cairn/runtime/config_node.h"
#include "cairn/status.h"

namespace cairn::project {

// Variables BuildStream sets itself; a file may not.
const std::set<std::string>& ProtectedVariables();

// "a, b, c": the keys in order, for error messages.
std::string JoinKeys(const std::set<std::string>& keys);

// OK when every key of `map` is in `allowed`; else names the first other
// one, `what` holds it ("project.conf", "an element") and the known keys.
Status CheckKeys(const ConfigNode& map, const std::set<std::string>& allowed, const char* what);

// A scalar, stripped as BuildStream strips it; `what` names it in errors.
StatusOr<std::string> ReadString(const ConfigNode& node, const char* what);

// A list of strings; none (null or absent) is the empty list.
StatusOr<std::vector<std::string>> ReadStringList(const ConfigNode* node, const char* what);

// Whether `candidate` (normalised) is `base` or below it.
bool StaysInside(const std::filesystem::path& base, const std::filesystem::path& candidate);

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_YAML_READERS_H
