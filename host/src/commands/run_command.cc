// Placeholder until the run command lands; replaced by its owner.
#include "cairn/host/command.h"
#include "cairn/host/command_context.h"
namespace cairn {
namespace {
int RunRun(CommandContext& context, const std::vector<std::string>&) {
  return context.Fail(Unimplemented("cairn run is not built yet"));
}
}  // namespace
extern const CommandSpec kRunCommand = {"run", "(not built yet)", "", &RunRun};
}  // namespace cairn
