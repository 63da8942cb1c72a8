// cairn/project/composite.h — BuildStream's composition of YAML trees.
//
// Every layer of a BuildStream project is a map composited onto the one
// below it: built-in defaults, project.conf, plugin defaults, element
// overrides, the element, included files and (?) fragments. Composition is
// not a plain merge: lists can be extended with list directives.
//
//   base:     {cmds: [configure, make]}
//   overlay:  {cmds: {(<): [autogen], (>): [install]}}
//   result:   {cmds: [autogen, configure, make, install]}
//
// Errors are ConfigErrors (INVALID_ARGUMENT "FILE:LINE:COLUMN: message")
// at the overlay node that could not be composited; the message names the
// dotted key path and the base value's position. On error `base` is left
// partly composited and should be discarded.
#ifndef CAIRN_PROJECT_COMPOSITE_H
#define CAIRN_PROJECT_COMPOSITE_H

#include "cairn/runtime/config_node.h"
#include "cairn/status.h"

namespace cairn::project {

// The list directives: a map holding only these keys stands for a list.
inline constexpr char kAppendDirective[] = "(>)";
inline constexpr char kPrependDirective[] = "(<)";
inline constexpr char kReplaceDirective[] = "(=)";

// BuildStream's composition (bst 1.6 _yaml.composite): `overlay` onto `base`.
//
// - Maps merge key by key, recursively; a key only in the overlay is added
//   at the end, in the overlay's order.
// - A plain list in the overlay replaces the base's value (which must be a
//   list, a directive map, null or absent). Exception, as in bst: a "(?)"
//   list is appended to the base's "(?)" list, so that conditionals of an
//   included file and of the including file are all kept.
// - A directive map in the overlay ({(>): [...], (<): [...], (=): [...]})
//   applies to the base's list: (=) replaces it, then (<) prepends and (>)
//   appends. When the base has no such key the directive map is kept as it
//   is, so that it still applies to a list composited under it later
//   (includes); ResolveListDirectives turns what is left into a plain list,
//   which is the same as applying the directives to an empty list. Onto a
//   base directive map the directives combine: (<) before the base's (<),
//   (>) after the base's (>), and (=) drops the base's (<) and (>).
// - A scalar or null replaces a scalar or null. Any other change of kind
//   (a map onto a list, a scalar onto a map, a list onto a scalar, a
//   directive map onto a scalar...) is an error.
// - A map mixing directives with other keys, or a directive that is not a
//   list, is an error.
// A null `base` counts as an empty map, a null `overlay` changes nothing;
// anything else than maps there is an error.
//
// The rvalue form moves the overlay's subtrees into `base` (no copies); the
// const form copies the overlay first.
Status Composite(ConfigNode& base, const ConfigNode& overlay);
Status Composite(ConfigNode& base, ConfigNode&& overlay);

// Turns every directive map left in `node` (one whose base never had the
// list, e.g. {(>): [a]} in an element with no such default) into the plain
// list it describes, recursively through maps and lists: (<) + (=) + (>).
// `node` itself may be such a map. Errors: a map mixing directives with
// other keys, a directive that is not a list.
//
// bst 1.6 instead fails such leftovers in its final assertions ("Attempt to
// override non-existing list"); CheckNoListDirectives does that.
Status ResolveListDirectives(ConfigNode& node);

// bst 1.6's final assertion: an error at the first directive key found in
// `node` (recursively), "attempt to override a list that does not exist".
Status CheckNoListDirectives(const ConfigNode& node);

// True when `node` is a map whose keys are all list directives (an empty
// map is not). A map mixing directives and other keys is an error.
StatusOr<bool> IsListDirectiveMap(const ConfigNode& node);

}  // namespace cairn::project

#endif  // CAIRN_PROJECT_COMPOSITE_H
