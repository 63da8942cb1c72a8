// cairn/host/command.h — the `cairn` subcommands.
//
// Each subcommand lives in host/src/commands/<name>_command.cc and exposes
// one CommandSpec; host/src/commands/command_table.cc lists them all. A
// command parses its own arguments with ArgParser (cairn/host/arg_parser.h)
// and reaches configuration, plugins, storage and sandboxes through the
// CommandContext. It returns one of the ExitCode values (or, for `cairn
// run`, as documented there) and never calls exit().
#ifndef CAIRN_HOST_COMMAND_H
#define CAIRN_HOST_COMMAND_H

#include <iosfwd>
#include <string>
#include <vector>

namespace cairn {

class CancellationFlag;
class CommandContext;

// Documented in `cairn --help`.
enum ExitCode : int {
  kExitOk = 0,            // success
  kExitFailed = 1,        // the work ran and failed (a command exited non-zero, fsck found damage)
  kExitUsage = 2,         // bad command line
  kExitConfig = 3,        // bad configuration (file:line:column named)
  kExitPlugin = 4,        // a plugin could not be found, loaded or created
  kExitRuntime = 5,       // an error while working (I/O, storage, sandbox)
  kExitInterrupted = 130  // stopped by Ctrl-C / SIGTERM
};

struct CommandSpec {
  const char* name;     // "plugins", "cas", "run"
  const char* summary;  // one line for `cairn --help`
  const char* help;     // full text for `cairn NAME --help` (usage first)
  int (*run)(CommandContext& context, const std::vector<std::string>& args);
};

// Every subcommand, in the order `cairn --help` lists them.
const std::vector<CommandSpec>& AllCommands();

// The whole command line: global options, then a subcommand and its
// arguments. Writes to `out`/`err`, returns the exit status. main() is a
// thin wrapper, so tests run the CLI in-process. `cancellation` (may be
// null) is what Ctrl-C sets.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
           const CancellationFlag* cancellation = nullptr);

}  // namespace cairn

#endif  // CAIRN_HOST_COMMAND_H
