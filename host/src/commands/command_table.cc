#include "cairn/host/command.h"

namespace cairn {

// Each defined in its own <name>_command.cc.
extern const CommandSpec kPluginsCommand;
extern const CommandSpec kConfigCommand;
extern const CommandSpec kCasCommand;
extern const CommandSpec kRunCommand;
extern const CommandSpec kBuildCommand;
extern const CommandSpec kShowCommand;
extern const CommandSpec kShellCommand;
extern const CommandSpec kArtifactCommand;

const std::vector<CommandSpec>& AllCommands() {
  static const std::vector<CommandSpec> kCommands = {
      kBuildCommand, kShowCommand, kShellCommand,   kArtifactCommand,
      kRunCommand,   kCasCommand,  kPluginsCommand, kConfigCommand,
  };
  return kCommands;
}

}  // namespace cairn
