// The project commands' shared start (build, show, shell, artifact): the
// project loaded from the project directory, the targets' graph with every
// cache key, the store and its artifacts.
#ifndef CAIRN_HOST_COMMANDS_PROJECT_SESSION_H
#define CAIRN_HOST_COMMANDS_PROJECT_SESSION_H

#include <memory>
#include <string>
#include <vector>

#include "cairn/host/arg_parser.h"
#include "cairn/host/command_context.h"
#include "cairn/project/project.h"
#include "cairn/scheduler/artifact_store.h"
#include "cairn/scheduler/element_builder.h"

namespace cairn {

struct ProjectSession {
  std::shared_ptr<project::Project> project;
  project::ElementGraph graph;
  std::vector<std::string> keys;  // indexed like graph.elements()
  std::shared_ptr<Storage> storage;
  std::unique_ptr<scheduler::ArtifactStore> artifacts;
  std::unique_ptr<scheduler::SourceTrees> sources;
  // The remote artifact caches (OpenRemoteArtifacts); null = none.
  std::unique_ptr<scheduler::RemoteArtifacts> remote;
  std::string cache_dir;
  int jobs = 1;

  // A context for building and staging, without a sandbox yet.
  scheduler::BuildContext Context(CommandContext& context) const;
  const std::string& KeyOf(const project::Element& element) const { return keys[element.index]; }
};

// How a command picks its remote artifact caches.
struct RemoteChoice {
  bool none = false;  // --no-remote
  std::string url;    // --remote URL: only this cache (index and storage, pushed to)
};

// Connects `session->remote` to the caches a command uses: --remote URL
// alone, else the user's `artifact-caches` then the project's `artifacts`
// (BuildStream's order); none with --no-remote. Failures of a cache later
// go to `warn`.
Status OpenRemoteArtifacts(CommandContext& context, ProjectSession* session,
                           const RemoteChoice& choice,
                           const scheduler::RemoteArtifacts::Warn& warn);

// The --help lines of --remote / --no-remote.
inline constexpr char kRemoteHelp[] =
    "      --remote URL            use only this artifact cache (grpc://, grpcs://, unix:)\n"
    "      --no-remote             use no remote artifact cache\n";

// Takes --remote URL and --no-remote out of `args`.
Status ExtractRemoteChoice(std::vector<std::string>& args, RemoteChoice* choice);

// The --help line of -o.
inline constexpr char kOptionHelp[] =
    "  -o, --option NAME VALUE     set a project option (repeatable)\n";

// Takes every `-o NAME VALUE` / `--option NAME VALUE` (bst's form, two
// words) out of `args` into `option_pairs` (name, value, name, value...).
Status ExtractProjectOptions(std::vector<std::string>& args,
                             std::vector<std::string>* option_pairs);

// Loads the project and `targets` (the project's default targets when
// empty). `option_pairs` alternate name and value.
StatusOr<std::unique_ptr<ProjectSession>> OpenProject(CommandContext& context,
                                                      std::vector<std::string> targets,
                                                      const std::vector<std::string>& option_pairs);

}  // namespace cairn

#endif  // CAIRN_HOST_COMMANDS_PROJECT_SESSION_H
