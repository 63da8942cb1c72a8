// The `cairn` executable: everything is in RunCli, so tests drive the same
// code in-process.
#include <iostream>

#include "cairn/host/cancellation.h"
#include "cairn/host/command.h"

int main(int argc, char** argv) {
  cairn::InstallCancellationHandlers();
  std::vector<std::string> args(argv + 1, argv + argc);
  return cairn::RunCli(args, std::cout, std::cerr);
}
