// `cairn plugins`: every plugin found, loaded or not, and why not.
#include <algorithm>
#include <ostream>

#include "cairn/host/arg_parser.h"
#include "cairn/host/command.h"
#include "cairn/host/command_context.h"

namespace cairn {
namespace {

const char kHelp[] =
    "Usage: cairn plugins [--kind sandbox|storage] [--paths]\n"
    "\n"
    "Lists every plugin found on the plugin search path with its name, kind,\n"
    "version, plugin ABI, status and file. A plugin that cannot be used is\n"
    "listed as disabled with the reason (no entry symbol, another ABI major\n"
    "version, a malformed descriptor, a missing callback, shadowed by a\n"
    "plugin of the same name found earlier, crashed while loading).\n"
    "\n"
    "Each library is checked in a child process, so one that crashes or\n"
    "hangs while loading is listed as disabled with the signal or the time\n"
    "limit, and the listing goes on.\n"
    "\n"
    "The search path is, in order: --plugin-path flags, `plugin-paths` from\n"
    "the configuration, the directories in $CAIRN_PLUGIN_PATH, and the\n"
    "installed plugin directory.\n"
    "\n"
    "Exit status: 0 when listed (even with disabled plugins), 3 for a\n"
    "configuration error.\n";

std::string Pad(std::string text, size_t width) {
  if (text.size() < width) text.resize(width, ' ');
  return text + " ";
}

int RunPlugins(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("plugins");
  std::string kind;
  bool show_paths = false;
  parser.AddString("kind", &kind, "only plugins of this kind (sandbox or storage)");
  parser.AddSwitch("paths", &show_paths, "also print the search path");
  std::vector<std::string> positional;
  Status parsed = parser.Parse(args, &positional);
  if (parser.help_requested()) {
    context.out() << kHelp << "\nOptions:\n" << parser.OptionsHelp();
    return kExitOk;
  }
  if (!parsed.ok()) return context.UsageError("plugins", parsed.message());
  if (!positional.empty())
    return context.UsageError("plugins", "unexpected argument '" + positional[0] + "'");
  if (!kind.empty() && kind != "sandbox" && kind != "storage") {
    return context.UsageError("plugins", "--kind must be sandbox or storage, not '" + kind + "'");
  }

  StatusOr<PluginRegistry*> registry = context.GetPlugins();
  if (!registry.ok()) return context.Fail(registry.status());

  if (show_paths) {
    context.out() << "Search path:\n";
    for (const std::string& path : (*registry)->search_paths())
      context.out() << "  " << path << "\n";
    context.out() << "\n";
  }
  std::vector<PluginRecord> found = (*registry)->Survey();
  std::vector<const PluginRecord*> shown;
  for (const PluginRecord& record : found) {
    if (!kind.empty() && PluginKindName(record.kind) != kind) continue;
    shown.push_back(&record);
  }
  if (shown.empty()) {
    context.out() << "No plugins found. Searched:";
    for (const std::string& path : (*registry)->search_paths()) context.out() << " " << path;
    context.out() << "\n";
    return kExitOk;
  }
  size_t name_width = 4;
  for (const PluginRecord* record : shown) name_width = std::max(name_width, record->name.size());
  context.out() << Pad("NAME", name_width) << Pad("KIND", 8) << Pad("VERSION", 9) << Pad("ABI", 5)
                << Pad("STATUS", 9) << "PATH\n";
  for (const PluginRecord* record : shown) {
    std::string abi =
        record->abi_major == 0 && record->abi_minor == 0
            ? "-"
            : std::to_string(record->abi_major) + "." + std::to_string(record->abi_minor);
    context.out() << Pad(record->name, name_width) << Pad(PluginKindName(record->kind), 8)
                  << Pad(record->version.empty() ? "-" : record->version, 9) << Pad(abi, 5)
                  << Pad(record->loaded ? "loaded" : "disabled", 9) << record->path << "\n";
    if (!record->loaded) {
      context.out() << "    reason: " << record->reason << "\n";
    } else if (!record->description.empty() && context.options().verbosity > 0) {
      context.out() << "    " << record->description << "\n";
    }
  }
  return kExitOk;
}

}  // namespace

extern const CommandSpec kPluginsCommand = {
    "plugins", "List plugins, loaded or disabled, with the reason", kHelp, &RunPlugins};

}  // namespace cairn
