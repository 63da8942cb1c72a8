// cairn/sandbox_common/action_spec.h — an Action, loaded and validated.
//
// LoadActionSpec() checks everything a local sandbox relies on before it
// touches the disk, with the validator cairn-server uses too
// (cairn/action_validator.h): the Action and its Command follow the REAPI
// rules (arguments present, environment names valid and unique — in any
// order: a sandbox keys nothing by the digest, see OrderRule —
// working directory and output paths relative and normalized, timeout not
// negative, Action.platform and Command.platform agreeing), every Directory
// of the input root is valid (absolute symlinks allowed: the root is the
// sandbox's "/"), and every blob is in the CAS. Then the platform
// properties must be ones this sandbox honours (platform_requirements.h).
//
// Errors: INVALID_ARGUMENT with a BadRequest naming the offending field;
// FAILED_PRECONDITION with a PreconditionFailure listing every missing blob
// (the Command, Directory messages and files of the input root together).
// Thread-safe when the Storage is.
#ifndef CAIRN_SANDBOX_COMMON_ACTION_SPEC_H
#define CAIRN_SANDBOX_COMMON_ACTION_SPEC_H

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cairn/digest.h"
#include "cairn/sandbox.h"
#include "cairn/sandbox_common/platform_requirements.h"
#include "cairn/storage.h"

namespace cairn {

struct ActionSpec {
  Digest input_root;
  std::vector<std::string> arguments;
  // Sorted by name, names unique.
  std::vector<std::pair<std::string, std::string>> environment;
  std::string working_directory;  // relative to the input root; "" = the root
  // Relative to the working directory; sorted, unique. The Command's
  // output_paths, or for a pre-2.1 client its output_files and
  // output_directories together.
  std::vector<std::string> output_paths;
  std::optional<std::chrono::milliseconds> timeout;  // none = no limit
  PlatformRequirements platform;

  // The value of `name` in the environment, if set.
  std::optional<std::string> Env(const std::string& name) const;
};

// `input_root_staged` (optional) tells whether the run of `action` (with
// its Command as it stands, before validation) will use a root staged on
// disk already (StagedRootCache::Holds). Its tree was then validated, and
// its files found in the store, when it was staged (roots are staged only
// after this validation), and the staged root keeps their bytes by
// hardlink: the tree is not walked again (for a root of 20,000 files, most
// of a run's cost). The Action and Command are checked as always.
StatusOr<ActionSpec> LoadActionSpec(
    Storage& cas, const Action& action, const SandboxCapabilities& capabilities,
    const std::string& sandbox,
    const std::function<bool(const Action& action, const Command& command)>& input_root_staged =
        nullptr);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_ACTION_SPEC_H
