// cairn/runtime/plugin_descriptor_check.h — is a plugin's descriptor usable?
//
// CheckPluginDescriptor() negotiates the ABI version, then checks struct
// sizes and required callbacks of the descriptor a plugin's entry symbol
// returned, and of the function tables it points at. It reads only what
// each struct_size says is there (after the version fields), so a hostile
// or truncated descriptor cannot make it read past the plugin's tables;
// the pointers themselves (name, version, description, vtable, ops) must
// be valid or NULL, as plugin.h requires. Pure and thread-safe.
//
//   PluginRecord record;
//   std::string problem = CheckPluginDescriptor(descriptor, &record);
//   if (!problem.empty()) ...  // the plugin is disabled for this reason
#ifndef CAIRN_RUNTIME_PLUGIN_DESCRIPTOR_CHECK_H
#define CAIRN_RUNTIME_PLUGIN_DESCRIPTOR_CHECK_H

#include <string>

#include "cairn/plugin.h"
#include "cairn/runtime/plugin_registry.h"

namespace cairn {

// Fills what it could read (ABI version, kind, name, version, description)
// into `record`, and returns why the plugin is unusable, or "" when it is
// fine. `descriptor` must not be null.
std::string CheckPluginDescriptor(const cairn_plugin_descriptor* descriptor, PluginRecord* record);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_PLUGIN_DESCRIPTOR_CHECK_H
