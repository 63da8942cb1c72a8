// cairn/host/cancellation.h — Ctrl-C and SIGTERM as a cancellation flag.
//
// The one piece of process-wide state in the host: a signal handler can
// only reach a global. InstallCancellationHandlers() makes SIGINT and
// SIGTERM set the flag (a second SIGINT restores the default action, so a
// stuck process can still be killed); plugins poll it through
// cairn_host_services.is_cancelled and stop with CANCELLED.
#ifndef CAIRN_HOST_CANCELLATION_H
#define CAIRN_HOST_CANCELLATION_H

namespace cairn {

void InstallCancellationHandlers();
bool CancellationRequested();
// For tests.
void RequestCancellation();
void ResetCancellation();

}  // namespace cairn

#endif  // CAIRN_HOST_CANCELLATION_H
