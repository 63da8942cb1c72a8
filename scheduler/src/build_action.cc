// Preparing and running an element's commands as a REAPI Action: the
// staged artifacts of its dependencies (StageArtifacts), their integration
// commands run as an Action of their own (IntegrateTree), the sources and
// the labelled build script (PrepareBuild, BuildScript), and the run in the
// context's sandbox with its outputs read back (RunAction). What each kind
// of element does with these is element_builder.cc's; build_action.h holds
// what the two files share.
#include "build_action.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "cairn/action_builder.h"
#include "cairn/merkle.h"
#include "cairn/tree_edit.h"

namespace cairn::scheduler {
namespace {

using project::Element;
using project::Source;

// The build stages of a manual element, in the order they run.
const char* const kManualStages[] = {"configure-commands", "build-commands", "install-commands",
                                     "strip-commands"};

constexpr char kFailurePrefix[] = "cairn: ";
constexpr char kRunningPrefix[] = "cairn: running ";
constexpr char kFailureMarker[] = " failed with exit code ";

std::string ShellQuote(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

std::string Variable(const Element& element, const std::string& name,
                     const std::string& fallback = "") {
  const std::string* value = element.variables->Find(name);
  return value != nullptr ? *value : fallback;
}

std::vector<std::pair<std::string, std::string>> Labelled(const Element& element,
                                                          const std::string& list) {
  std::vector<std::pair<std::string, std::string>> labelled;
  std::vector<std::string> commands = element.ConfigList(list);
  for (size_t i = 0; i < commands.size(); ++i) {
    labelled.emplace_back(list + "[" + std::to_string(i + 1) + "]", commands[i]);
  }
  return labelled;
}

}  // namespace

std::string RelativeToRoot(const std::string& path) {
  size_t start = path.find_first_not_of('/');
  if (start == std::string::npos) return "";
  std::string relative = path.substr(start);
  while (!relative.empty() && relative.back() == '/') relative.pop_back();
  return relative;
}

StatusOr<Digest> EmptyTree(Storage& storage) {
  return storage.WriteBlob(Directory().SerializeAsString());
}

std::string ReadTail(int fd, size_t bytes) {
  struct stat info {};
  if (fstat(fd, &info) != 0) return "";
  off_t start =
      info.st_size > static_cast<off_t>(bytes) ? info.st_size - static_cast<off_t>(bytes) : 0;
  std::string text(static_cast<size_t>(info.st_size - start), '\0');
  ssize_t got = pread(fd, text.data(), text.size(), start);
  text.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return text;
}

std::vector<std::pair<std::string, std::string>> IntegrationOf(
    const std::vector<const Element*>& elements) {
  std::vector<std::pair<std::string, std::string>> integration;
  for (const Element* element : elements) {
    std::vector<std::string> commands = element->IntegrationCommands();
    for (size_t i = 0; i < commands.size(); ++i) {
      integration.emplace_back(
          "integration-commands[" + std::to_string(i + 1) + "] of " + element->name, commands[i]);
    }
  }
  return integration;
}

// --- Staging -----------------------------------------------------------

StatusOr<Digest> StageArtifacts(const BuildContext& context,
                                const std::vector<const Element*>& elements, bool warn_overlaps) {
  std::vector<Digest> roots;
  std::vector<std::string> owners;
  for (const Element* element : elements) {
    const std::string& key = (*context.keys)[element->index];
    CAIRN_ASSIGN_OR_RETURN(std::optional<Artifact> artifact,
                           context.artifacts->Find(context.project->name(), element->name, key));
    if (!artifact || !artifact->success()) {
      return FailedPrecondition("the artifact of " + element->name + " (" + key.substr(0, 8) +
                                ") is not in the store");
    }
    if (!artifact->has_files()) continue;
    roots.push_back(artifact->files());
    owners.push_back(element->name);
  }
  // Layer by layer, as bst stages them: a layer's directory staged where
  // an earlier layer has a symlink goes where the symlink leads, and may
  // not leave the root.
  MergeResult merged;
  CAIRN_ASSIGN_OR_RETURN(merged.root, EmptyTree(*context.storage));
  for (size_t i = 0; i < roots.size(); ++i) {
    StatusOr<MergeResult> step = StageLayer(*context.storage, merged.root, roots[i]);
    if (!step.ok()) {
      if (step.status().code() != Code::kFailedPrecondition) return step.status();
      return FailedPrecondition("staging " + owners[i] + ": " + step.status().message());
    }
    merged.root = step->root;
    for (std::string& path : step->overlaps) merged.overlaps.push_back(owners[i] + ": /" + path);
  }
  if (warn_overlaps && context.warn && !merged.overlaps.empty()) {
    std::string list;
    for (size_t i = 0; i < merged.overlaps.size() && i < 20; ++i) {
      list += "\n  " + merged.overlaps[i];
    }
    if (merged.overlaps.size() > 20) {
      list += "\n  ... and " + std::to_string(merged.overlaps.size() - 20) + " more";
    }
    context.warn("staged files overlap (the later element's win):" + list);
  }
  return merged.root;
}

std::string BuildScript(const std::vector<std::pair<std::string, std::string>>& commands,
                        const std::string& working_directory,
                        const std::vector<std::string>& make_directories) {
  // Each command runs as BuildStream runs it (`sh -c -e CMD\n`; IntegrateTree
  // adds integration commands as `sh -e -c CMD`), and the first failure
  // ends the build with a line naming it.
  std::string script =
      "cairn_run() {\n"
      "  label=$1; shift\n"
      "  command=$4\n"
      "  case \"$command\" in *'\n') command=${command%?} ;; esac\n"
      "  printf '%s%s: %s\\n' '" +
      std::string(kRunningPrefix) +
      "' \"$label\" \"$command\" >&2\n"
      "  \"$@\"\n"
      "  code=$?\n"
      "  if [ $code -ne 0 ]; then\n"
      "    printf '%s%s%s%s\\n' '" +
      std::string(kFailurePrefix) + "' \"$label\" '" + kFailureMarker +
      "' \"$code\" >&2\n"
      "    exit $code\n"
      "  fi\n"
      "}\n";
  if (!make_directories.empty()) {
    script += "mkdir -p";
    for (const std::string& directory : make_directories) script += " " + ShellQuote(directory);
    script += " || exit 1\n";
  }
  script +=
      "cd " + ShellQuote(working_directory.empty() ? "/" : working_directory) + " || exit 1\n";
  for (const auto& [label, command] : commands) {
    script += "cairn_run " + ShellQuote(label) + " sh -c -e " + ShellQuote(command + "\n") + "\n";
  }
  return script;
}

std::string FailedCommandLine(const std::string& log_tail) {
  size_t at = log_tail.rfind(kFailureMarker);
  if (at == std::string::npos) return "";
  size_t start = log_tail.rfind(kFailurePrefix, at);
  size_t end = log_tail.find('\n', at);
  if (start == std::string::npos) return "";
  start += sizeof(kFailurePrefix) - 1;
  return log_tail.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

StatusOr<PreparedBuild> PrepareBuild(const BuildContext& context, const Element& element,
                                     int log_fd, bool with_sources) {
  Storage& storage = *context.storage;
  PreparedBuild prepared;
  std::string build_root = Variable(element, "build-root", "/buildstream-build");
  std::string install_root = Variable(element, "install-root", "/buildstream-install");
  std::vector<std::pair<std::string, std::string>> integration;
  std::vector<std::pair<std::string, std::string>> commands;

  if (element.kind == "script") {
    const ConfigNode* layout = element.config.Get("layout");
    std::vector<const Element*> staged_at_root;
    Digest root;
    if (layout == nullptr || !layout->is_sequence() || layout->items().empty()) {
      staged_at_root = context.graph->BuildClosure(element);
      CAIRN_ASSIGN_OR_RETURN(root, StageArtifacts(context, staged_at_root, true));
    } else {
      CAIRN_ASSIGN_OR_RETURN(root, EmptyTree(storage));
      for (const ConfigNode& item : layout->items()) {
        const ConfigNode* name = item.Get("element");
        const ConfigNode* destination = item.Get("destination");
        std::string where =
            destination != nullptr && destination->is_scalar() ? destination->scalar() : "/";
        if (name == nullptr || !name->is_scalar() || name->scalar().empty()) {
          // A destination alone is a directory to create.
          CAIRN_ASSIGN_OR_RETURN(Digest empty, EmptyTree(storage));
          CAIRN_ASSIGN_OR_RETURN(MergeResult grafted,
                                 GraftTree(storage, root, RelativeToRoot(where), empty));
          root = grafted.root;
          continue;
        }
        const Element* staged = context.graph->Find(name->scalar());
        bool is_build_dependency =
            staged != nullptr &&
            std::find(element.build_dependencies.begin(), element.build_dependencies.end(),
                      staged) != element.build_dependencies.end();
        if (!is_build_dependency) {
          return ConfigError(name->location(), "layout names " + name->scalar() +
                                                   ", which is not a build dependency");
        }
        std::vector<const Element*> closure = context.graph->RuntimeClosure(*staged);
        CAIRN_ASSIGN_OR_RETURN(Digest tree, StageArtifacts(context, closure, true));
        CAIRN_ASSIGN_OR_RETURN(MergeResult grafted,
                               GraftTree(storage, root, RelativeToRoot(where), tree));
        root = grafted.root;
        if (RelativeToRoot(where).empty()) {
          staged_at_root.insert(staged_at_root.end(), closure.begin(), closure.end());
        }
      }
    }
    CAIRN_ASSIGN_OR_RETURN(prepared.input_root,
                           IntegrateTree(context, root, staged_at_root, element.environment, log_fd,
                                         &prepared.integration_action));
    integration = IntegrationOf(staged_at_root);
    commands = Labelled(element, "commands");
    prepared.working_directory = Variable(element, "cwd", "/");
  } else {
    std::vector<const Element*> closure = context.graph->BuildClosure(element);
    CAIRN_ASSIGN_OR_RETURN(Digest staged, StageArtifacts(context, closure, true));
    CAIRN_ASSIGN_OR_RETURN(prepared.input_root,
                           IntegrateTree(context, staged, closure, element.environment, log_fd,
                                         &prepared.integration_action));
    integration = IntegrationOf(closure);
    if (with_sources) {
      for (const Source& source : element.sources) {
        CAIRN_ASSIGN_OR_RETURN(Digest tree, context.sources->Tree(source));
        std::string at = RelativeToRoot(build_root);
        if (!source.directory.empty()) at += (at.empty() ? "" : "/") + source.directory;
        CAIRN_ASSIGN_OR_RETURN(MergeResult grafted,
                               GraftTree(storage, prepared.input_root, at, tree));
        prepared.input_root = grafted.root;
      }
    }
    for (const char* stage : kManualStages) {
      std::vector<std::pair<std::string, std::string>> labelled = Labelled(element, stage);
      commands.insert(commands.end(), labelled.begin(), labelled.end());
    }
    prepared.working_directory = build_root;
    std::string subdir = Variable(element, "command-subdir");
    if (!subdir.empty()) prepared.working_directory += "/" + subdir;
  }

  // The root is read-only but for the outputs: %{install-root} and, for
  // a manual element, %{build-root}, both made to exist in the input root
  // (a script element with root-read-only false writes anywhere: its
  // install-root is left for the sandbox to create, which gives it a
  // writable root).
  std::vector<std::string> outputs = {RelativeToRoot(install_root)};
  if (element.kind == "manual") outputs.push_back(RelativeToRoot(build_root));
  bool read_only_root = element.kind == "manual" || element.ConfigBool("root-read-only", false);
  if (read_only_root) {
    CAIRN_ASSIGN_OR_RETURN(Digest empty, EmptyTree(storage));
    for (const std::string& output : outputs) {
      if (output.empty()) continue;
      CAIRN_ASSIGN_OR_RETURN(MergeResult grafted,
                             GraftTree(storage, prepared.input_root, output, empty));
      prepared.input_root = grafted.root;
    }
  }
  std::vector<std::string> directories = {build_root, install_root};
  if (prepared.working_directory != "/") directories.push_back(prepared.working_directory);
  prepared.arguments = {"sh", "-c", BuildScript(commands, prepared.working_directory, directories)};
  prepared.environment = element.environment;
  prepared.uid = element.build_uid;
  prepared.gid = element.build_gid;
  for (const std::string& output : outputs) {
    if (!output.empty()) prepared.output_paths.push_back(output);
  }
  for (const auto& [label, command] : integration)
    prepared.commands.push_back(label + ": " + command);
  for (const auto& [label, command] : commands) prepared.commands.push_back(label + ": " + command);
  return prepared;
}

StatusOr<ActionRun> RunAction(const BuildContext& context, const PreparedBuild& prepared,
                              const std::vector<std::string>& output_paths, int log_fd,
                              std::vector<Digest>* outputs) {
  ActionBuilder builder;
  CAIRN_RETURN_IF_ERROR(builder.SetArguments(prepared.arguments));
  for (const auto& [name, value] : prepared.environment) {
    CAIRN_RETURN_IF_ERROR(builder.SetEnvironmentVariable(name, value));
  }
  for (const std::string& path : output_paths) CAIRN_RETURN_IF_ERROR(builder.AddOutputPath(path));
  // bst's sandbox: build-uid and build-gid, 0 by default (left unset then,
  // so a sandbox without user switching still runs the default).
  if (prepared.uid != 0) {
    CAIRN_RETURN_IF_ERROR(builder.AddPlatformProperty("unixUID", std::to_string(prepared.uid)));
  }
  if (prepared.gid != 0) {
    CAIRN_RETURN_IF_ERROR(builder.AddPlatformProperty("unixGID", std::to_string(prepared.gid)));
  }
  builder.AddRoot(prepared.input_root);
  CAIRN_ASSIGN_OR_RETURN(BuiltAction built, builder.Build(*context.storage, true));

  std::shared_ptr<Sandbox> sandbox = context.sandbox;
  if (sandbox == nullptr) {
    if (context.lazy_sandbox == nullptr) return Internal("no sandbox to run an Action in");
    CAIRN_ASSIGN_OR_RETURN(sandbox, context.lazy_sandbox->Get());
  }
  ExecuteOptions options;
  options.live_output_fd = log_fd;
  options.is_cancelled = context.is_cancelled;
  ExecuteOutcome outcome = sandbox->Execute(built.action, options);
  CAIRN_RETURN_IF_ERROR(outcome.status);
  if (!outcome.result) return Internal("the sandbox returned no ActionResult");
  ActionRun run;
  run.completed = true;
  run.exit_code = outcome.result->exit_code();
  run.action = built.action_digest;
  for (const std::string& path : output_paths) {
    Digest found;
    for (const auto& directory : outcome.result->output_directories()) {
      if (directory.path() != path) continue;
      if (directory.has_root_directory_digest()) {
        found = directory.root_directory_digest();
      } else if (directory.has_tree_digest()) {
        // An executor of REAPI before 2.3 sends only the Tree.
        CAIRN_ASSIGN_OR_RETURN(std::string bytes,
                               context.storage->ReadBlob(directory.tree_digest()));
        Tree tree;
        if (!tree.ParseFromString(bytes)) return DataLoss("an output Tree does not parse");
        for (const Directory& child : tree.children()) {
          CAIRN_RETURN_IF_ERROR(context.storage->WriteBlob(child.SerializeAsString()).status());
        }
        CAIRN_ASSIGN_OR_RETURN(found, context.storage->WriteBlob(tree.root().SerializeAsString()));
      }
    }
    if (found.hash().empty()) {
      CAIRN_ASSIGN_OR_RETURN(found, EmptyTree(*context.storage));
    }
    outputs->push_back(found);
  }
  if (!outputs->empty()) run.output = outputs->front();
  return run;
}

StatusOr<Digest> IntegrateTree(const BuildContext& context, const Digest& root,
                               const std::vector<const Element*>& elements,
                               const std::map<std::string, std::string>& environment, int log_fd,
                               Digest* action) {
  std::vector<std::pair<std::string, std::string>> integration = IntegrationOf(elements);
  if (integration.empty()) return root;
  CAIRN_ASSIGN_OR_RETURN(Directory top, ReadDirectory(*context.storage, root));
  std::vector<std::string> outputs;
  for (const auto& directory : top.directories()) outputs.push_back(directory.name());
  PreparedBuild prepared;
  prepared.input_root = root;
  // Each element's commands run with that element's environment, as bst
  // runs them: in a subshell that unsets what the Action's environment
  // has beyond it and exports its own values.
  std::string script = BuildScript({}, "/", {});
  for (const Element* element : elements) {
    std::vector<std::string> commands = element->IntegrationCommands();
    if (commands.empty()) continue;
    std::string enter = "(";
    std::string unset;
    for (const auto& [name, value] : environment) {
      if (element->environment.count(name) == 0) unset += " " + name;
    }
    if (!unset.empty()) enter += " unset" + unset + ";";
    for (const auto& [name, value] : element->environment) {
      auto same = environment.find(name);
      if (same == environment.end() || same->second != value) {
        enter += " export " + name + "=" + ShellQuote(value) + ";";
      }
    }
    for (size_t i = 0; i < commands.size(); ++i) {
      script +=
          enter + " cairn_run " +
          ShellQuote("integration-commands[" + std::to_string(i + 1) + "] of " + element->name) +
          " sh -e -c " + ShellQuote(commands[i]) + " ) || exit $?\n";
    }
  }
  prepared.arguments = {"sh", "-c", script};
  prepared.environment = environment;
  std::vector<Digest> results;
  CAIRN_ASSIGN_OR_RETURN(ActionRun run, RunAction(context, prepared, outputs, log_fd, &results));
  if (action != nullptr) *action = run.action;
  if (run.exit_code != 0) {
    std::string failed = FailedCommandLine(ReadTail(log_fd, 4096));
    return FailedPrecondition(
        !failed.empty() ? failed : "integration exited with code " + std::to_string(run.exit_code));
  }
  Digest integrated = root;
  for (size_t i = 0; i < outputs.size(); ++i) {
    CAIRN_ASSIGN_OR_RETURN(MergeResult replaced,
                           GraftTree(*context.storage, integrated, outputs[i], results[i]));
    integrated = replaced.root;
  }
  return integrated;
}

}  // namespace cairn::scheduler
