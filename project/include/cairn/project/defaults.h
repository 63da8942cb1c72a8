// cairn/project/defaults.h — the built-in defaults under every project and
// element kind.
//
// BuildStream composes an element's configuration from layers: its
// project's defaults (data/projectconfig.yaml), then project.conf, then the
// kind's defaults (plugins/elements/KIND.yaml, with project.conf's
// `elements: KIND:` overrides), then the element itself. These are the
// bottom layers, as YAML text with BuildStream 1.6.8's content, so a
// project built by Cairn gets the same variables, environment, split rules
// and sandbox settings — and so the same cache-key inputs — as under bst.
//
// Parse the text with ConfigNode::Parse(text, "<defaults>") or similar; it is
// built into the binary and always parses.
#ifndef CAIRN_PROJECT_DEFAULTS_H
#define CAIRN_PROJECT_DEFAULTS_H

#include <string>
#include <vector>

#include "cairn/status.h"

namespace cairn::project {

// bst 1.6's data/projectconfig.yaml: format-version, element-path,
// ref-storage, variables, environment, environment-nocache, sandbox,
// split-rules and shell. The loader adds the variables bst computes itself:
// project-name, max-jobs (min(CPUs available, 8) unless configured) and,
// per element, element-name.
const std::string& ProjectDefaultsYaml();

// The defaults of an element kind (compose, import, manual, script, stack)
// with bst 1.6's content; stack has none (an empty map). NOT_FOUND for any
// other kind, listing the known kinds.
StatusOr<std::string> KindDefaultsYaml(const std::string& kind);

// The kinds KindDefaultsYaml knows, sorted.
std::vector<std::string> KnownKinds();

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_DEFAULTS_H
