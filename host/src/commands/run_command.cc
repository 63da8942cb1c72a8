// `cairn run`: build one REAPI Action from the command line and execute it
// in a chosen sandbox. The low-level way for users and tests to drive a
// sandbox directly.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ostream>
#include <utility>

#include "cairn/action_builder.h"
#include "cairn/blob_stream.h"
#include "cairn/host/arg_parser.h"
#include "cairn/host/command.h"
#include "cairn/host/command_context.h"
#include "cairn/json_writer.h"
#include "cairn/quote.h"

namespace cairn {
namespace {

const char kHelp[] =
    "Usage: cairn run --root DIR_OR_DIGEST [--root ...] [OPTIONS] -- ARGV...\n"
    "\n"
    "Builds a REAPI Action from the command line and executes it in the\n"
    "configured sandbox, or in the one named by the global option --sandbox\n"
    "NAME (bwrap, chroot, ...), which may be given before or after `run`.\n"
    "\n"
    "The input root is a directory (imported into the CAS first) or the\n"
    "digest HASH/SIZE of a Directory already in the CAS (as printed by\n"
    "`cairn cas import`). --root may be repeated: the roots are merged in\n"
    "order, a later root's file, symlink or directory replacing an earlier\n"
    "one's at the same path (directories present in both are merged);\n"
    "replaced paths are reported as a warning (listed with -v). The Command\n"
    "gets exactly the --env variables (nothing from your environment), runs\n"
    "in --cwd (relative to the root), and each --output PATH (relative to\n"
    "--cwd) is captured into the CAS.\n"
    "\n"
    "Prints the command's stdout and stderr, then its exit code and the\n"
    "digest of every output (and of stdout/stderr) on standard error:\n"
    "  exit-code: 0\n"
    "  output-file: PATH DIGEST [executable]\n"
    "  output-directory: PATH TREE_DIGEST (root ROOT_DIGEST)\n"
    "  output-symlink: PATH -> TARGET\n"
    "A PATH or TARGET holding a space, a quote, a backslash, a control\n"
    "character or bytes that are not UTF-8 is printed in double quotes,\n"
    "escaped C-style (\\n, \\\", \\ooo octal).\n"
    "With --format json, stdout gets one JSON object instead: exit-code,\n"
    "stdout and stderr (digests; the streams are not printed), output-files\n"
    "(path, digest, executable), output-directories (path, tree-digest,\n"
    "root-digest) and output-symlinks (path, target). Bytes of a name that\n"
    "are not UTF-8 are written as \\udcXX (XX the byte, 80 to ff).\n"
    "`cairn cas cat DIGEST` prints a file; `cairn cas ls ROOT_DIGEST` lists a\n"
    "directory.\n"
    "\n"
    "With --interactive the command is attached to your terminal on a\n"
    "writable root whose changes are thrown away (cairn shell),\n"
    "in the local sandbox: --local-sandbox NAME, else `local-sandbox` from\n"
    "the configuration, else the build sandbox when it runs on this machine,\n"
    "else bwrap.\n"
    "\n"
    "Exit status: 0 when the command exited 0; 1 when it exited non-zero (or\n"
    "was killed at --timeout, which is reported); 2 for a bad command line\n"
    "(a --root that is neither a directory nor a digest, say); 3\n"
    "configuration, 4 plugin (an unknown --sandbox NAME), 5 sandbox or\n"
    "storage errors; 130 when interrupted.\n";

struct RunArguments {
  std::vector<std::string> roots;
  std::string cwd;
  std::vector<std::string> outputs;
  std::vector<std::string> env;
  std::vector<std::string> platform;
  std::string timeout;
  bool interactive = false;
  std::string format = "text";
  std::vector<std::string> argv;
};

// A --root as given: a directory to import into the CAS, or the digest of
// a Directory already there.
struct RootSource {
  std::string directory;  // empty for a digest
  Digest digest;
};

StatusOr<RootSource> ParseRoot(const std::string& root) {
  struct stat info {};
  if (stat(root.c_str(), &info) == 0) {
    if (!S_ISDIR(info.st_mode))
      return InvalidArgument("--root " + QuoteName(root) + " is not a directory");
    return RootSource{root, Digest()};
  }
  StatusOr<Digest> digest = ParseDigest(root);
  if (!digest.ok()) {
    return InvalidArgument("--root " + QuoteName(root) +
                           " is neither a directory nor a digest HASH/SIZE");
  }
  return RootSource{"", *digest};
}

// The command line, parsed once.
struct RunPlan {
  std::vector<RootSource> roots;
  ActionBuilder action;
};

// Everything that can be wrong with the command line itself is found here,
// before anything touches the store: a failure here is a usage error
// (exit 2), while a failure storing the Action later is a storage error
// (exit 5).
StatusOr<RunPlan> ParseRun(const RunArguments& arguments) {
  RunPlan plan;
  for (const std::string& root : arguments.roots) {
    CAIRN_ASSIGN_OR_RETURN(RootSource source, ParseRoot(root));
    plan.roots.push_back(std::move(source));
  }
  CAIRN_RETURN_IF_ERROR(plan.action.SetArguments(arguments.argv));
  for (const std::string& text : arguments.env) {
    CAIRN_ASSIGN_OR_RETURN(auto variable, ParseAssignment(text, "--env"));
    CAIRN_RETURN_IF_ERROR(plan.action.SetEnvironmentVariable(variable.first, variable.second)
                              .WithContext("--env " + text));
  }
  CAIRN_RETURN_IF_ERROR(plan.action.SetWorkingDirectory(arguments.cwd).WithContext("--cwd"));
  for (const std::string& output : arguments.outputs) {
    CAIRN_RETURN_IF_ERROR(plan.action.AddOutputPath(output).WithContext("--output"));
  }
  for (const std::string& text : arguments.platform) {
    CAIRN_ASSIGN_OR_RETURN(auto property, ParseAssignment(text, "--platform"));
    CAIRN_RETURN_IF_ERROR(plan.action.AddPlatformProperty(property.first, property.second)
                              .WithContext("--platform " + text));
  }
  if (!arguments.timeout.empty()) {
    CAIRN_ASSIGN_OR_RETURN(auto timeout, ParseTimeoutSeconds(arguments.timeout, "--timeout"));
    CAIRN_RETURN_IF_ERROR(plan.action.SetTimeout(timeout));
  }
  return plan;
}

// Imports the directory roots, merges all roots in order (later wins) and
// stores the Command.
StatusOr<Action> BuildAction(Storage& cas, RunPlan& plan) {
  for (const RootSource& root : plan.roots) {
    if (root.directory.empty()) {
      plan.action.AddRoot(root.digest);
      continue;
    }
    StatusOr<CapturedTree> tree = cas.CaptureTree(root.directory, CaptureOptions{});
    if (!tree.ok())
      return tree.status().WithContext("importing --root " + QuoteName(root.directory));
    plan.action.AddRoot(tree->root);
  }
  CAIRN_ASSIGN_OR_RETURN(BuiltAction built, plan.action.Build(cas));
  if (!built.overlaps.empty()) {
    spdlog::warn("--root: {} path(s) of an earlier root replaced by a later one, e.g. {}",
                 built.overlaps.size(), built.overlaps.front());
    for (const std::string& path : built.overlaps) {
      spdlog::debug("--root: {} comes from a later root", path);
    }
  }
  return built.action;
}

// One of the command's streams: inlined in the result when small, else
// read from the store in bounded pieces (never whole: it may be gigabytes).
void PrintStream(CommandContext& context, Storage& cas, const std::string& raw, bool has_digest,
                 const Digest& digest, std::ostream& out, const char* name) {
  if (!raw.empty() || !has_digest) {
    out << raw;
    out.flush();
    return;
  }
  Status written = WriteBlobTo(cas, digest, out);
  if (!written.ok()) {
    context.err() << "cairn run: cannot print the command's " << name << ": " << written.ToString()
                  << "\n";
  }
}

void PrintResult(CommandContext& context, Storage& cas, const ActionResult& result) {
  PrintStream(context, cas, result.stdout_raw(), result.has_stdout_digest(), result.stdout_digest(),
              context.out(), "stdout");
  PrintStream(context, cas, result.stderr_raw(), result.has_stderr_digest(), result.stderr_digest(),
              context.err(), "stderr");
  context.err() << "exit-code: " << result.exit_code() << "\n";
  if (result.has_stdout_digest()) {
    context.err() << "stdout: " << DigestToString(result.stdout_digest()) << "\n";
  }
  if (result.has_stderr_digest()) {
    context.err() << "stderr: " << DigestToString(result.stderr_digest()) << "\n";
  }
  // Paths and targets were chosen by the command: quoted when unusual, so
  // a newline in one cannot forge a line of this report.
  for (const auto& file : result.output_files()) {
    context.err() << "output-file: " << QuoteName(file.path()) << " "
                  << DigestToString(file.digest()) << (file.is_executable() ? " executable" : "")
                  << "\n";
  }
  for (const auto& directory : result.output_directories()) {
    context.err() << "output-directory: " << QuoteName(directory.path()) << " "
                  << DigestToString(directory.tree_digest()) << " (root "
                  << DigestToString(directory.root_directory_digest()) << ")\n";
  }
  for (const auto& symlink : result.output_symlinks()) {
    context.err() << "output-symlink: " << QuoteName(symlink.path()) << " -> "
                  << QuoteName(symlink.target()) << "\n";
  }
}

// --format json: the whole report as one JSON object on stdout; the
// command's streams are named by digest (`cairn cas cat` prints them).
void PrintResultJson(CommandContext& context, const ActionResult& result) {
  JsonWriter json;
  json.BeginObject();
  json.Key("exit-code").Int(result.exit_code());
  if (result.has_stdout_digest()) json.Key("stdout").String(DigestToString(result.stdout_digest()));
  if (result.has_stderr_digest()) json.Key("stderr").String(DigestToString(result.stderr_digest()));
  json.Key("output-files").BeginArray();
  for (const auto& file : result.output_files()) {
    json.BeginObject().Key("path").String(file.path());
    json.Key("digest").String(DigestToString(file.digest()));
    json.Key("executable").Bool(file.is_executable()).EndObject();
  }
  json.EndArray().Key("output-directories").BeginArray();
  for (const auto& directory : result.output_directories()) {
    json.BeginObject().Key("path").String(directory.path());
    json.Key("tree-digest").String(DigestToString(directory.tree_digest()));
    json.Key("root-digest").String(DigestToString(directory.root_directory_digest()));
    json.EndObject();
  }
  json.EndArray().Key("output-symlinks").BeginArray();
  for (const auto& symlink : result.output_symlinks()) {
    json.BeginObject().Key("path").String(symlink.path());
    json.Key("target").String(symlink.target()).EndObject();
  }
  json.EndArray().EndObject();
  context.out() << json.text() << "\n";
  context.out().flush();
}

int RunRun(CommandContext& context, const std::vector<std::string>& args) {
  RunArguments arguments;
  ArgParser parser("run");
  // --sandbox NAME is a global option (cli.cc): it never reaches this parser
  // and overrides the configured build sandbox, which OpenSandbox() gives.
  parser.AddList("root", &arguments.roots,
                 "input root: a directory or a Directory digest (repeatable; merged in order, "
                 "later wins)");
  parser.AddString("cwd", &arguments.cwd, "working directory, relative to the root");
  parser.AddList("output", &arguments.outputs, "output path relative to --cwd (repeatable)");
  parser.AddList("env", &arguments.env, "environment variable NAME=VALUE (repeatable)");
  parser.AddList("platform", &arguments.platform,
                 "platform property NAME=VALUE, e.g. network=on, unixUID=1000 (repeatable)");
  parser.AddString("timeout", &arguments.timeout, "seconds before every process is killed");
  parser.AddSwitch("interactive", &arguments.interactive,
                   "attach the terminal; writable root, changes thrown away");
  parser.AddString("format", &arguments.format, "text (default) or json");
  Status parsed = parser.Parse(args, &arguments.argv);
  if (parser.help_requested()) {
    context.out() << kHelp << "\nOptions:\n" << parser.OptionsHelp();
    return kExitOk;
  }
  if (!parsed.ok()) return context.UsageError("run", parsed.message());
  if (arguments.roots.empty()) return context.UsageError("run", "--root is required");
  if (arguments.format != "text" && arguments.format != "json") {
    return context.UsageError("run",
                              "--format must be text or json, not " + QuoteName(arguments.format));
  }
  bool json = arguments.format == "json";
  if (arguments.argv.empty()) {
    return context.UsageError("run", "no command given (put it after --)");
  }

  StatusOr<RunPlan> plan = ParseRun(arguments);
  if (!plan.ok()) return context.UsageError("run", plan.status().message());

  StatusOr<std::shared_ptr<Storage>> cas = context.OpenStorage();
  if (!cas.ok()) return context.Fail(cas.status());
  StatusOr<std::shared_ptr<Sandbox>> sandbox =
      arguments.interactive ? context.OpenLocalSandbox() : context.OpenSandbox();
  if (!sandbox.ok()) return context.Fail(sandbox.status());
  StatusOr<Action> action = BuildAction(**cas, *plan);
  if (!action.ok()) return context.Fail(action.status());

  if (arguments.interactive) {
    InteractiveOptions terminal;  // this process's stdin, stdout, stderr
    StatusOr<int> code = (*sandbox)->RunInteractive(*action, terminal);
    if (!code.ok()) return context.Fail(code.status());
    return *code == 0 ? kExitOk : kExitFailed;
  }

  ExecuteOptions options;
  options.inline_stdout = true;
  options.inline_stderr = true;
  ExecuteOutcome outcome = (*sandbox)->Execute(*action, options);
  if (outcome.result && json) {
    PrintResultJson(context, *outcome.result);
  } else if (outcome.result) {
    PrintResult(context, **cas, *outcome.result);
  }
  if (outcome.status.code() == Code::kDeadlineExceeded) {
    context.err() << "cairn run: " << outcome.status.message() << "\n";
    return kExitFailed;
  }
  if (!outcome.status.ok()) return context.Fail(outcome.status);
  if (!outcome.result) return context.Fail(Internal("the sandbox returned no ActionResult"));
  return outcome.result->exit_code() == 0 ? kExitOk : kExitFailed;
}

}  // namespace

extern const CommandSpec kRunCommand = {
    "run", "execute one command in a sandbox, as a REAPI Action", kHelp, &RunRun};

}  // namespace cairn
