// Placeholder until the cas command lands; replaced by its owner.
#include "cairn/host/command.h"
#include "cairn/host/command_context.h"
namespace cairn {
namespace {
int RunCas(CommandContext& context, const std::vector<std::string>&) {
  return context.Fail(Unimplemented("cairn cas is not built yet"));
}
}  // namespace
extern const CommandSpec kCasCommand = {"cas", "(not built yet)", "", &RunCas};
}  // namespace cairn
