// cairn/sandbox_common/action_spec.h — an Action, loaded and validated.
//
// LoadActionSpec() reads the Action's Command from CAS and checks everything
// a local sandbox relies on before it touches the disk: arguments present,
// environment names unique (sorted here, nothing inherited from the host),
// working directory and output paths relative and normalized, platform
// properties honoured (see platform_requirements.h), timeout sane. Every
// failure is INVALID_ARGUMENT (or FAILED_PRECONDITION when the Command blob
// is missing from CAS) naming the offending field.
#ifndef CAIRN_SANDBOX_COMMON_ACTION_SPEC_H
#define CAIRN_SANDBOX_COMMON_ACTION_SPEC_H

#include <chrono>
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
  // Relative to the working directory; sorted, unique. The union of
  // output_paths and the deprecated output_files / output_directories.
  std::vector<std::string> output_paths;
  std::optional<std::chrono::milliseconds> timeout;  // none = no limit
  PlatformRequirements platform;

  // The value of `name` in the environment, if set.
  std::optional<std::string> Env(const std::string& name) const;
};

StatusOr<ActionSpec> LoadActionSpec(Storage& cas, const Action& action,
                                    const SandboxCapabilities& capabilities,
                                    const std::string& sandbox);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_ACTION_SPEC_H
