#include "cairn/scheduler/remote_artifacts.h"

#include <dlfcn.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <filesystem>
#include <mutex>

namespace cairn::scheduler {
namespace {

std::string ModulePath() {
  boost::system::error_code error;
  boost::dll::fs::path exe = boost::dll::program_location(error);
  if (error) return kRemoteArtifactsModule;
  return (std::filesystem::path(exe.parent_path().string()) / ".." / CAIRN_MODULE_SUBDIR /
          kRemoteArtifactsModule)
      .lexically_normal()
      .string();
}

// Loaded once and never unloaded: gRPC's threads run its code until the
// process ends.
StatusOr<ConnectRemoteArtifactsFn> LoadEntry() {
  static std::mutex mutex;
  static ConnectRemoteArtifactsFn entry = nullptr;
  std::lock_guard<std::mutex> lock(mutex);
  if (entry != nullptr) return entry;
  const std::string path = ModulePath();
  void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
  if (module == nullptr) {
    const char* why = dlerror();
    return FailedPrecondition("remote artifact caches need " + path + ", which cannot be loaded: " +
                              (why != nullptr ? why : "unknown error"));
  }
  entry = reinterpret_cast<ConnectRemoteArtifactsFn>(dlsym(module, kRemoteArtifactsEntry));
  if (entry == nullptr) {
    return FailedPrecondition(path + " has no " + kRemoteArtifactsEntry +
                              " (a module of another Cairn build?)");
  }
  return entry;
}

}  // namespace

StatusOr<std::unique_ptr<RemoteArtifacts>> ConnectRemoteArtifacts(
    const std::vector<RemoteEndpoint>& caches, const std::string& tool_version,
    const RemoteArtifacts::Warn& warn) {
  CAIRN_ASSIGN_OR_RETURN(ConnectRemoteArtifactsFn entry, LoadEntry());
  std::unique_ptr<RemoteArtifacts> connected;
  Status error;
  entry(&caches, &tool_version, &warn, &connected, &error);
  if (!error.ok()) return error;
  if (connected == nullptr) return Internal(std::string(kRemoteArtifactsEntry) + " gave nothing");
  return connected;
}

}  // namespace cairn::scheduler
