// cairn/action_validator.h — one validator of an Action, its Command and
// its input tree, reading them through a Storage.
//
// What a sandbox or a server must know before it stages or queues anything:
// the Action and Command follow the rules of cairn/action_rules.h, every
// Directory of the input root follows cairn/directory_rules.h (names,
// order, digests, symlinks, depth), and every blob is in the store. The
// local sandboxes use it through LoadActionSpec; cairn-server's Execute will
// use it as it is.
//
// Errors:
//   - INVALID_ARGUMENT with a google.rpc.BadRequest naming the field
//     ("command.environment_variables", "input_root/usr/bin: ...") for the
//     first rule broken;
//   - FAILED_PRECONDITION with a google.rpc.PreconditionFailure listing
//     EVERY missing blob as MISSING "blobs/{hash}/{size}" — the Command, the
//     Directory messages and the files of the input root together — so a
//     client uploads them all at once (REAPI's Execute contract);
//   - the store's own code (UNAVAILABLE, ...) with context when reading
//     fails otherwise.
//
// Costs: one read per distinct Directory message and one FindMissing for
// all the files; file contents are never read.
//
// Threads: an ActionValidator holds a reference to the Storage (which must
// outlive it) and no other state; Validate() may be called from several
// threads at once when the Storage is thread-safe.
//
//   ActionValidator validator(storage);
//   StatusOr<ValidatedAction> valid = validator.Validate(action);
//   if (!valid.ok()) {
//     for (const Digest& digest : MissingBlobs(valid.status())) Upload(digest);
//   }
#ifndef CAIRN_ACTION_VALIDATOR_H
#define CAIRN_ACTION_VALIDATOR_H

#include <string>
#include <vector>

#include "cairn/action_rules.h"
#include "cairn/digest.h"
#include "cairn/directory_rules.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn {

struct ActionValidatorOptions {
  // Whether the input root may hold symlinks to absolute paths (REAPI's
  // symlink_absolute_path_strategy). The local sandboxes allow them: the
  // input root is the sandbox's "/".
  bool allow_absolute_symlinks = true;
  // Whether the Command's and the Action's lists must be in canonical order
  // (see OrderRule in cairn/action_rules.h). A server keeps the default.
  OrderRule order = OrderRule::kRequireSorted;
  // Whether the input root is known to be valid and present already (a
  // local sandbox's root staged on disk from a tree validated with these
  // options: a digest names one tree, so the verdict stands). Its tree is
  // then not walked; the Action and Command are checked as always.
  bool input_root_known_valid = false;
};

// What a valid Action asks for, as read from the store.
struct ValidatedAction {
  Command command;
  // Action.platform, or the deprecated Command.platform (see EffectivePlatform).
  Platform platform;
  // The outputs, relative to the working directory: sorted, unique (see
  // ValidateCommandMessage). `command` keeps its lists as they came.
  std::vector<std::string> output_paths;
};

class ActionValidator {
 public:
  explicit ActionValidator(Storage& storage, ActionValidatorOptions options = {});

  // Checks the Action, reads and checks its Command, walks its input root.
  StatusOr<ValidatedAction> Validate(const Action& action) const;

  // Walks one tree, checking every Directory and appending every missing
  // blob to `missing` (the root itself, Directory messages below it, then
  // files, each once). Returns OK when the tree is valid as far as it could
  // be read; the caller decides what missing blobs mean. `field` names the
  // tree in BadRequest errors ("input_root").
  Status ValidateTree(const Digest& root, const std::string& field,
                      std::vector<Digest>* missing) const;

 private:
  Storage& storage_;
  ActionValidatorOptions options_;
};

}  // namespace cairn

#endif  // CAIRN_ACTION_VALIDATOR_H
