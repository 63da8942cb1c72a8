#include "project_session.h"

#include <algorithm>
#include <thread>

#include "cairn/project/cache_key.h"
#include "cairn/runtime/endpoint.h"

namespace cairn {

scheduler::BuildContext ProjectSession::Context(CommandContext& context) const {
  scheduler::BuildContext built;
  built.project = project.get();
  built.graph = &graph;
  built.keys = &keys;
  built.storage = storage.get();
  built.artifacts = artifacts.get();
  built.sources = sources.get();
  built.is_cancelled = [&context] { return context.IsCancelled(); };
  built.remote = remote.get();
  return built;
}

Status ExtractRemoteChoice(std::vector<std::string>& args, RemoteChoice* choice) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    if (args[i] == "--no-remote") {
      choice->none = true;
    } else if (args[i] == "--remote" || args[i].rfind("--remote=", 0) == 0) {
      if (args[i] == "--remote") {
        if (i + 1 >= args.size()) return InvalidArgument("--remote takes a URL");
        choice->url = args[++i];
      } else {
        choice->url = args[i].substr(9);
      }
    } else {
      rest.push_back(args[i]);
    }
  }
  if (choice->none && !choice->url.empty()) {
    return InvalidArgument("--remote and --no-remote contradict each other");
  }
  args = std::move(rest);
  return Status::Ok();
}

Status OpenRemoteArtifacts(CommandContext& context, ProjectSession* session,
                           const RemoteChoice& choice,
                           const scheduler::RemoteArtifacts::Warn& warn) {
  if (choice.none) return Status::Ok();
  CAIRN_ASSIGN_OR_RETURN(const Config* config, context.GetConfig());
  std::vector<RemoteEndpoint> caches;
  if (!choice.url.empty()) {
    // Checked as a configured URL is, then used for everything.
    CAIRN_ASSIGN_OR_RETURN(ConfigNode node,
                           ConfigNode::Parse("url: " + QuoteYaml(choice.url) + "\n", "--remote"));
    CAIRN_ASSIGN_OR_RETURN(RemoteEndpoint endpoint, ReadEndpoint(node));
    endpoint.push = true;
    caches.push_back(std::move(endpoint));
  } else {
    CAIRN_ASSIGN_OR_RETURN(std::vector<RemoteEndpoint> suggested,
                           ReadArtifactCaches(session->project->artifacts()));
    caches = MergeArtifactCaches(config->artifact_caches, suggested);
  }
  if (caches.empty()) return Status::Ok();
  CAIRN_ASSIGN_OR_RETURN(session->remote,
                         scheduler::ConnectRemoteArtifacts(caches, CAIRN_VERSION, warn));
  return Status::Ok();
}

Status ExtractProjectOptions(std::vector<std::string>& args,
                             std::vector<std::string>* option_pairs) {
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      rest.insert(rest.end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    if (args[i] != "-o" && args[i] != "--option") {
      rest.push_back(args[i]);
      continue;
    }
    if (i + 2 >= args.size()) return InvalidArgument(args[i] + " takes two words: NAME VALUE");
    option_pairs->push_back(args[i + 1]);
    option_pairs->push_back(args[i + 2]);
    i += 2;
  }
  args = std::move(rest);
  return Status::Ok();
}

StatusOr<std::unique_ptr<ProjectSession>> OpenProject(
    CommandContext& context, std::vector<std::string> targets,
    const std::vector<std::string>& option_pairs) {
  CAIRN_ASSIGN_OR_RETURN(const Config* config, context.GetConfig());
  if (config->project_dir.empty()) {
    return NotFound(
        "no project here: no project.conf in this directory or above it "
        "(-C DIR names one)");
  }
  auto session = std::make_unique<ProjectSession>();
  project::LoadOptions load;
  load.directory = config->project_dir;
  load.configured_options = config->project_options;
  for (size_t i = 0; i + 1 < option_pairs.size(); i += 2) {
    load.option_values.push_back({option_pairs[i], option_pairs[i + 1], {"<command line>", 0, 0}});
  }
  CAIRN_ASSIGN_OR_RETURN(session->project, project::Project::Load(load));
  if (targets.empty()) targets = session->project->default_targets();
  if (targets.empty()) {
    return InvalidArgument(
        "no target given, and the project names no default targets "
        "(defaults: targets: in project.conf)");
  }
  CAIRN_ASSIGN_OR_RETURN(session->graph, session->project->LoadElements(targets));
  CAIRN_ASSIGN_OR_RETURN(session->storage, context.OpenStorage());
  session->artifacts = std::make_unique<scheduler::ArtifactStore>(session->storage);
  session->sources = std::make_unique<scheduler::SourceTrees>(*session->storage,
                                                              config->cache_dir + "/source-trees");
  scheduler::SourceTrees* sources = session->sources.get();
  CAIRN_ASSIGN_OR_RETURN(
      session->keys,
      project::ComputeCacheKeys(session->graph,
                                [sources](const project::Element&, const project::Source& source) {
                                  return sources->Key(source);
                                }));
  session->cache_dir = config->cache_dir;
  session->jobs = config->jobs > 0
                      ? config->jobs
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return session;
}

}  // namespace cairn
