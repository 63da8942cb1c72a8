// cairn/runtime/plugin_probe.h — checking a library without risking the
// host process.
//
// ProbePlugin() forks; the child loads the library and checks it exactly as
// PluginRegistry::Inspect() does, writes what it found to a pipe and exits
// without running any destructor. The parent reads the record, so a
// library that segfaults or aborts while loading (a static constructor, the
// entry symbol) or never returns only costs the child: the record is then
// disabled with the reason ("crashed with SIGSEGV while loading", "did not
// finish loading within 10 s"). Nothing is loaded into the calling process,
// so the record has no library or descriptor: it describes, it cannot be
// used. Create/open are never called.
//
// Thread-safe, but fork() copies only the calling thread: call it where no
// other thread holds a lock the loader needs (the time limit bounds the
// damage if one does).
//
//   PluginRecord record = ProbePlugin("/opt/plugins/cairn-foo.so");
//   if (!record.loaded) std::cout << record.reason << "\n";
#ifndef CAIRN_RUNTIME_PLUGIN_PROBE_H
#define CAIRN_RUNTIME_PLUGIN_PROBE_H

#include <chrono>
#include <string>

#include "cairn/runtime/plugin_registry.h"

namespace cairn {

inline constexpr std::chrono::milliseconds kDefaultProbeTimeLimit{10000};

PluginRecord ProbePlugin(const std::string& path,
                         std::chrono::milliseconds time_limit = kDefaultProbeTimeLimit);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_PLUGIN_PROBE_H
