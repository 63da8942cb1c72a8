#include "cairn/host/command.h"

namespace cairn {

// Each defined in its own <name>_command.cc.
extern const CommandSpec kPluginsCommand;
extern const CommandSpec kConfigCommand;
extern const CommandSpec kCasCommand;
extern const CommandSpec kRunCommand;

const std::vector<CommandSpec>& AllCommands() {
  static const std::vector<CommandSpec> commands = {
      kRunCommand,
      kCasCommand,
      kPluginsCommand,
      kConfigCommand,
  };
  return commands;
}

}  // namespace cairn
