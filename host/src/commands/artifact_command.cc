// `cairn shell` and `cairn artifact checkout|log|list-contents|delete`.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cairn/action_builder.h"
#include "cairn/host/arg_parser.h"
#include "cairn/host/command.h"
#include "cairn/host/command_context.h"
#include "cairn/project/archive.h"
#include "cairn/quote.h"
#include "cairn/scheduler/element_builder.h"
#include "cairn/tree_edit.h"
#include "cairn/unique_fd.h"
#include "project_session.h"

namespace cairn {
namespace {

constexpr char kShellHelp[] =
    "Usage: cairn shell [OPTIONS] TARGET.bst [-- COMMAND...]\n"
    "\n"
    "Runs COMMAND (default: the project's shell command, `sh -i`) in a local sandbox\n"
    "holding the target and what it needs at run time, after their integration\n"
    "commands. With --build: the target's build inputs and sources instead, in its\n"
    "build directory. Always a local sandbox (REAPI has no interactive mode);\n"
    "interactive when a terminal is attached. Changes are thrown away.\n"
    "Exit status: the command's.\n";

constexpr char kArtifactHelp[] =
    "Usage: cairn artifact checkout TARGET.bst --directory DIR [--no-integrate]\n"
    "                               [--hardlinks] [--tar FILE|-] [--deps run|none]\n"
    "       cairn artifact log TARGET.bst\n"
    "       cairn artifact list-contents TARGET.bst\n"
    "       cairn artifact delete TARGET.bst...\n"
    "       cairn artifact push TARGET.bst... [--deps none|run|build|all] [--remote URL]\n"
    "       cairn artifact pull TARGET.bst... [--deps none|run|build|all] [--remote URL]\n"
    "\n"
    "checkout      writes the target's files and those of its runtime dependencies\n"
    "              (--deps run, the default) after their integration commands ran in\n"
    "              a local sandbox (unless --no-integrate), to a new or empty DIR or\n"
    "              as a tar archive (--tar - writes to stdout).\n"
    "log           prints the build log of the target's artifact.\n"
    "list-contents lists the files of the target's artifact.\n"
    "delete        forgets the artifacts (their files go at the next garbage collection).\n"
    "push          sends the built artifacts of the targets (and, with --deps, their\n"
    "              dependencies; default none) to the artifact caches marked push: true,\n"
    "              or to --remote URL; blobs a cache has are not sent again.\n"
    "pull          fetches the artifacts this cache lacks from the artifact caches, in\n"
    "              their order, or from --remote URL.\n"
    "push and pull print one line per element and the bytes, blobs and elements moved;\n"
    "they exit 1 when an element could not be pushed or pulled.\n";

StatusOr<scheduler::Artifact> CachedArtifact(ProjectSession& session,
                                             const project::Element& element, bool need_success) {
  CAIRN_ASSIGN_OR_RETURN(
      std::optional<scheduler::Artifact> artifact,
      session.artifacts->Find(session.project->name(), element.name, session.KeyOf(element)));
  if (!artifact) {
    return NotFound(element.name + " (" + session.KeyOf(element).substr(0, 8) +
                    ") is not built: `cairn build " + element.name + "` builds it");
  }
  if (need_success && !artifact->success()) {
    return FailedPrecondition(element.name + " failed to build: " + artifact->failure());
  }
  return *artifact;
}

// One target, loaded with its session.
StatusOr<std::unique_ptr<ProjectSession>> OpenOne(CommandContext& context,
                                                  const std::vector<std::string>& targets,
                                                  const std::vector<std::string>& option_pairs,
                                                  const project::Element** element) {
  if (targets.size() > 1) return InvalidArgument("one target only");
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ProjectSession> session,
                         OpenProject(context, targets, option_pairs));
  if (session->graph.targets().size() != 1) return InvalidArgument("one target only");
  *element = session->graph.targets().front();
  return session;
}

// The scratch log of integration at checkout or in a shell.
UniqueFd ScratchLog(const std::string& cache_dir) {
  std::error_code error;
  std::filesystem::create_directories(cache_dir + "/logs", error);
  std::string path = cache_dir + "/logs/integration-XXXXXX";
  std::vector<char> name(path.begin(), path.end());
  name.push_back('\0');
  UniqueFd fd(mkstemp(name.data()));
  if (fd.valid()) unlink(name.data());
  return fd;
}

int RunShell(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("shell");
  std::vector<std::string> positional;
  std::vector<std::string> option_pairs;
  bool build = false;
  parser.AddSwitch("build", &build,
                   "the target's build inputs and sources, in its build directory");
  std::vector<std::string> before;
  std::vector<std::string> command;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    before.push_back(args[i]);
  }
  std::vector<std::string> words = before;
  Status parsed = ExtractProjectOptions(words, &option_pairs);
  if (parsed.ok()) parsed = parser.Parse(words, &positional);
  if (parser.help_requested()) {
    context.out() << kShellHelp << "\nOptions:\n" << parser.OptionsHelp() << kOptionHelp;
    return kExitOk;
  }
  if (!parsed.ok()) return context.UsageError("shell", parsed.message());
  if (positional.size() != 1) return context.UsageError("shell", "give exactly one target");

