#include "cairn/sandbox_common/action_spec.h"

#include <algorithm>

#include "cairn/action_validator.h"

namespace cairn {
namespace {

// Whether the Action's root is staged on disk, judged from its Command's
// working directory as it stands (the lookup only; validation follows).
bool RootStaged(Storage& cas, const Action& action,
                const std::function<bool(const Action&, const Command&)>& input_root_staged) {
  if (!input_root_staged) return false;
  StatusOr<Command> command = cas.ReadMessage<Command>(action.command_digest());
  return command.ok() && input_root_staged(action, *command);
}

}  // namespace

std::optional<std::string> ActionSpec::Env(const std::string& name) const {
  for (const auto& [key, value] : environment) {
    if (key == name) return value;
  }
  return std::nullopt;
}

StatusOr<ActionSpec> LoadActionSpec(
    Storage& cas, const Action& action, const SandboxCapabilities& capabilities,
    const std::string& sandbox,
    const std::function<bool(const Action& action, const Command& command)>& input_root_staged) {
  // The input root is the sandbox's "/", so an absolute symlink in it stays
  // inside the sandbox. A sandbox keys nothing by the Action's digest, so
  // lists in another order than the REAPI's are accepted (and sorted here).
  ActionValidatorOptions options;
  options.allow_absolute_symlinks = true;
  options.order = OrderRule::kAcceptUnsorted;
  options.input_root_known_valid = RootStaged(cas, action, input_root_staged);
  CAIRN_ASSIGN_OR_RETURN(ValidatedAction valid, ActionValidator(cas, options).Validate(action));

  ActionSpec spec;
  spec.input_root = action.input_root_digest();
  const Command& command = valid.command;
  spec.arguments.assign(command.arguments().begin(), command.arguments().end());
  for (const auto& variable : command.environment_variables()) {
    spec.environment.emplace_back(variable.name(), variable.value());
  }
  std::sort(spec.environment.begin(), spec.environment.end());
  spec.working_directory = command.working_directory();
  spec.output_paths = std::move(valid.output_paths);
  if (action.has_timeout()) {
    auto total = std::chrono::seconds(action.timeout().seconds()) +
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::nanoseconds(action.timeout().nanos()));
    if (total.count() > 0) spec.timeout = total;
  }
  CAIRN_ASSIGN_OR_RETURN(spec.platform, CheckPlatform(valid.platform, capabilities, sandbox));
  return spec;
}

}  // namespace cairn
