#include "cairn/host/cancellation.h"

#include <csignal>

namespace cairn {
namespace {

volatile std::sig_atomic_t g_cancelled = 0;

void OnSignal(int signal_number) {
  if (g_cancelled != 0 && signal_number == SIGINT) {
    std::signal(SIGINT, SIG_DFL);
  }
  g_cancelled = 1;
}

}  // namespace

void InstallCancellationHandlers() {
  struct sigaction action {};
  action.sa_handler = &OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool CancellationRequested() { return g_cancelled != 0; }
void RequestCancellation() { g_cancelled = 1; }
void ResetCancellation() { g_cancelled = 0; }

}  // namespace cairn
