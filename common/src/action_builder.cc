#include "cairn/action_builder.h"

#include <cmath>
#include <cstdlib>

#include "cairn/merkle.h"
#include "cairn/status_details.h"

namespace cairn {
namespace {

Platform PlatformOf(const std::set<std::pair<std::string, std::string>>& properties) {
  Platform platform;
  for (const auto& [name, value] : properties) {
    auto* property = platform.add_properties();
    property->set_name(name);
    property->set_value(value);
  }
  return platform;
}

}  // namespace

StatusOr<std::pair<std::string, std::string>> ParseAssignment(std::string_view text,
                                                              std::string_view option) {
  size_t equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return InvalidArgument(std::string(option) + " expects NAME=VALUE, not '" + std::string(text) +
                           "'");
  }
  return std::make_pair(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
}

StatusOr<google::protobuf::Duration> ParseTimeoutSeconds(std::string_view text,
                                                         std::string_view option) {
  std::string copy(text);
  char* end = nullptr;
  double seconds = std::strtod(copy.c_str(), &end);
  // !(seconds > 0) also refuses NaN.
  if (copy.empty() || end != copy.c_str() + copy.size() || !(seconds > 0) || seconds > 1e9) {
    return InvalidArgument(std::string(option) + " expects a positive number of seconds, not '" +
                           copy + "'");
  }
  google::protobuf::Duration duration;
  double whole = std::floor(seconds);
  duration.set_seconds(static_cast<int64_t>(whole));
  // Rounded, so "0.3" is 300000000 ns and not 299999999.
  auto nanos = static_cast<int32_t>(std::lround((seconds - whole) * 1e9));
  if (nanos > 999999999) nanos = 999999999;
  duration.set_nanos(nanos);
  return duration;
}

Status ActionBuilder::SetArguments(std::vector<std::string> arguments) {
  if (arguments.empty()) {
    return BadRequestError(kFieldArguments, "no arguments (argv[0] names the program to run)");
  }
  for (size_t i = 0; i < arguments.size(); ++i) {
    CAIRN_RETURN_IF_ERROR(ValidateArgument(arguments[i], static_cast<int>(i)));
  }
  arguments_ = std::move(arguments);
  return Status::Ok();
}

Status ActionBuilder::SetEnvironmentVariable(const std::string& name, const std::string& value) {
  CAIRN_RETURN_IF_ERROR(ValidateEnvironmentVariable(name, value));
  if (!environment_.emplace(name, value).second) {
    return BadRequestError(kFieldEnvironment, "variable '" + name + "' is given more than once");
  }
  return Status::Ok();
}

Status ActionBuilder::SetWorkingDirectory(const std::string& path) {
  CAIRN_RETURN_IF_ERROR(ValidateWorkingDirectory(path));
  working_directory_ = path;
  return Status::Ok();
}

Status ActionBuilder::AddOutputPath(const std::string& path) {
  CAIRN_RETURN_IF_ERROR(ValidateOutputPath(path));
  output_paths_.insert(path);
  return Status::Ok();
}

Status ActionBuilder::AddPlatformProperty(const std::string& name, const std::string& value) {
  CAIRN_RETURN_IF_ERROR(ValidatePlatformProperty(name, kFieldActionPlatform));
  platform_.emplace(name, value);
  return Status::Ok();
}

Status ActionBuilder::SetTimeout(const google::protobuf::Duration& timeout) {
  CAIRN_RETURN_IF_ERROR(ValidateTimeout(timeout));
  if (timeout.seconds() == 0 && timeout.nanos() == 0) {
    timeout_.reset();
  } else {
    timeout_ = timeout;
  }
  return Status::Ok();
}

Command ActionBuilder::BuildCommand() const {
  Command command;
  for (const std::string& argument : arguments_) command.add_arguments(argument);
  // std::map and std::set iterate in bytewise order: the REAPI's order.
  for (const auto& [name, value] : environment_) {
    auto* variable = command.add_environment_variables();
    variable->set_name(name);
    variable->set_value(value);
  }
  command.set_working_directory(working_directory_);
  for (const std::string& path : output_paths_) command.add_output_paths(path);
    // REAPI 2.2 reads Action.platform; servers older than that read this
    // deprecated copy, which REAPI asks clients to keep setting.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (!platform_.empty()) *command.mutable_platform() = PlatformOf(platform_);
#pragma GCC diagnostic pop
  return command;
}

StatusOr<BuiltAction> ActionBuilder::Build(Storage& storage, bool write_action) const {
  if (arguments_.empty()) return FailedPrecondition("the Action has no arguments: set them first");
  BuiltAction built;
  built.command = BuildCommand();
  StatusOr<MergeResult> merged = MergeTrees(storage, roots_);
  if (!merged.ok()) return merged.status().WithContext("merging the input roots");
  built.overlaps = std::move(merged->overlaps);
  CAIRN_ASSIGN_OR_RETURN(built.command_digest, storage.WriteMessage(built.command));

  Action& action = built.action;
  *action.mutable_command_digest() = built.command_digest;
  *action.mutable_input_root_digest() = merged->root;
  if (timeout_) *action.mutable_timeout() = *timeout_;
  action.set_do_not_cache(do_not_cache_);
  if (!salt_.empty()) action.set_salt(salt_);
  if (!platform_.empty()) *action.mutable_platform() = PlatformOf(platform_);
  built.action_digest = DigestOfMessage(action);
  if (write_action) {
    CAIRN_ASSIGN_OR_RETURN(Digest written, storage.WriteMessage(action));
    if (written != built.action_digest) {
      return Internal("the store named the Action " + DigestToString(written) + ", not " +
                      DigestToString(built.action_digest));
    }
  }
  return built;
}

}  // namespace cairn
