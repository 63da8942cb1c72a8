// cairn/host/signals.h — Ctrl-C and SIGTERM for the `cairn` process.
//
// InstallCancellationHandlers() makes SIGINT and SIGTERM cancel `flag`
// (which must live until the process exits); a second SIGINT restores the
// default action, so a stuck process can still be killed. The one piece of
// process-wide state in Cairn: a signal handler can only reach a global.
#ifndef CAIRN_HOST_SIGNALS_H
#define CAIRN_HOST_SIGNALS_H

#include "cairn/runtime/cancellation.h"

namespace cairn {

void InstallCancellationHandlers(CancellationFlag* flag);

}  // namespace cairn

#endif  // CAIRN_HOST_SIGNALS_H
