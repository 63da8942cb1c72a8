#include "cairn/action_rules.h"

#include <algorithm>
#include <utility>

#include "cairn/digest.h"
#include "cairn/relative_path.h"
#include "cairn/status_details.h"

// Older clients still send the deprecated Command.platform, output_files and
// output_directories; reading them is deliberate.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace cairn {
namespace {

std::string Printable(std::string_view text) {
  std::string printable;
  for (char c : text) printable += c == '\0' ? std::string("\\0") : std::string(1, c);
  return printable;
}

// The relative-path rules, reported as a BadRequest on `field`.
Status CheckPath(std::string_view path, std::string_view field, std::string_view what,
                 bool allow_empty) {
  Status valid = ValidateRelativePath(path, what, allow_empty);
  if (valid.ok()) return valid;
  return BadRequestError(std::string(field), valid.message());
}

// No key twice, and with kRequireSorted `keys` in order. `describe` names
// an element for the message.
template <typename Key, typename Describe>
Status CheckCanonical(std::vector<Key> keys, std::string_view field, OrderRule order,
                      Describe describe) {
  if (order == OrderRule::kAcceptUnsorted) std::sort(keys.begin(), keys.end());
  for (size_t i = 1; i < keys.size(); ++i) {
    if (keys[i - 1] < keys[i]) continue;
    if (keys[i - 1] == keys[i]) {
      return BadRequestError(std::string(field), describe(keys[i]) + " is listed more than once");
    }
    return BadRequestError(std::string(field), describe(keys[i - 1]) + " is not sorted before " +
                                                   describe(keys[i]) +
                                                   " (the REAPI requires canonical order)");
  }
  return Status::Ok();
}

std::vector<std::string> Sorted(const google::protobuf::RepeatedPtrField<std::string>& list) {
  std::vector<std::string> sorted(list.begin(), list.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// The (name, value) pairs in the order given.
std::vector<std::pair<std::string, std::string>> Properties(const Platform& platform) {
  std::vector<std::pair<std::string, std::string>> properties;
  for (const auto& property : platform.properties()) {
    properties.emplace_back(property.name(), property.value());
  }
  return properties;
}

std::vector<std::pair<std::string, std::string>> SortedProperties(const Platform& platform) {
  std::vector<std::pair<std::string, std::string>> properties = Properties(platform);
  std::sort(properties.begin(), properties.end());
  return properties;
}

Status CheckPlatform(const Platform& platform, std::string_view field, OrderRule order) {
  for (const auto& property : platform.properties()) {
    CAIRN_RETURN_IF_ERROR(ValidatePlatformProperty(property.name(), field));
  }
  std::vector<std::pair<std::string, std::string>> properties = Properties(platform);
  return CheckCanonical(std::move(properties), field, order, [](const auto& property) {
    return "property '" + property.first + "=" + property.second + "'";
  });
}

// One output list: every path valid, the list canonical.
Status CheckOutputList(const google::protobuf::RepeatedPtrField<std::string>& list,
                       std::string_view field, OrderRule order) {
  for (const std::string& path : list) CAIRN_RETURN_IF_ERROR(ValidateOutputPath(path, field));
  std::vector<std::string> paths(list.begin(), list.end());
  return CheckCanonical(std::move(paths), field, order,
                        [](const std::string& path) { return "output path '" + path + "'"; });
}

}  // namespace

Status ValidateArgument(std::string_view argument, int index) {
  if (index == 0 && argument.empty()) {
    return BadRequestError(kFieldArguments, "argv[0] is empty (it names the program to run)");
  }
  if (argument.find('\0') != std::string_view::npos) {
    return BadRequestError(kFieldArguments, "argv[" + std::to_string(index) + "] '" +
                                                Printable(argument) + "' contains a NUL byte");
  }
  return Status::Ok();
}

Status ValidateEnvironmentVariable(std::string_view name, std::string_view value) {
  std::string quoted = "'" + Printable(name) + "'";
  if (name.empty()) return BadRequestError(kFieldEnvironment, "a variable has an empty name");
  if (name.find('=') != std::string_view::npos) {
    return BadRequestError(kFieldEnvironment, "variable name " + quoted + " contains '='");
  }
  if (name.find('\0') != std::string_view::npos) {
    return BadRequestError(kFieldEnvironment, "variable name " + quoted + " contains a NUL byte");
  }
  if (value.find('\0') != std::string_view::npos) {
    return BadRequestError(kFieldEnvironment,
                           "the value of variable " + quoted + " contains a NUL byte");
  }
  return Status::Ok();
}

Status ValidateWorkingDirectory(std::string_view path) {
  return CheckPath(path, kFieldWorkingDirectory, "working_directory", true);
}

Status ValidateOutputPath(std::string_view path, std::string_view field) {
  return CheckPath(path, field, "output path", false);
}

Status ValidatePlatformProperty(std::string_view name, std::string_view field) {
  if (name.empty()) return BadRequestError(std::string(field), "a property has an empty name");
  return Status::Ok();
}

Status ValidateTimeout(const google::protobuf::Duration& timeout) {
  if (timeout.seconds() < 0 || timeout.nanos() < 0) {
    return BadRequestError(kFieldTimeout, "the timeout is negative");
  }
  if (timeout.nanos() > 999999999) {
    return BadRequestError(
        kFieldTimeout, "nanos must be below one second, not " + std::to_string(timeout.nanos()));
  }
  return Status::Ok();
}

Status ValidateActionMessage(const Action& action, OrderRule order) {
  if (!action.has_command_digest()) return BadRequestError(kFieldCommandDigest, "missing");
  if (!action.has_input_root_digest()) return BadRequestError(kFieldInputRootDigest, "missing");
  for (const auto& [field, digest] :
       {std::make_pair(kFieldCommandDigest, &action.command_digest()),
        std::make_pair(kFieldInputRootDigest, &action.input_root_digest())}) {
    Status valid = ValidateDigest(*digest);
    if (!valid.ok()) return BadRequestError(field, valid.message());
  }
  if (action.has_timeout()) CAIRN_RETURN_IF_ERROR(ValidateTimeout(action.timeout()));
  return CheckPlatform(action.platform(), kFieldActionPlatform, order);
}

StatusOr<std::vector<std::string>> ValidateCommandMessage(const Command& command, OrderRule order) {
  if (command.arguments_size() == 0) {
    return BadRequestError(kFieldArguments, "no arguments (argv[0] names the program to run)");
  }
  for (int i = 0; i < command.arguments_size(); ++i) {
    CAIRN_RETURN_IF_ERROR(ValidateArgument(command.arguments(i), i));
  }
  std::vector<std::string> names;
  for (const auto& variable : command.environment_variables()) {
    CAIRN_RETURN_IF_ERROR(ValidateEnvironmentVariable(variable.name(), variable.value()));
    names.push_back(variable.name());
  }
  CAIRN_RETURN_IF_ERROR(
      CheckCanonical(std::move(names), kFieldEnvironment, order,
                     [](const std::string& name) { return "variable '" + name + "'"; }));
  CAIRN_RETURN_IF_ERROR(ValidateWorkingDirectory(command.working_directory()));
  CAIRN_RETURN_IF_ERROR(CheckOutputList(command.output_paths(), kFieldOutputPaths, order));
  CAIRN_RETURN_IF_ERROR(CheckOutputList(command.output_files(), kFieldOutputFiles, order));
  CAIRN_RETURN_IF_ERROR(
      CheckOutputList(command.output_directories(), kFieldOutputDirectories, order));
  CAIRN_RETURN_IF_ERROR(CheckPlatform(command.platform(), kFieldCommandPlatform, order));

  // REAPI 2.1: when output_paths is set, the deprecated lists are ignored.
  if (command.output_paths_size() > 0) return Sorted(command.output_paths());
  std::vector<std::string> files = Sorted(command.output_files());
  std::vector<std::string> outputs = files;
  for (const std::string& directory : command.output_directories()) {
    if (std::binary_search(files.begin(), files.end(), directory)) {
      return BadRequestError(kFieldOutputDirectories,
                             "'" + directory + "' is also listed in output_files");
    }
    outputs.push_back(directory);
  }
  std::sort(outputs.begin(), outputs.end());
  return outputs;
}

StatusOr<Platform> EffectivePlatform(const Action& action, const Command& command) {
  if (action.platform().properties_size() == 0) return command.platform();
  if (command.platform().properties_size() != 0 &&
      SortedProperties(command.platform()) != SortedProperties(action.platform())) {
    return BadRequestError(kFieldActionPlatform,
                           "the Action's platform and its Command's platform differ");
  }
  return action.platform();
}

}  // namespace cairn