  const project::Element* element = nullptr;
  StatusOr<std::unique_ptr<ProjectSession>> session =
      OpenOne(context, positional, option_pairs, &element);
  if (!session.ok()) return context.Fail(session.status());
  StatusOr<std::shared_ptr<Sandbox>> sandbox = context.OpenLocalSandbox();
  if (!sandbox.ok()) return context.Fail(sandbox.status());
  scheduler::BuildContext staging = (*session)->Context(context);
  staging.sandbox = *sandbox;

  Digest root;
  std::map<std::string, std::string> environment = element->environment;
  std::string working_directory = "/";
  if (build) {
    UniqueFd log = ScratchLog((*session)->cache_dir);
    StatusOr<scheduler::PreparedBuild> prepared =
        scheduler::PrepareBuild(staging, *element, log.get());
    if (!prepared.ok()) return context.Fail(prepared.status());
    root = prepared->input_root;
    working_directory = prepared->working_directory;
  } else {
    std::vector<const project::Element*> closure = (*session)->graph.RuntimeClosure(*element);
    StatusOr<Digest> staged = scheduler::StageArtifacts(staging, closure, false);
    if (!staged.ok()) return context.Fail(staged.status());
    UniqueFd log = ScratchLog((*session)->cache_dir);
    StatusOr<Digest> integrated =
        scheduler::IntegrateTree(staging, *staged, closure, environment, log.get());
    if (!integrated.ok()) return context.Fail(integrated.status());
    root = *integrated;
  }
  for (const auto& [name, value] : (*session)->project->shell_environment()) {
    StatusOr<std::string> expanded =
        element->variables->Substitute(value, SourceLocation{"project.conf: shell", 0, 0});
    if (!expanded.ok()) return context.Fail(expanded.status());
    environment[name] = *expanded;
  }
  if (command.empty()) command = (*session)->project->shell_command();
  if (command.empty()) command = {"sh", "-i"};
  // The shell starts in the working directory (passed as an argument, so
  // no name needs quoting); the root stays a copy.
  std::vector<std::string> arguments = {"sh", "-c", "cd \"$1\" && shift && exec \"$@\"", "sh",
                                        working_directory};
  arguments.insert(arguments.end(), command.begin(), command.end());
  ActionBuilder builder;
  Status set = builder.SetArguments(arguments);
  for (const auto& [name, value] : environment) {
    if (set.ok()) set = builder.SetEnvironmentVariable(name, value);
  }
  if (!set.ok()) return context.Fail(set);
  builder.AddRoot(root);
  StatusOr<BuiltAction> action = builder.Build(*(*session)->storage, true);
  if (!action.ok()) return context.Fail(action.status());
  InteractiveOptions terminal;
  StatusOr<int> code = (*sandbox)->RunInteractive(action->action, terminal);
  if (!code.ok()) return context.Fail(code.status());
  return *code;
}

