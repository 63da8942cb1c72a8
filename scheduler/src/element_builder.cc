#include "cairn/scheduler/element_builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <set>

#include "cairn/action_builder.h"
#include "cairn/digest.h"
#include "cairn/merkle.h"
#include "cairn/tree_edit.h"
#include "cairn/unique_fd.h"

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

// "/buildstream/p/e.bst" -> "buildstream/p/e.bst"; "/" -> "".
std::string RelativeToRoot(const std::string& path) {
  size_t start = path.find_first_not_of('/');
  if (start == std::string::npos) return "";
  std::string relative = path.substr(start);
  while (!relative.empty() && relative.back() == '/') relative.pop_back();
  return relative;
}

std::string Variable(const Element& element, const std::string& name,
                     const std::string& fallback = "") {
  const std::string* value = element.variables->Find(name);
  return value != nullptr ? *value : fallback;
}

google::protobuf::Timestamp Now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  google::protobuf::Timestamp stamp;
  stamp.set_seconds(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  stamp.set_nanos(static_cast<int32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() % 1000000000));
  return stamp;
}

StatusOr<Digest> EmptyTree(Storage& storage) {
  return storage.WriteBlob(Directory().SerializeAsString());
}

// Appends to the build log.
void LogLine(int fd, const std::string& line) {
  std::string text = line + "\n";
  const char* data = text.data();
  size_t left = text.size();
  while (left > 0) {
    ssize_t wrote = write(fd, data, left);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return;
    data += wrote;
    left -= static_cast<size_t>(wrote);
  }
}

// The last `bytes` of what the log file open at `fd` holds.
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

// Glob of split rules: '**' any path, '*' and '?' within one component.
bool GlobMatch(const char* pattern, const char* text) {
  while (*pattern != '\0') {
    if (pattern[0] == '*' && pattern[1] == '*') {
      pattern += 2;
      for (const char* at = text;; ++at) {
        if (GlobMatch(pattern, at)) return true;
        if (*at == '\0') return false;
      }
    }
    if (*pattern == '*') {
      ++pattern;
      for (const char* at = text;; ++at) {
        if (GlobMatch(pattern, at)) return true;
        if (*at == '\0' || *at == '/') return false;
      }
    }
    if (*text == '\0') return false;
    if (*pattern == '?') {
      if (*text == '/') return false;
    } else if (*pattern != *text) {
      return false;
    }
    ++pattern;
    ++text;
  }
  return *text == '\0';
}

}  // namespace

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

namespace {

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

namespace {

struct ActionRun {
  bool completed = false;  // the commands ran to the end (any exit code)
  int exit_code = 0;
  Digest output;  // the output directory (empty when it was not produced)
  Digest action;
};

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

}  // namespace

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

namespace {

// The files of an import element.
StatusOr<Digest> ImportFiles(const BuildContext& context, const Element& element) {
  Storage& storage = *context.storage;
  CAIRN_ASSIGN_OR_RETURN(Digest staged, EmptyTree(storage));
  for (const Source& source : element.sources) {
    CAIRN_ASSIGN_OR_RETURN(Digest tree, context.sources->Tree(source));
    CAIRN_ASSIGN_OR_RETURN(MergeResult grafted, GraftTree(storage, staged, source.directory, tree));
    staged = grafted.root;
  }
  std::string from = RelativeToRoot(element.ConfigString("source", "/"));
  std::string to = RelativeToRoot(element.ConfigString("target", "/"));
  StatusOr<Digest> picked =
      from.empty() ? StatusOr<Digest>(staged) : SubtreeAt(storage, staged, from);
  if (!picked.ok()) {
    return ConfigError(element.config.Get("source") != nullptr
                           ? element.config.Get("source")->location()
                           : element.where,
                       "the sources of " + element.name + " have no directory /" + from);
  }
  if (to.empty()) return *picked;
  CAIRN_ASSIGN_OR_RETURN(Digest empty, EmptyTree(storage));
  CAIRN_ASSIGN_OR_RETURN(MergeResult placed, GraftTree(storage, empty, to, *picked));
  return placed.root;
}

// Which split domains a path ("/usr/bin/x") falls in, by an element's rules.
std::set<std::string> DomainsOf(const std::map<std::string, std::vector<std::string>>& rules,
                                const std::string& path) {
  std::set<std::string> domains;
  for (const auto& [domain, patterns] : rules) {
    for (const std::string& pattern : patterns) {
      if (GlobMatch(pattern.c_str(), path.c_str())) {
        domains.insert(domain);
        break;
      }
    }
  }
  return domains;
}

}  // namespace

StatusOr<Artifact> BuildElement(const BuildContext& context, const Element& element,
                                const std::string& log_path) {
  Storage& storage = *context.storage;
  Artifact artifact;
  artifact.set_project(context.project->name());
  artifact.set_element(element.name);
  artifact.set_kind(element.kind);
  artifact.set_cache_key((*context.keys)[element.index]);
  *artifact.mutable_build_started() = Now();
  artifact.set_sandbox(context.sandbox_name);
  for (const auto& [name, value] : element.environment)
    (*artifact.mutable_environment())[name] = value;
  for (const Element* dependency : context.graph->BuildClosure(element)) {
    artifact.add_dependency_keys((*context.keys)[dependency->index]);
  }
  artifact.set_public_data(element.public_data.ToYaml());

  UniqueFd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!log.valid()) return ErrnoStatus("cannot create the build log", log_path, errno);
  LogLine(log.get(), "cairn: building " + element.name + " (" + element.kind + ", key " +
                         artifact.cache_key() + ")");

