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

// ToYaml() prints invalid UTF-8 as U+FFFD, so two keys that differ only
// in invalid bytes print as one key, which Parse then refuses as a
// duplicate (found by this fuzzer; reported to the configuration loader's
// owner). Until Parse refuses invalid UTF-8 or ToYaml() keeps it, the
// round trip is checked for valid UTF-8 only.
bool IsUtf8(const std::string& text) {
  size_t at = 0;
  while (at < text.size()) {
    unsigned char lead = static_cast<unsigned char>(text[at]);
    size_t length = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xE  ? 3
                    : (lead >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || at + length > text.size()) return false;
    for (size_t i = 1; i < length; ++i) {
      if ((static_cast<unsigned char>(text[at + i]) >> 6) != 0x2) return false;
    }
    at += length;
  }
  return true;
}

// True when the document is a valid file of some kind.
bool CheckParsed(const cairn::ConfigNode& node, bool round_trip) {
  bool valid = false;
  for (cairn::ConfigFileKind kind :
       {cairn::ConfigFileKind::kProject, cairn::ConfigFileKind::kUser}) {
    cairn::Status status = cairn::ValidateConfig(node, cairn::SchemaFor(kind));
    RequireCleanError(status);
    valid = valid || status.ok();
  }
  // Plugin options cross the ABI as ToYaml() text, which the plugin parses
  // again: whatever was parsed must print as YAML that parses.
  if (!round_trip) return valid;
  std::string yaml = node.ToYaml();
  cairn::StatusOr<cairn::ConfigNode> again = cairn::ConfigNode::Parse(yaml, "again");
  if (!again.ok() || again->kind() != node.kind()) {
    std::fprintf(stderr, "ToYaml() printed:\n%s\nwhich parses as: %s\n", yaml.c_str(),
                 again.ok() ? "another kind of node" : again.status().ToString().c_str());
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
  if (node.ok() && CheckParsed(*node, IsUtf8(text))) CheckLoad(text);
  return 0;
}
