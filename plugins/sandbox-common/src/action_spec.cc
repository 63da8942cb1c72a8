#include "cairn/sandbox_common/action_spec.h"

#include <algorithm>

#include "cairn/relative_path.h"

// Older clients still send the deprecated Command.platform, output_files and
// output_directories; reading them is deliberate.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cairn {

std::optional<std::string> ActionSpec::Env(const std::string& name) const {
  for (const auto& [key, value] : environment) {
    if (key == name) return value;
  }
  return std::nullopt;
}

namespace {

// Action.platform (REAPI v2.2) wins; the deprecated Command.platform must
// then agree with it, or is used alone by older clients.
StatusOr<Platform> EffectivePlatform(const Action& action, const Command& command) {
  if (!action.has_platform() || action.platform().properties_size() == 0) {
    return command.platform();
  }
  if (command.platform().properties_size() != 0 &&
      command.platform().SerializeAsString() != action.platform().SerializeAsString()) {
    return InvalidArgument("the Action's platform and its Command's platform differ");
  }
  return action.platform();
}

}  // namespace

StatusOr<ActionSpec> LoadActionSpec(Storage& cas, const Action& action,
                                    const SandboxCapabilities& capabilities,
                                    const std::string& sandbox) {
  ActionSpec spec;
  if (!action.has_command_digest()) return InvalidArgument("the Action has no command_digest");
  if (!action.has_input_root_digest()) {
    return InvalidArgument("the Action has no input_root_digest");
  }
  CAIRN_RETURN_IF_ERROR(ValidateDigest(action.command_digest()));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(action.input_root_digest()));
  spec.input_root = action.input_root_digest();

  StatusOr<Command> command = cas.ReadMessage<Command>(action.command_digest());
  if (!command.ok()) {
    if (command.status().code() == Code::kNotFound) {
      return FailedPrecondition("the Action's Command " +
                                DigestToString(action.command_digest()) + " is not in the CAS");
    }
    return command.status().WithContext("reading the Action's Command");
  }

  if (command->arguments_size() == 0 || command->arguments(0).empty()) {
    return InvalidArgument("the Command has no arguments (argv[0] names the program to run)");
  }
  for (const std::string& argument : command->arguments()) {
    if (argument.find('\0') != std::string::npos) {
      return InvalidArgument("a Command argument contains a NUL byte");
    }
    spec.arguments.push_back(argument);
  }

  for (const auto& variable : command->environment_variables()) {
    const std::string& name = variable.name();
    if (name.empty() || name.find('=') != std::string::npos ||
        name.find('\0') != std::string::npos || variable.value().find('\0') != std::string::npos) {
      return InvalidArgument("environment variable '" + name +
                             "' has an invalid name or value (empty, '=' or NUL)");
    }
    spec.environment.emplace_back(name, variable.value());
  }
  std::sort(spec.environment.begin(), spec.environment.end());
  for (size_t i = 1; i < spec.environment.size(); ++i) {
    if (spec.environment[i].first == spec.environment[i - 1].first) {
      return InvalidArgument("environment variable '" + spec.environment[i].first +
                             "' is set more than once");
    }
  }

  spec.working_directory = command->working_directory();
  CAIRN_RETURN_IF_ERROR(ValidateRelativePath(spec.working_directory, "working_directory", true));

  for (const auto* list : {&command->output_paths(), &command->output_files(),
                           &command->output_directories()}) {
    for (const std::string& path : *list) {
      CAIRN_RETURN_IF_ERROR(ValidateRelativePath(path, "output path", false));
      spec.output_paths.push_back(path);
    }
  }
  std::sort(spec.output_paths.begin(), spec.output_paths.end());
  spec.output_paths.erase(std::unique(spec.output_paths.begin(), spec.output_paths.end()),
                          spec.output_paths.end());

  if (action.has_timeout()) {
    const auto& timeout = action.timeout();
    if (timeout.seconds() < 0 || timeout.nanos() < 0) {
      return InvalidArgument("the Action's timeout is negative");
    }
    auto total = std::chrono::seconds(timeout.seconds()) +
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::nanoseconds(timeout.nanos()));
    if (total.count() > 0) spec.timeout = total;
  }

  CAIRN_ASSIGN_OR_RETURN(Platform platform, EffectivePlatform(action, *command));
  CAIRN_ASSIGN_OR_RETURN(spec.platform, CheckPlatform(platform, capabilities, sandbox));
  return spec;
}

}  // namespace cairn