int Checkout(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("artifact checkout");
  std::vector<std::string> positional;
  std::vector<std::string> option_pairs;
  std::string directory;
  std::string tar;
  std::string deps = "run";
  bool no_integrate = false;
  bool hardlinks = false;
  parser.AddString("directory", &directory, "where to write the files (new or empty)");
  parser.AddString("tar", &tar, "write a tar archive to FILE instead (- for stdout)");
  parser.AddString("deps", &deps,
                   "run (default): with runtime dependencies; none: the target only");
  parser.AddSwitch("no-integrate", &no_integrate, "do not run integration commands");
  parser.AddSwitch("hardlinks", &hardlinks, "hardlink files from the store (do not modify them)");
  std::vector<std::string> words = args;
  Status parsed = ExtractProjectOptions(words, &option_pairs);
  if (parsed.ok()) parsed = parser.Parse(words, &positional);
  if (parser.help_requested()) {
    context.out() << kArtifactHelp << "\nOptions:\n" << parser.OptionsHelp() << kOptionHelp;
    return kExitOk;
  }
  if (!parsed.ok()) return context.UsageError("artifact checkout", parsed.message());
  if (positional.size() != 1) return context.UsageError("artifact checkout", "give one target");
  if (directory.empty() == tar.empty()) {
    return context.UsageError("artifact checkout", "give either --directory DIR or --tar FILE");
  }
  if (deps != "run" && deps != "none") {
    return context.UsageError("artifact checkout", "--deps must be run or none, not " + deps);
  }
  if (!directory.empty()) {
    std::error_code error;
    if (std::filesystem::exists(directory, error) && !std::filesystem::is_empty(directory, error)) {
      return context.Fail(FailedPrecondition("checkout directory " + QuoteName(directory) +
                                             " is not empty (nothing was written)"));
    }
  }
  const project::Element* element = nullptr;
  StatusOr<std::unique_ptr<ProjectSession>> session =
      OpenOne(context, positional, option_pairs, &element);
  if (!session.ok()) return context.Fail(session.status());
  std::vector<const project::Element*> elements =
      deps == "run" ? (*session)->graph.RuntimeClosure(*element)
                    : std::vector<const project::Element*>{element};
  for (const project::Element* needed : elements) {
    StatusOr<scheduler::Artifact> artifact = CachedArtifact(**session, *needed, true);
    if (!artifact.ok()) return context.Fail(artifact.status());
  }
  scheduler::BuildContext staging = (*session)->Context(context);
  StatusOr<Digest> root = scheduler::StageArtifacts(staging, elements, false);
  if (!root.ok()) return context.Fail(root.status());
  if (!no_integrate) {
    bool any = false;
    for (const project::Element* staged : elements)
      any = any || !staged->IntegrationCommands().empty();
    if (any) {
      StatusOr<std::shared_ptr<Sandbox>> sandbox = context.OpenLocalSandbox();
      if (!sandbox.ok()) return context.Fail(sandbox.status());
      staging.sandbox = *sandbox;
      UniqueFd log = ScratchLog((*session)->cache_dir);
      StatusOr<Digest> integrated =
          scheduler::IntegrateTree(staging, *root, elements, element->environment, log.get());
      if (!integrated.ok()) return context.Fail(integrated.status());
      root = *integrated;
    }
  }
  Storage& storage = *(*session)->storage;
  if (!tar.empty()) {
    UniqueFd fd(tar == "-" ? dup(STDOUT_FILENO)
                           : open(tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return context.Fail(ErrnoStatus("cannot create", QuoteName(tar), errno));
    Status written = project::WriteTreeAsTar(storage, *root, fd.get());
    if (!written.ok()) return context.Fail(written);
    return kExitOk;
  }
  std::error_code made;
  std::filesystem::create_directories(directory, made);
  if (made) return context.Fail(ErrnoStatus("cannot create", QuoteName(directory), made.value()));
  StageOptions options;
  options.hardlinks = hardlinks;
  Status staged = storage.StageTree(*root, directory, options);
  if (!staged.ok()) return context.Fail(staged);
  return kExitOk;
}

std::string Mebibytes(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// `cairn artifact push|pull`.
int Transfer(CommandContext& context, const std::string& verb,
             const std::vector<std::string>& args) {
  ArgParser parser("artifact " + verb);
  std::vector<std::string> positional;
  std::vector<std::string> option_pairs;
  std::string deps = "none";
  parser.AddString("deps", &deps, "which elements: none (default), run, build, all", 'd');
  std::vector<std::string> words = args;
  RemoteChoice remote;
  Status parsed = ExtractProjectOptions(words, &option_pairs);
  if (parsed.ok()) parsed = ExtractRemoteChoice(words, &remote);
  if (parsed.ok()) parsed = parser.Parse(words, &positional);
  if (parser.help_requested()) {
    context.out() << kArtifactHelp << "\nOptions:\n"
                  << parser.OptionsHelp() << kOptionHelp << kRemoteHelp;
    return kExitOk;
  }
  if (!parsed.ok()) return context.UsageError("artifact " + verb, parsed.message());
  if (deps != "all" && deps != "none" && deps != "run" && deps != "build") {
    return context.UsageError("artifact " + verb,
                              "--deps must be none, run, build or all, not " + deps);
  }
  if (remote.none) {
    return context.UsageError("artifact " + verb, "--no-remote leaves nothing to " + verb);
  }
  StatusOr<std::unique_ptr<ProjectSession>> opened = OpenProject(context, positional, option_pairs);
  if (!opened.ok()) return context.Fail(opened.status());
  ProjectSession& session = **opened;
  Status connected = OpenRemoteArtifacts(context, &session, remote, [&](const std::string& line) {
    context.err() << "warning: " << line << "\n";
  });
  if (!connected.ok()) return context.Fail(connected);
  scheduler::RemoteArtifacts* caches = session.remote.get();
  bool push = verb == "push";
  if (caches == nullptr || (push ? !caches->can_push() : !caches->can_pull())) {
    return context.Fail(FailedPrecondition(
        std::string("no artifact cache to ") + verb +
        (push ? " to (artifact-caches entries with push: true" : " from (artifact-caches") +
        " in the user configuration, artifacts in project.conf, or --remote URL)"));
  }

  std::vector<const project::Element*> elements;
  std::vector<char> seen(session.graph.elements().size(), 0);
  auto add = [&](const std::vector<const project::Element*>& more) {
    for (const project::Element* element : more) {
      if (!seen[element->index]) elements.push_back(element);
      seen[element->index] = 1;
    }
  };
  if (deps == "all") add(session.graph.Plan());
  for (const project::Element* target : session.graph.targets()) {
    if (deps == "none") add({target});
    if (deps == "run") add(session.graph.RuntimeClosure(*target));
    if (deps == "build") add(session.graph.BuildClosure(*target));
    add({target});
  }

  auto started = std::chrono::steady_clock::now();
  size_t done = 0, failed = 0;
  for (const project::Element* element : elements) {
    if (context.IsCancelled()) return context.Fail(Cancelled("interrupted"));
    const std::string& key = session.KeyOf(*element);
    std::string name = element->name + " (" + key.substr(0, 8) + ")";
    StatusOr<std::optional<scheduler::Artifact>> local =
        session.artifacts->Find(session.project->name(), element->name, key);
    if (!local.ok()) return context.Fail(local.status());
    if (push) {
      if (!*local || !(*local)->success()) {
        context.err() << "not pushed: " << name
                      << (*local ? " failed to build" : " is not built here") << "\n";
        ++failed;
        continue;
      }
      Status pushed = caches->Push(**local, *session.storage);
      if (!pushed.ok()) {
        context.err() << "not pushed: " << name << ": " << pushed.message() << "\n";
        ++failed;
        continue;
      }
      context.err() << "pushed " << name << "\n";
    } else {
      if (*local && (*local)->success()) {
        context.err() << "cached " << name << "\n";
        continue;
      }
      StatusOr<std::optional<scheduler::Artifact>> pulled = caches->Pull(
          session.project->name(), element->name, key, *session.storage, *session.artifacts);
      if (!pulled.ok() || !*pulled) {
        context.err() << "not pulled: " << name << ": "
                      << (pulled.ok() ? "no artifact cache has it" : pulled.status().message())
                      << "\n";
        ++failed;
        continue;
      }
      context.err() << "pulled " << name << "\n";
    }
    ++done;
  }
  const scheduler::TransferTotals& totals = push ? caches->pushed() : caches->pulled();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char line[200];
  std::snprintf(line, sizeof line, "%s %zu of %zu elements: %lld blobs, %s in %.1f s\n",
                push ? "pushed" : "pulled", done, elements.size(),
                static_cast<long long>(totals.blobs.load()), Mebibytes(totals.bytes.load()).c_str(),
                seconds);
  context.err() << line;
  return failed == 0 ? kExitOk : kExitFailed;
}

int RunArtifact(CommandContext& context, const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    if (args.empty()) return context.UsageError("artifact", "give a subcommand");
    context.out() << kArtifactHelp;
    return kExitOk;
  }
  const std::string& verb = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (verb == "checkout") return Checkout(context, rest);
  if (verb == "push" || verb == "pull") return Transfer(context, verb, rest);
  if (verb != "log" && verb != "list-contents" && verb != "delete") {
    return context.UsageError("artifact",
                              "unknown subcommand " + QuoteName(verb) +
                                  " (checkout, log, list-contents, delete, push, pull)");
  }
  ArgParser parser("artifact " + verb);
  std::vector<std::string> positional;
  std::vector<std::string> option_pairs;
  std::vector<std::string> words = rest;
  Status parsed = ExtractProjectOptions(words, &option_pairs);
  if (parsed.ok()) parsed = parser.Parse(words, &positional);
  if (parser.help_requested()) {
    context.out() << kArtifactHelp;
    return kExitOk;
  }
  if (!parsed.ok()) return context.UsageError("artifact " + verb, parsed.message());
  if (positional.empty()) return context.UsageError("artifact " + verb, "give a target");
  StatusOr<std::unique_ptr<ProjectSession>> session =
      OpenProject(context, positional, option_pairs);
  if (!session.ok()) return context.Fail(session.status());
  for (const project::Element* element : (*session)->graph.targets()) {
    if (verb == "delete") {
      Status removed = (*session)->artifacts->Remove((*session)->project->name(), element->name,
                                                     (*session)->KeyOf(*element));
      if (!removed.ok()) return context.Fail(removed);
      context.err() << "cairn: deleted the artifact of " << element->name << "\n";
      continue;
    }
    StatusOr<scheduler::Artifact> artifact =
        CachedArtifact(**session, *element, verb == "list-contents");
    if (!artifact.ok()) return context.Fail(artifact.status());
    Storage& storage = *(*session)->storage;
    if (verb == "log") {
      if (!artifact->has_log()) continue;
      StatusOr<std::string> log = storage.ReadBlob(artifact->log());
      if (!log.ok()) return context.Fail(log.status());
      context.out() << *log;
      continue;
    }
    StatusOr<std::vector<TreeEntry>> entries = ListTree(storage, artifact->files());
    if (!entries.ok()) return context.Fail(entries.status());
    std::string text;
    for (const TreeEntry& entry : *entries) {
      text += entry.path;
      if (entry.kind == TreeEntry::Kind::kDirectory) text += "/";
      if (entry.kind == TreeEntry::Kind::kSymlink) text += " -> " + entry.target;
      text += "\n";
    }
    context.out() << text;
  }
  return kExitOk;
}

}  // namespace

extern const CommandSpec kShellCommand = {
    "shell", "run a shell or a command in an element's staged artifacts", kShellHelp, &RunShell};
extern const CommandSpec kArtifactCommand = {
    "artifact", "check out, inspect, delete, push and pull built artifacts", kArtifactHelp,
    &RunArtifact};

}  // namespace cairn