  Digest files;
  bool success = true;
  if (element.kind == "import") {
    CAIRN_ASSIGN_OR_RETURN(files, ImportFiles(context, element));
  } else if (element.kind == "stack") {
    CAIRN_ASSIGN_OR_RETURN(files, EmptyTree(storage));
  } else if (element.kind == "compose") {
    std::vector<const Element*> closure = context.graph->BuildClosure(element);
    CAIRN_ASSIGN_OR_RETURN(Digest merged, StageArtifacts(context, closure, true));
    // Who owns each path, for the split rules of its element.
    std::map<std::string, const Element*> owner;
    for (const Element* dependency : closure) {
      CAIRN_ASSIGN_OR_RETURN(std::optional<Artifact> staged,
                             context.artifacts->Find(context.project->name(), dependency->name,
                                                     (*context.keys)[dependency->index]));
      if (!staged || !staged->has_files()) continue;
      CAIRN_ASSIGN_OR_RETURN(std::vector<TreeEntry> entries, ListTree(storage, staged->files()));
      for (const TreeEntry& entry : entries) owner[entry.path] = dependency;
    }
    std::vector<std::pair<std::string, std::string>> integration = IntegrationOf(closure);
    if (element.ConfigBool("integrate", true) && !integration.empty()) {
      for (const auto& [label, command] : integration)
        artifact.add_commands(label + ": " + command);
      StatusOr<Digest> integrated = IntegrateTree(context, merged, closure, element.environment,
                                                  log.get(), artifact.mutable_action());
      if (integrated.ok()) {
        merged = *integrated;
      } else if (integrated.status().code() == Code::kFailedPrecondition) {
        success = false;
        artifact.set_failure(integrated.status().message());
      } else {
        return integrated.status();
      }
    }
    if (success) {
      std::vector<std::string> include = element.ConfigList("include");
      std::vector<std::string> exclude = element.ConfigList("exclude");
      bool orphans = element.ConfigBool("include-orphans", true);
      std::map<const Element*, std::map<std::string, std::vector<std::string>>> rules;
      for (const Element* dependency : closure) rules[dependency] = dependency->SplitRules();
      CAIRN_ASSIGN_OR_RETURN(Digest empty, EmptyTree(storage));
      const std::string& empty_hash = empty.hash();
      auto keep = [&](const TreeEntry& entry) {
        // A directory is kept for what it holds; an empty one counts as
        // an entry of its own, as in bst's manifests.
        if (entry.kind == TreeEntry::Kind::kDirectory && entry.digest.hash() != empty_hash) {
          return false;
        }
        auto found = owner.find(entry.path);
        // What integration added belongs to no element: bst keeps it whatever
        // the domains and include-orphans say (compose.py, added_files).
        if (found == owner.end()) return true;
        std::set<std::string> domains = DomainsOf(rules[found->second], "/" + entry.path);
        for (const std::string& domain : exclude) {
          if (domains.count(domain) != 0) return false;
        }
        if (domains.empty()) return orphans;
        if (include.empty()) return true;
        for (const std::string& domain : include) {
          if (domains.count(domain) != 0) return true;
        }
        return false;
      };
      CAIRN_ASSIGN_OR_RETURN(files, FilterTree(storage, merged, keep));
    }
  } else if (element.kind == "manual" || element.kind == "script") {
    StatusOr<PreparedBuild> prepared_or = PrepareBuild(context, element, log.get());
    if (prepared_or.status().code() == Code::kFailedPrecondition) {
      // Staging or integration failed: the element's failure, not Cairn's.
      artifact.set_failure(prepared_or.status().message());
      LogLine(log.get(), "cairn: " + element.name + " failed: " + artifact.failure());
      log.Reset();
      CAIRN_ASSIGN_OR_RETURN(Digest log_digest, storage.WriteBlobFromPath(log_path, false));
      *artifact.mutable_log() = log_digest;
      artifact.set_success(false);
      *artifact.mutable_build_finished() = Now();
      return artifact;
    }
    CAIRN_RETURN_IF_ERROR(prepared_or.status());
    PreparedBuild& prepared = *prepared_or;
    for (const std::string& command : prepared.commands) artifact.add_commands(command);
    std::vector<Digest> results;
    CAIRN_ASSIGN_OR_RETURN(
        ActionRun run, RunAction(context, prepared, prepared.output_paths, log.get(), &results));
    *artifact.mutable_action() = run.action;
    if (run.exit_code != 0) {
      success = false;
      std::string failed = FailedCommandLine(ReadTail(log.get(), 4096));
      artifact.set_failure(
          !failed.empty() ? failed : "the build exited with code " + std::to_string(run.exit_code));
    } else {
      files = run.output;
    }
  } else {
    return InvalidArgument("cannot build elements of kind " + element.kind);
  }

  if (success) {
    CAIRN_ASSIGN_OR_RETURN(files, RelativizeSymlinks(storage, files));
    *artifact.mutable_files() = files;
    LogLine(log.get(), "cairn: built " + element.name);
  } else {
    LogLine(log.get(), "cairn: " + element.name + " failed: " + artifact.failure());
  }
  log.Reset();
  CAIRN_ASSIGN_OR_RETURN(Digest log_digest, storage.WriteBlobFromPath(log_path, false));
  *artifact.mutable_log() = log_digest;
  artifact.set_success(success);
  *artifact.mutable_build_finished() = Now();
  return artifact;
}

}  // namespace cairn::scheduler
