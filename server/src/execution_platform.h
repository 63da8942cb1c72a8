// execution_platform.h — whether an instance's sandbox can honour the
// platform an Action asks for.
//
// Checked before an action is queued, so a client learns at once that no
// worker here can run it (REAPI: FAILED_PRECONDITION when creating the
// operation) instead of after waiting in the queue. The rules are the
// local sandboxes' (cairn/sandbox_common/platform_requirements.h): a
// property the sandbox offers (OSFamily, ISA) must have the offered value,
// ignoring case; network=off always holds and network=on needs
// CAIRN_SANDBOX_NETWORK; unixUID/unixGID need CAIRN_SANDBOX_UID_GID (the
// sandbox checks their values); anything else cannot be honoured. A pure
// function.
#ifndef CAIRN_SERVER_EXECUTION_PLATFORM_H
#define CAIRN_SERVER_EXECUTION_PLATFORM_H

#include <string>

#include "cairn/sandbox.h"
#include "cairn/status.h"

namespace cairn::server {

// OK, or FAILED_PRECONDITION naming the first property `offered` cannot
// honour and what `instance` offers instead.
Status CheckPlatformOffered(const Platform& wanted, const SandboxCapabilities& offered,
                            const std::string& instance);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_EXECUTION_PLATFORM_H
