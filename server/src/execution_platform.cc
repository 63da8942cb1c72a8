#include "execution_platform.h"

#include <cctype>

#include "cairn/plugin.h"

namespace cairn::server {
namespace {

bool EqualIgnoringCase(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string Describe(const SandboxCapabilities& offered) {
  std::string text;
  for (const auto& property : offered.platform.properties()) {
    text += (text.empty() ? "" : ", ") + property.name() + "=" + property.value();
  }
  if (offered.flags & CAIRN_SANDBOX_NETWORK)
    text += (text.empty() ? "" : ", ") + std::string("network=on|off");
  if (offered.flags & CAIRN_SANDBOX_UID_GID)
    text += (text.empty() ? "" : ", ") + std::string("unixUID, unixGID");
  return text.empty() ? "nothing" : text;
}

}  // namespace

Status CheckPlatformOffered(const Platform& wanted, const SandboxCapabilities& offered,
                            const std::string& instance) {
  for (const auto& property : wanted.properties()) {
    const std::string& name = property.name();
    const std::string& value = property.value();
    bool honoured = false;
    bool named = false;
    for (const auto& offer : offered.platform.properties()) {
      if (offer.name() != name) continue;
      named = true;
      honoured = honoured || EqualIgnoringCase(offer.value(), value);
    }
    if (!named) {
      if (name == "network") {
        honoured = value == "off" || (value == "on" && (offered.flags & CAIRN_SANDBOX_NETWORK));
      } else if (name == "unixUID" || name == "unixGID") {
        honoured = (offered.flags & CAIRN_SANDBOX_UID_GID) != 0;
      }
    }
    if (!honoured) {
      return FailedPrecondition("platform property " + name + "='" + value +
                                "' cannot be honoured by instance \"" + instance +
                                "\" (it offers " + Describe(offered) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace cairn::server
