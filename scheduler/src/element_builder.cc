// Building one element into an artifact (BuildElement): import elements
// from their sources, stack elements empty, compose elements from their
// dependencies' files filtered by split-rule domains, manual and script
// elements by running the Action build_action.cc prepares. Here too is the
// build log each build writes and the artifact's record of the build.
#include "cairn/scheduler/element_builder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>

#include "build_action.h"
#include "cairn/merkle.h"
#include "cairn/tree_edit.h"
#include "cairn/unique_fd.h"

namespace cairn::scheduler {
namespace {

using project::Element;
using project::Source;

google::protobuf::Timestamp Now() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  google::protobuf::Timestamp stamp;
  stamp.set_seconds(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  stamp.set_nanos(static_cast<int32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now).count() % 1000000000));
  return stamp;
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
