// cairn/project/cache_key.h — what names an element's artifact.
//
// An element's cache key is the SHA-256 (hex) of a canonical JSON document
// (CacheKeyDocument) holding everything that can change its result, and
// nothing else:
//
//   "cairn-key"     the version of this document's format (bumped when
//                   what a build produces for the same inputs changes)
//   "kind"          the element's kind
//   "config"        its configuration (commands, import paths, compose
//                   domains...) after composition and variable
//                   substitution; maps with sorted keys
//   "environment"   the build environment, less environment-nocache names
//   "sandbox"       build-uid and build-gid
//   "public"        public data (integration commands and split rules reach
//                   every element that stages this one)
//   "sources"       per source: its kind, where it is staged, and its
//                   content: a local source's Merkle tree digest, a tar
//                   source's SHA-256 and base-dir
//   "dependencies"  per build dependency, in bst's order: its name
//                   and its runtime key, the SHA-256 of its cache key and
//                   the names and runtime keys of its runtime dependencies.
//                   So the key covers everything staged to build the
//                   element (BuildStream's Scope.BUILD) and the order it is
//                   staged in, at a cost linear in the graph's edges.
//
// Not in the key: where the project is checked out, the machine, the time,
// variables that no value uses, the sandbox plugin (every sandbox must give
// the same result for the same Action), comments and YAML layout. So keys
// are stable across runs, machines and checkout locations, and change
// with any input that is in the list.
#ifndef CAIRN_PROJECT_CACHE_KEY_H
#define CAIRN_PROJECT_CACHE_KEY_H

#include <functional>
#include <string>
#include <vector>

#include "cairn/project/project.h"
#include "cairn/status.h"

namespace cairn::project {

// The content of one source for the key: a local source's tree digest
// ("hash/size"), a tar source's ref. Computing it may need the store
// (local sources), so the caller provides it.
using SourceKeyFunction = std::function<StatusOr<std::string>(const Element&, const Source&)>;

// The canonical document of `element`, given its sources' keys (in order)
// and the names and runtime keys of its build dependencies.
std::string CacheKeyDocument(const Element& element, const std::vector<std::string>& source_keys,
                             const std::vector<std::pair<std::string, std::string>>& dependencies);

// Every element's cache key, indexed like graph.elements().
StatusOr<std::vector<std::string>> ComputeCacheKeys(const ElementGraph& graph,
                                                    const SourceKeyFunction& source_key);

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_CACHE_KEY_H
