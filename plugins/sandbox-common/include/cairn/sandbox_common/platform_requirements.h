// cairn/sandbox_common/platform_requirements.h — REAPI platform properties
// as a local sandbox understands them.
//
// A local sandbox honours OSFamily and ISA (they must match the host), and,
// according to its capability flags, unixUID / unixGID (run as that user
// and group) and network (on|off; off is the default). Any other property,
// or one the sandbox cannot honour, is INVALID_ARGUMENT naming it, so an
// Action never silently runs with fewer guarantees than it asked for.
#ifndef CAIRN_SANDBOX_COMMON_PLATFORM_REQUIREMENTS_H
#define CAIRN_SANDBOX_COMMON_PLATFORM_REQUIREMENTS_H

#include <cstdint>
#include <optional>
#include <string>

#include "cairn/sandbox.h"
#include "cairn/status.h"

namespace cairn {

struct PlatformRequirements {
  std::optional<uint32_t> uid;  // unixUID
  std::optional<uint32_t> gid;  // unixGID
  bool network = false;         // network=on
};

// The ISA of the running host in REAPI's lexicon ("x86-64", "arm-a64", ...).
std::string HostIsa();

// OSFamily=linux, ISA=<host>, with the given CAIRN_SANDBOX_* flags.
SandboxCapabilities LocalCapabilities(uint32_t flags);

// Checks `platform` (sorted or not) against what `capabilities` offers.
// `sandbox` names the sandbox in messages.
StatusOr<PlatformRequirements> CheckPlatform(const Platform& platform,
                                             const SandboxCapabilities& capabilities,
                                             const std::string& sandbox);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_PLATFORM_REQUIREMENTS_H
