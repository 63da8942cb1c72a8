// cairn/runtime/runtime_options.h — what a Runtime needs to know, and no more.
//
// The `cairn` CLI fills RuntimeOptions from its merged configuration
// (RuntimeOptionsFor in cairn/runtime/config.h); cairn-server, benchmarks
// and tests fill it directly. Plain data; copyable.
#ifndef CAIRN_RUNTIME_RUNTIME_OPTIONS_H
#define CAIRN_RUNTIME_RUNTIME_OPTIONS_H

#include <map>
#include <string>

#include "cairn/runtime/cancellation.h"
#include "cairn/runtime/config_node.h"

namespace cairn {

// A plugin and the options it is created with.
struct PluginChoice {
  std::string plugin;               // "" = none chosen
  std::string options_yaml;         // the `options` mapping as YAML text ("" = none)
  SourceLocation location;          // where `plugin` was chosen
  SourceLocation options_location;  // where the options mapping starts
};

struct RuntimeOptions {
  // Plugins' temporary files: created on first use. Give one on the same
  // filesystem as a local store, so sandboxes can hardlink from it. "" =
  // none (plugins then use $TMPDIR).
  std::string scratch_dir;
  PluginChoice storage;
  // The sandbox builds run in.
  PluginChoice build_sandbox;
  // The sandbox for interactive use and checkout integration, which must
  // run on this machine. plugin "" = the build sandbox when it is local,
  // else `bwrap`.
  PluginChoice local_sandbox;
  // Options of sandbox plugins by name, used whichever way a plugin is
  // chosen (build_sandbox, local_sandbox, or by name). The options in
  // build_sandbox / local_sandbox apply when those name the plugin.
  std::map<std::string, PluginChoice> sandbox_options;
  // Polled by every plugin through the host services; may be null (never
  // cancelled). Must outlive the Runtime.
  const CancellationFlag* cancellation = nullptr;
};

// The local sandbox used when nothing else is configured and the build
// sandbox runs elsewhere.
inline constexpr char kDefaultLocalSandbox[] = "bwrap";

}  // namespace cairn

#endif  // CAIRN_RUNTIME_RUNTIME_OPTIONS_H
