// cairn/action_rules.h — the REAPI rules for one Action and one Command.
//
// The checks of single messages and single fields, with no storage: the
// ActionValidator (cairn/action_validator.h) applies them to what it reads
// from CAS, and the ActionBuilder (cairn/action_builder.h) to each value as
// it is given, so what Cairn builds is exactly what Cairn accepts.
//
// Canonical order (environment by name, each output list, platform
// properties by name then value) is a matter of the cache key: the Action
// digest of a Command in another order differs, so one build would get two
// keys. Hence OrderRule:
//   - kRequireSorted (the default): a list out of order is refused. For
//     cairn-server, whose action cache is keyed by the client's digest,
//     and for anything Cairn builds itself (the ActionBuilder sorts).
//   - kAcceptUnsorted: any order is accepted. For the local sandboxes,
//     which execute an Action and key nothing by its digest; they sort
//     what they use.
// Either way a name or path given twice is refused: that is ambiguous,
// not merely untidy.
//
// Every error is INVALID_ARGUMENT with a google.rpc.BadRequest naming the
// field ("command.environment_variables", "action.timeout", ...; see
// cairn/status_details.h). Pure functions, thread-safe.
//
//   CAIRN_RETURN_IF_ERROR(ValidateActionMessage(action));
//   CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> outputs, ValidateCommandMessage(command));
#ifndef CAIRN_ACTION_RULES_H
#define CAIRN_ACTION_RULES_H

#include <google/protobuf/duration.pb.h>

#include <string>
#include <string_view>
#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/status.h"

namespace cairn {

// The BadRequest fields named by the errors.
inline constexpr char kFieldCommandDigest[] = "action.command_digest";
inline constexpr char kFieldInputRootDigest[] = "action.input_root_digest";
inline constexpr char kFieldTimeout[] = "action.timeout";
inline constexpr char kFieldActionPlatform[] = "action.platform";
inline constexpr char kFieldArguments[] = "command.arguments";
inline constexpr char kFieldEnvironment[] = "command.environment_variables";
inline constexpr char kFieldWorkingDirectory[] = "command.working_directory";
inline constexpr char kFieldOutputPaths[] = "command.output_paths";
inline constexpr char kFieldOutputFiles[] = "command.output_files";
inline constexpr char kFieldOutputDirectories[] = "command.output_directories";
inline constexpr char kFieldCommandPlatform[] = "command.platform";

using Action = build::bazel::remote::execution::v2::Action;
using Command = build::bazel::remote::execution::v2::Command;
using Platform = build::bazel::remote::execution::v2::Platform;

// --- Single values.

// An argument: no NUL; argv[0] (`index` 0) not empty either.
Status ValidateArgument(std::string_view argument, int index);
// A name not empty, without '=' or NUL; a value without NUL.
Status ValidateEnvironmentVariable(std::string_view name, std::string_view value);
// Relative and normalized (cairn/relative_path.h); "" is the input root.
Status ValidateWorkingDirectory(std::string_view path);
// Relative and normalized, not empty (the whole working directory as an
// output is not supported). `field` is the list it came from.
Status ValidateOutputPath(std::string_view path, std::string_view field = kFieldOutputPaths);
// A name not empty; `field` is the platform it came from.
Status ValidatePlatformProperty(std::string_view name, std::string_view field);
// Not negative, nanos in [0, 1e9).
Status ValidateTimeout(const google::protobuf::Duration& timeout);

// --- Whole messages.

enum class OrderRule { kRequireSorted, kAcceptUnsorted };

// command_digest and input_root_digest present and well formed, the timeout
// valid, Action.platform properties named and unique. Reads nothing.
Status ValidateActionMessage(const Action& action, OrderRule order = OrderRule::kRequireSorted);

// Arguments present and valid, environment valid with unique names, the
// working directory and every output path valid, no output listed twice,
// Command.platform properties named and unique. Returns the outputs the
// Command asks for, sorted: output_paths, or (for a client older than
// REAPI 2.1, which leaves it empty) output_files and output_directories
// together; a path in both of those is refused.
StatusOr<std::vector<std::string>> ValidateCommandMessage(
    const Command& command, OrderRule order = OrderRule::kRequireSorted);

// The platform to execute on: Action.platform (REAPI 2.2) when it has
// properties, else the deprecated Command.platform. When both have
// properties they must be equal.
StatusOr<Platform> EffectivePlatform(const Action& action, const Command& command);

}  // namespace cairn

#endif  // CAIRN_ACTION_RULES_H
