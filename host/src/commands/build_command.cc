// `cairn build` and `cairn show`.
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cairn/host/arg_parser.h"
#include "cairn/host/command.h"
#include "cairn/host/command_context.h"
#include "cairn/runtime/config.h"
#include "cairn/scheduler/scheduler.h"
#include "project_session.h"

namespace cairn {
namespace {

constexpr char kBuildHelp[] =
    "Usage: cairn build [OPTIONS] [TARGET.bst...]\n"
    "\n"
    "Builds the targets and everything they depend on, in the configured sandbox,\n"
    "up to --jobs elements at once. Elements whose artifact is in the store are not\n"
    "built again. Targets default to the project's `defaults: targets`.\n"
    "With artifact caches configured (artifact-caches in the user configuration,\n"
    "artifacts in project.conf, or --remote URL), an element missing here is\n"
    "pulled when a cache has it, and each element built is pushed to the caches\n"
    "marked push: true by --pushers threads while the build goes on.\n"
    "Exit status: 0 built, 1 an element failed, 130 interrupted (Ctrl-C; the next\n"
    "build continues from there).\n";

constexpr char kShowHelp[] =
    "Usage: cairn show [OPTIONS] [TARGET.bst...]\n"
    "\n"
    "Prints the elements of the targets with their cache keys and states:\n"
    "cached, downloadable (a remote artifact cache has it), buildable (everything\n"
    "it needs is cached), waiting, failed.\n"
    "--format takes %{name}, %{key} (8 characters), %{full-key}, %{state}, %{kind}.\n";

// What `cairn build` and `cairn show` take besides their own options.
struct ProjectArguments {
  std::vector<std::string> targets;
  std::vector<std::string> option_pairs;  // name, value, name, value...
  RemoteChoice remote;
};

// Parses `args` into `parsed`: the project options and the remote choice,
// then the command's own options (`parser`) and targets. Returns the exit
// status when the command ends here: after --help (`help` then the
// options), or after a usage error.
std::optional<int> ParseProjectArguments(CommandContext& context, const std::string& command,
                                         const char* help, ArgParser& parser,
                                         const std::vector<std::string>& args,
                                         ProjectArguments* parsed) {
  std::vector<std::string> words = args;
  Status status = ExtractProjectOptions(words, &parsed->option_pairs);
  if (status.ok()) status = ExtractRemoteChoice(words, &parsed->remote);
  if (status.ok()) status = parser.Parse(words, &parsed->targets);
  if (parser.help_requested()) {
    context.out() << help << "\nOptions:\n" << parser.OptionsHelp() << kOptionHelp << kRemoteHelp;
    return kExitOk;
  }
  if (!status.ok()) return context.UsageError(command, status.message());
  return std::nullopt;
}

// `text`, the value of `option`, as a number from 1 to `most`.
Status ParseCount(const std::string& option, const std::string& text, long most, int* count) {
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (*end != '\0' || value < 1 || value > most) {
    return InvalidArgument(option + " must be a number from 1 to " + std::to_string(most));
  }
  *count = static_cast<int>(value);
  return Status::Ok();
}

int RunBuild(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("build");
  std::string jobs_text;
  std::string on_error = "continue";
  bool retry_failed = false;
  std::string pushers_text;
  parser.AddString("pushers", &pushers_text,
                   "artifacts pushed to remote caches at once (default 2)");
  parser.AddString("jobs", &jobs_text, "elements built at once (default: the configured jobs)",
                   'j');
  parser.AddSwitch("retry-failed", &retry_failed, "build elements whose failure is recorded again");
  parser.AddString("on-error", &on_error,
                   "after a failure: continue (default; independent work goes on) or quit");
  ProjectArguments arguments;
  if (std::optional<int> exit_status =
          ParseProjectArguments(context, "build", kBuildHelp, parser, args, &arguments)) {
    return *exit_status;
  }
  if (on_error != "continue" && on_error != "quit") {
    return context.UsageError("build", "--on-error must be continue or quit, not " + on_error);
  }
  int jobs = 0;  // the configured jobs
  int pushers = 2;
  Status counts = Status::Ok();
  if (!jobs_text.empty()) counts = ParseCount("--jobs", jobs_text, 4096, &jobs);
  if (counts.ok() && !pushers_text.empty()) {
    counts = ParseCount("--pushers", pushers_text, 64, &pushers);
  }
  if (!counts.ok()) return context.UsageError("build", counts.message());

  StatusOr<std::unique_ptr<ProjectSession>> session =
      OpenProject(context, arguments.targets, arguments.option_pairs);
  if (!session.ok()) return context.Fail(session.status());
  // Cache failures are lines among the progress, once it exists.
  std::function<void(const std::string&)> warn_sink;
  Status connected = OpenRemoteArtifacts(context, session->get(), arguments.remote,
                                         [&warn_sink](const std::string& line) {
                                           if (warn_sink) warn_sink(line);
                                         });
  if (!connected.ok()) return context.Fail(connected);
  StatusOr<const Config*> config = context.GetConfig();
  if (!config.ok()) return context.Fail(config.status());

  scheduler::BuildContext build = (*session)->Context(context);
  // Opened when the first Action runs: a cached build loads no sandbox.
  build.lazy_sandbox =
      std::make_shared<scheduler::LazySandbox>([&context] { return context.OpenSandbox(); });
  build.sandbox_name = (*config)->sandbox.plugin;
  scheduler::BuildOptions options;
  options.jobs = jobs > 0 ? jobs : (*session)->jobs;
  options.retry_failed = retry_failed;
  options.on_error = on_error == "quit" ? scheduler::OnError::kQuit : scheduler::OnError::kContinue;
  options.log_directory = (*session)->cache_dir + "/logs";
  options.lock_directory = (*session)->cache_dir + "/locks";
  options.pushers = pushers;

  bool terminal = isatty(STDERR_FILENO) != 0;
  scheduler::ProgressReporter progress(STDERR_FILENO, terminal,
                                       (*session)->graph.elements().size());
  build.warn = [&progress](const std::string& line) { progress.Log("warning: " + line); };
  warn_sink = build.warn;
  scheduler::BuildSummary summary;
  Status built = scheduler::BuildGraph(build, options, progress, &summary);
  progress.Finish();
  warn_sink = nullptr;
  if (built.code() == Code::kFailedPrecondition && summary.failed > 0) {
    context.err() << "cairn build: " << built.message() << "\n";
    return kExitFailed;
  }
  if (!built.ok()) return context.Fail(built);
  return kExitOk;
}

std::string Pad(const std::string& text, size_t width, bool right) {
  if (text.size() >= width) return text;
  std::string padding(width - text.size(), ' ');
  return right ? padding + text : text + padding;
}

// %{name}, %{key}, %{full-key}, %{state}, %{kind}, with an optional
// ": >N" / ": <N" alignment as bst's format strings have it.
StatusOr<std::string> FormatLine(const std::string& format, const project::Element& element,
                                 const std::string& key, const std::string& state) {
  std::string out;
  for (size_t i = 0; i < format.size();) {
    if (format.compare(i, 2, "%{") != 0) {
      out += format[i++];
      continue;
    }
    size_t end = format.find('}', i);
    if (end == std::string::npos) return InvalidArgument("--format: unclosed %{ in " + format);
    std::string field = format.substr(i + 2, end - i - 2);
    std::string align;
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      align = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    std::string value;
    if (field == "name") {
      value = element.name;
    } else if (field == "key") {
      value = key.substr(0, 8);
    } else if (field == "full-key") {
      value = key;
    } else if (field == "state") {
      value = state;
    } else if (field == "kind") {
      value = element.kind;
    } else {
      return InvalidArgument("--format: unknown field %{" + field +
                             "} (known: name, key, full-key, state, kind)");
    }
    size_t at = align.find_first_of("<>");
    if (at != std::string::npos) {
      value = Pad(value, static_cast<size_t>(std::atoi(align.c_str() + at + 1)), align[at] == '>');
    }
    out += value;
    i = end + 1;
  }
  return out;
}

int RunShow(CommandContext& context, const std::vector<std::string>& args) {
  ArgParser parser("show");
  std::string deps = "all";
  std::string format = "%{state: >9} %{key} %{name}";
  parser.AddString("deps", &deps, "which elements: all (default), none, run, build", 'd');
  parser.AddString("format", &format, "the line printed per element", 'f');
  ProjectArguments arguments;
  if (std::optional<int> exit_status =
          ParseProjectArguments(context, "show", kShowHelp, parser, args, &arguments)) {
    return *exit_status;
  }
  if (deps != "all" && deps != "none" && deps != "run" && deps != "build") {
    return context.UsageError("show", "--deps must be all, none, run or build, not " + deps);
  }
  StatusOr<std::unique_ptr<ProjectSession>> session =
      OpenProject(context, arguments.targets, arguments.option_pairs);
  if (!session.ok()) return context.Fail(session.status());
  Status connected = OpenRemoteArtifacts(
      context, session->get(), arguments.remote,
      [&context](const std::string& line) { context.err() << "warning: " << line << "\n"; });
  if (!connected.ok()) return context.Fail(connected);
  const project::ElementGraph& graph = (*session)->graph;
  scheduler::BuildContext build = (*session)->Context(context);
  StatusOr<std::vector<scheduler::ElementState>> states = scheduler::ElementStates(build);
  if (!states.ok()) return context.Fail(states.status());

  std::vector<const project::Element*> shown;
  std::vector<char> seen(graph.elements().size(), 0);
  auto add = [&](const std::vector<const project::Element*>& elements) {
    for (const project::Element* element : elements) {
      if (!seen[element->index]) shown.push_back(element);
      seen[element->index] = 1;
    }
  };
  if (deps == "all") {
    add(graph.Plan());
  } else {
    for (const project::Element* target : graph.targets()) {
      if (deps == "none") add({target});
      if (deps == "run") add(graph.RuntimeClosure(*target));
      if (deps == "build") add(graph.BuildClosure(*target));
    }
  }
  std::string text;
  for (const project::Element* element : shown) {
    StatusOr<std::string> line = FormatLine(format, *element, (*session)->KeyOf(*element),
                                            scheduler::ElementStateName((*states)[element->index]));
    if (!line.ok()) return context.UsageError("show", line.status().message());
    text += *line + "\n";
  }
  context.out() << text;
  return kExitOk;
}

}  // namespace

extern const CommandSpec kBuildCommand = {"build", "build elements of a BuildStream-format project",
                                          kBuildHelp, &RunBuild};
extern const CommandSpec kShowCommand = {"show", "list elements with their cache keys and states",
                                         kShowHelp, &RunShow};

}  // namespace cairn
