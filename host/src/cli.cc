#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <ostream>

#include "cairn/host/arg_parser.h"
#include "cairn/host/command.h"
#include "cairn/host/command_context.h"
#include "cairn/plugin.h"

#ifndef CAIRN_VERSION
#define CAIRN_VERSION "0.0.0"
#endif

namespace cairn {
namespace {

const char kUsage[] =
    "Usage: cairn [GLOBAL OPTIONS] COMMAND [ARGS...]\n"
    "\n"
    "Cairn builds software inside sandboxes and caches every result by content.\n"
    "Where builds run and where bytes live are plugins chosen in YAML.\n";

const char kGlobalHelp[] =
    "Global options (also accepted after COMMAND, before a bare --):\n"
    "  -v, --verbose          more log output (-v debug, -vv trace)\n"
    "  -q, --quiet            only errors\n"
    "      --config FILE      user configuration instead of $XDG_CONFIG_HOME/cairn/config.yaml\n"
    "  -C, --project DIR      the project directory (default: search upwards from .)\n"
    "      --sandbox NAME     sandbox plugin for builds instead of the configured one\n"
    "      --local-sandbox NAME  sandbox plugin for interactive use (shell, run\n"
    "                         --interactive) instead of the configured one\n"
    "      --storage NAME     storage plugin to use instead of the configured one\n"
    "      --cache-dir DIR    cache directory instead of the configured one\n"
    "      --plugin-path DIR  search DIR for plugins first (repeatable)\n"
    "  -j, --jobs N           parallel jobs (0 = one per core)\n"
    "      --version          print the version and plugin ABI, then exit\n"
    "  -h, --help             this help; `cairn COMMAND --help` for a command\n"
    "\n"
    "Exit status:\n"
    "  0    success\n"
    "  1    the work ran and failed (a command exited non-zero, fsck found damage)\n"
    "  2    bad command line\n"
    "  3    bad configuration (FILE:LINE:COLUMN is named)\n"
    "  4    a plugin could not be found, loaded or created\n"
    "  5    an error while working (I/O, storage, sandbox)\n"
    "  130  interrupted (Ctrl-C, SIGTERM)\n"
    "\n"
    "Environment:\n"
    "  CAIRN_PLUGIN_PATH      colon-separated directories searched for plugins\n"
    "  XDG_CONFIG_HOME, XDG_CACHE_HOME  where configuration and caches live\n";

void PrintHelp(std::ostream& out) {
  out << kUsage << "\nCommands:\n";
  for (const CommandSpec& command : AllCommands()) {
    std::string name = command.name;
    name.resize(10, ' ');
    out << "  " << name << command.summary << "\n";
  }
  out << "\n" << kGlobalHelp;
}

// Pulls the global options out of `args` (up to a bare "--"), leaving the
// command's own arguments.
Status ParseGlobals(std::vector<std::string>* args, GlobalOptions* options, bool* help,
                    bool* version) {
  std::vector<std::string> rest;
  size_t i = 0;
  auto value = [&](const std::string& name, std::string* out) -> Status {
    if (i + 1 >= args->size()) return InvalidArgument("option '" + name + "' needs a value");
    *out = (*args)[++i];
    return Status::Ok();
  };
  for (; i < args->size(); ++i) {
    std::string arg = (*args)[i];
    std::string inline_value;
    bool has_inline = false;
    if (arg.compare(0, 2, "--") == 0 && arg.find('=') != std::string::npos) {
      inline_value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      has_inline = true;
    }
    auto take = [&](std::string* out) -> Status {
      if (has_inline) {
        *out = inline_value;
        return Status::Ok();
      }
      return value(arg, out);
    };
    if (arg == "--") {
      rest.insert(rest.end(), args->begin() + static_cast<long>(i), args->end());
      break;
    } else if (arg == "-v" || arg == "--verbose") {
      ++options->verbosity;
    } else if (arg == "-vv") {
      options->verbosity += 2;
    } else if (arg == "-q" || arg == "--quiet") {
      options->verbosity = -1;
    } else if (arg == "--config") {
      CAIRN_RETURN_IF_ERROR(take(&options->config_file));
    } else if (arg == "-C" || arg == "--project") {
      CAIRN_RETURN_IF_ERROR(take(&options->project_dir));
    } else if (arg == "--sandbox") {
      CAIRN_RETURN_IF_ERROR(take(&options->overrides.sandbox));
    } else if (arg == "--local-sandbox") {
      CAIRN_RETURN_IF_ERROR(take(&options->overrides.local_sandbox));
    } else if (arg == "--storage") {
      CAIRN_RETURN_IF_ERROR(take(&options->overrides.storage));
    } else if (arg == "--cache-dir") {
      CAIRN_RETURN_IF_ERROR(take(&options->overrides.cache_dir));
    } else if (arg == "--plugin-path") {
      std::string path;
      CAIRN_RETURN_IF_ERROR(take(&path));
      options->overrides.plugin_paths.push_back(path);
    } else if (arg == "-j" || arg == "--jobs") {
      std::string text;
      CAIRN_RETURN_IF_ERROR(take(&text));
      char* end = nullptr;
      long jobs = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || jobs < 0) {
        return InvalidArgument("option '--jobs' needs a number of 0 or more, not '" + text + "'");
      }
      options->overrides.jobs = static_cast<int>(jobs);
    } else if (rest.empty() && (arg == "--help" || arg == "-h")) {
      *help = true;
    } else if (rest.empty() && arg == "--version") {
      *version = true;
    } else {
      rest.push_back((*args)[i]);
    }
  }
  *args = std::move(rest);
  return Status::Ok();
}

void SetUpLogging(int verbosity) {
  // Logs go to stderr; stdout carries only the command's results.
  auto logger = spdlog::stderr_color_mt("cairn");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::level::level_enum level = spdlog::level::info;
  if (verbosity >= 2)
    level = spdlog::level::trace;
  else if (verbosity == 1)
    level = spdlog::level::debug;
  else if (verbosity < 0)
    level = spdlog::level::err;
  spdlog::set_level(level);
}

}  // namespace

int RunCli(const std::vector<std::string>& raw_args, std::ostream& out, std::ostream& err,
           const CancellationFlag* cancellation) {
  std::vector<std::string> args = raw_args;
  GlobalOptions options;
  bool help = false;
  bool version = false;
  Status parsed = ParseGlobals(&args, &options, &help, &version);
  if (!parsed.ok()) {
    err << "cairn: " << parsed.message() << "\nRun 'cairn --help' for usage.\n";
    return kExitUsage;
  }
  if (version) {
    out << "cairn " << CAIRN_VERSION << " (plugin ABI " << CAIRN_ABI_VERSION_MAJOR << "."
        << CAIRN_ABI_VERSION_MINOR << ")\n";
    return kExitOk;
  }
  if (args.empty() || args[0] == "help") {
    if (args.size() > 1) {
      args = {args[1], "--help"};
    } else {
      PrintHelp(help || !args.empty() ? out : err);
      return help || !args.empty() ? kExitOk : kExitUsage;
    }
  }
  if (!spdlog::get("cairn")) SetUpLogging(options.verbosity);
  for (const CommandSpec& command : AllCommands()) {
    if (args[0] != command.name) continue;
    if (help) args.push_back("--help");
    CommandContext context(options, out, err, cancellation);
    return command.run(context, std::vector<std::string>(args.begin() + 1, args.end()));
  }
  err << "cairn: unknown command '" << args[0]
      << "'\nRun 'cairn --help' for the list of commands.\n";
  return kExitUsage;
}

}  // namespace cairn
