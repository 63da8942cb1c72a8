#include "cairn/sandbox_common/action_spec.h"

#include <algorithm>

#include "cairn/action_validator.h"

namespace cairn {

std::optional<std::string> ActionSpec::Env(const std::string& name) const {
  for (const auto& [key, value] : environment) {
    if (key == name) return value;
  }
  return std::nullopt;
}

StatusOr<ActionSpec> LoadActionSpec(Storage& cas, const Action& action,
                                    const SandboxCapabilities& capabilities,
                                    const std::string& sandbox) {
  // The input root is the sandbox's "/", so an absolute symlink in it stays
  // inside the sandbox. A sandbox keys nothing by the Action's digest, so
  // lists in another order than the REAPI's are accepted (and sorted here).
  ActionValidatorOptions options;
  options.allow_absolute_symlinks = true;
  options.order = OrderRule::kAcceptUnsorted;
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
