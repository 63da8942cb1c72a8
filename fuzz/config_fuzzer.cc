// The YAML configuration loader from arbitrary text: ConfigNode::Parse,
// ValidateConfig against each file kind's schema, the ToYaml round trip
// plugin options take across the ABI, and LoadConfig reading the text as a
// project's cairn.yaml and as the user's configuration. Every failure must
// be a clean INVALID_ARGUMENT; nothing may crash, hang or exhaust memory.
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cairn/runtime/config.h"
#include "cairn/runtime/config_node.h"
#include "cairn/runtime/config_schema.h"

namespace {

void Require(bool condition) {
  if (!condition) std::abort();
}

void RequireCleanError(const cairn::Status& status) {
  Require(status.ok() || status.code() == cairn::Code::kInvalidArgument);
}

// One project directory for the whole run, removed at exit (never
// destroyed itself, so the exit handler can still read it).
const std::string& ProjectDir() {
  static const std::string* dir = [] {
    char pattern[] = "/tmp/cairn-config-fuzz-XXXXXX";
    auto* made = new std::string(mkdtemp(pattern));
    std::atexit([] {
      std::error_code error;
      std::filesystem::remove_all(ProjectDir(), error);
    });
    return made;
  }();
  return *dir;
}

// True when the document is a valid file of some kind.
bool CheckParsed(const cairn::ConfigNode& node) {
  bool valid = false;
  for (cairn::ConfigFileKind kind :
       {cairn::ConfigFileKind::kProject, cairn::ConfigFileKind::kUser}) {
    cairn::Status status = cairn::ValidateConfig(node, cairn::SchemaFor(kind));
    RequireCleanError(status);
    valid = valid || status.ok();
  }
  // Plugin options cross the ABI as ToYaml() text, which the plugin parses
  // again: whatever was parsed must print as YAML that parses to the same tree.
  std::string yaml = node.ToYaml();
  cairn::StatusOr<cairn::ConfigNode> again = cairn::ConfigNode::Parse(yaml, "again");
  if (!again.ok() || !again->SameContent(node)) {
    std::fprintf(stderr, "ToYaml() printed:\n%s\nwhich parses as: %s\n", yaml.c_str(),
                 again.ok() ? again->ToYaml().c_str() : again.status().ToString().c_str());
    std::abort();
  }
  return valid;
}

void CheckLoad(const std::string& text) {
  const std::string& dir = ProjectDir();
  std::ofstream(dir + "/cairn.yaml", std::ios::trunc | std::ios::binary) << text;
  cairn::ConfigSources sources;
  sources.project_dir = dir;
  sources.working_dir = dir;
  sources.user_config_file = dir + "/cairn.yaml";
  cairn::StatusOr<cairn::Config> config = cairn::LoadConfig(sources, cairn::ConfigOverrides());
  RequireCleanError(config.status());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // LoadConfig looks at XDG_* when no file is given: keep it off the
  // real home directory.
  setenv("XDG_CONFIG_HOME", (ProjectDir() + "/xdg-config").c_str(), 1);
  setenv("XDG_CACHE_HOME", (ProjectDir() + "/xdg-cache").c_str(), 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  cairn::StatusOr<cairn::ConfigNode> node = cairn::ConfigNode::Parse(text, "fuzz.yaml");
  RequireCleanError(node.status());
  // Loading goes through files (slow: each read sets aside room for the
  // largest document allowed): only for documents that pass the schema,
  // where the merge and the typed reading start.
  if (node.ok() && CheckParsed(*node)) CheckLoad(text);
  return 0;
}
