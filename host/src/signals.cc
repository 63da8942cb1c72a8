#include "cairn/host/signals.h"

#include <csignal>

namespace cairn {
namespace {

CancellationFlag* g_flag = nullptr;

void OnSignal(int signal_number) {
  if (g_flag == nullptr) return;
  if (g_flag->IsCancelled() && signal_number == SIGINT) std::signal(SIGINT, SIG_DFL);
  g_flag->Cancel();
}

}  // namespace

void InstallCancellationHandlers(CancellationFlag* flag) {
  g_flag = flag;
  struct sigaction action {};
  action.sa_handler = &OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

}  // namespace cairn
