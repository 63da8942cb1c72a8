// The `cairn` executable: everything is in RunCli, so tests drive the same
// code in-process.
#include <iostream>

#include "cairn/host/command.h"
#include "cairn/host/signals.h"

int main(int argc, char** argv) {
  static cairn::CancellationFlag cancellation;
  cairn::InstallCancellationHandlers(&cancellation);
  std::vector<std::string> args(argv + 1, argv + argc);
  return cairn::RunCli(args, std::cout, std::cerr, &cancellation);
}
