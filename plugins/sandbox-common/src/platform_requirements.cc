#include "cairn/sandbox_common/platform_requirements.h"

#include <sys/utsname.h>

#include <cctype>
#include <set>

#include "cairn/plugin.h"

namespace cairn {
namespace {

std::string Lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string Offered(const SandboxCapabilities& capabilities, const std::string& name) {
  for (const auto& property : capabilities.platform.properties()) {
    if (property.name() == name) return property.value();
  }
  return std::string();
}

StatusOr<uint32_t> ParseId(const std::string& name, const std::string& value) {
  if (value.empty() || value.size() > 10) {
    return InvalidArgument("platform property " + name + "='" + value + "' is not a numeric id");
  }
  uint64_t id = 0;
  for (char c : value) {
    if (c < '0' || c > '9') {
      return InvalidArgument("platform property " + name + "='" + value + "' is not a numeric id");
    }
    id = id * 10 + static_cast<uint64_t>(c - '0');
  }
  if (id >= 0xffffffffu) {
    return InvalidArgument("platform property " + name + "='" + value + "' is out of range");
  }
  return static_cast<uint32_t>(id);
}

}  // namespace

std::string HostIsa() {
  struct utsname name {};
  if (uname(&name) != 0) return "unknown";
  std::string machine = name.machine;
  if (machine == "x86_64") return "x86-64";
  if (machine == "i386" || machine == "i686") return "x86-32";
  if (machine == "aarch64") return "arm-a64";
  if (machine.rfind("armv7", 0) == 0) return "arm-a32";
  return machine;
}

SandboxCapabilities LocalCapabilities(uint32_t flags) {
  SandboxCapabilities capabilities;
  auto* os = capabilities.platform.add_properties();
  os->set_name("ISA");
  os->set_value(HostIsa());
  auto* family = capabilities.platform.add_properties();
  family->set_name("OSFamily");
  family->set_value("linux");
  capabilities.flags = flags;
  return capabilities;
}

StatusOr<PlatformRequirements> CheckPlatform(const Platform& platform,
                                             const SandboxCapabilities& capabilities,
                                             const std::string& sandbox) {
  PlatformRequirements requirements;
  std::set<std::string> seen;
  const std::string by = " by the " + sandbox + " sandbox";
  for (const auto& property : platform.properties()) {
    const std::string& name = property.name();
    const std::string& value = property.value();
    if (!seen.insert(name).second) {
      return InvalidArgument("platform property " + name + " is given more than once");
    }
    if (name == "OSFamily" || name == "ISA") {
      std::string offered = Offered(capabilities, name);
      if (Lowercase(value) != Lowercase(offered)) {
        return InvalidArgument("platform property " + name + "='" + value + "' cannot be honoured" +
                               by + " (it offers " + name + "='" + offered + "')");
      }
    } else if (name == "unixUID" || name == "unixGID") {
      if ((capabilities.flags & CAIRN_SANDBOX_UID_GID) == 0) {
        return InvalidArgument("platform property " + name + " cannot be honoured" + by);
      }
      CAIRN_ASSIGN_OR_RETURN(uint32_t id, ParseId(name, value));
      (name == "unixUID" ? requirements.uid : requirements.gid) = id;
    } else if (name == "network") {
      if (value == "off") {
        requirements.network = false;
      } else if (value == "on") {
        if ((capabilities.flags & CAIRN_SANDBOX_NETWORK) == 0) {
          return InvalidArgument("platform property network=on cannot be honoured" + by);
        }
        requirements.network = true;
      } else {
        return InvalidArgument("platform property network='" + value + "' must be 'on' or 'off'");
      }
    } else {
      return InvalidArgument("platform property '" + name + "' is not supported" + by +
                             " (it honours OSFamily, ISA, unixUID, unixGID and network)");
    }
  }
  return requirements;
}

}  // namespace cairn
