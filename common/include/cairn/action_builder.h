// cairn/action_builder.h — one way to build a REAPI Action.
//
// Used by `cairn run`, and meant for the build scheduler, `cairn shell`,
// `artifact checkout` and the server's tests: whoever turns inputs into an
// Action gets the same canonical Command (environment sorted by name,
// outputs and platform sorted, the platform in both Action and Command as
// REAPI 2.2 asks) and so the same Action digest.
//
// Two phases:
//   1. Setters check each value as it is given, with the rules of
//      cairn/action_rules.h (INVALID_ARGUMENT with a BadRequest naming the
//      field), and touch no store: a caller reports them as a usage error
//      before it opens anything. ParseAssignment and ParseTimeoutSeconds
//      turn command-line text into values the same way.
//   2. Build() merges the roots (cairn/merkle.h MergeTrees, later roots
//      winning, the overlaps returned for a warning), writes the Command
//      (and, when asked, the Action) to the store and returns the digests.
//      Its errors are the store's.
// A builder that accepted every setter builds a Command that
// ValidateCommandMessage accepts.
//
// Threads: a builder is a plain value; use one per thread. Build() is const
// and may run concurrently on one builder when the Storage is thread-safe.
//
//   ActionBuilder builder;
//   CAIRN_RETURN_IF_ERROR(builder.SetArguments({"make", "-j8"}));
//   CAIRN_RETURN_IF_ERROR(builder.SetEnvironmentVariable("PATH", "/usr/bin"));
//   CAIRN_RETURN_IF_ERROR(builder.AddOutputPath("out"));
//   builder.AddRoot(sysroot);
//   builder.AddRoot(sources);
//   CAIRN_ASSIGN_OR_RETURN(BuiltAction built, builder.Build(storage));
//   for (const std::string& path : built.overlaps) Warn(path);
#ifndef CAIRN_ACTION_BUILDER_H
#define CAIRN_ACTION_BUILDER_H

#include <google/protobuf/duration.pb.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/action_rules.h"
#include "cairn/digest.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn {

struct BuiltAction {
  Action action;
  Command command;
  Digest action_digest;   // of `action`; written to the store only when asked
  Digest command_digest;  // written to the store
  // Paths where a later root replaced different content of an earlier one
  // (MergeResult::overlaps). Sorted.
  std::vector<std::string> overlaps;
};

// "NAME=VALUE" -> {NAME, VALUE}; INVALID_ARGUMENT naming `option` ("--env")
// when there is no '=' or nothing before it.
StatusOr<std::pair<std::string, std::string>> ParseAssignment(std::string_view text,
                                                              std::string_view option);
// "2.5" -> 2.5 s; INVALID_ARGUMENT naming `option` unless a positive number
// of seconds up to 1e9.
StatusOr<google::protobuf::Duration> ParseTimeoutSeconds(std::string_view text,
                                                         std::string_view option);

class ActionBuilder {
 public:
  // Input roots (Directory digests), merged in the order added. None gives
  // the empty directory.
  void AddRoot(const Digest& root) { roots_.push_back(root); }

  // argv: at least one, argv[0] not empty, no NUL.
  Status SetArguments(std::vector<std::string> arguments);
  // A name given twice is an error, even with the same value.
  Status SetEnvironmentVariable(const std::string& name, const std::string& value);
  // Relative to the input root; "" (the default) is the root.
  Status SetWorkingDirectory(const std::string& path);
  // Relative to the working directory. Adding a path again changes nothing.
  Status AddOutputPath(const std::string& path);
  // Sorted by name, then value; the same pair twice counts once.
  Status AddPlatformProperty(const std::string& name, const std::string& value);
  // A zero Duration leaves the timeout unset (the executor's default).
  Status SetTimeout(const google::protobuf::Duration& timeout);
  void SetDoNotCache(bool do_not_cache) { do_not_cache_ = do_not_cache; }
  void SetSalt(std::string salt) { salt_ = std::move(salt); }

  // The Command as it stands: reads nothing, writes nothing.
  Command BuildCommand() const;

  // Merges the roots, writes the Command and, with `write_action`, the
  // Action. FAILED_PRECONDITION when no arguments were set.
  StatusOr<BuiltAction> Build(Storage& storage, bool write_action = false) const;

 private:
  std::vector<Digest> roots_;
  std::vector<std::string> arguments_;
  std::map<std::string, std::string> environment_;
  std::string working_directory_;
  std::set<std::string> output_paths_;
  std::set<std::pair<std::string, std::string>> platform_;
  std::optional<google::protobuf::Duration> timeout_;
  bool do_not_cache_ = false;
  std::string salt_;
};

}  // namespace cairn

#endif  // CAIRN_ACTION_BUILDER_H
