#include "cairn/runtime/plugin_registry.h"

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "cairn/runtime/plugin_descriptor_check.h"
#include "cairn/runtime/plugin_probe.h"

namespace cairn {

namespace fs = std::filesystem;

struct PluginRegistry::Lookups {
  std::mutex mutex;
  std::map<std::pair<PluginKind, std::string>, std::unique_ptr<PluginRecord>> found;
  // What a child process found in each file, so a command looking up
  // several plugins probes each library once.
  std::map<std::string, PluginRecord> probed;

  const PluginRecord& Probe(const std::string& file) {
    auto known = probed.find(file);
    if (known == probed.end()) known = probed.emplace(file, ProbePlugin(file)).first;
    return known->second;
  }
};

namespace {

std::string AbiText(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// "NAME" for a file named cairn-NAME.so, else "".
std::string PromisedName(const std::string& path) {
  std::string file = fs::path(path).filename().string();
  const std::string prefix = "cairn-";
  const std::string suffix = ".so";
  if (file.size() <= prefix.size() + suffix.size() || file.rfind(prefix, 0) != 0 ||
      file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return "";
  }
  return file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
}

std::string CanonicalOrAsGiven(const std::string& entry) {
  std::error_code error;
  fs::path canonical = fs::weakly_canonical(entry, error);
  return error ? entry : canonical.string();
}

// Each entry once (compared by canonical form), keeping the first spelling.
std::vector<std::string> UniqueEntries(const std::vector<std::string>& search_paths) {
  std::vector<std::string> unique;
  std::vector<std::string> seen;
  for (const std::string& entry : search_paths) {
    std::string canonical = CanonicalOrAsGiven(entry);
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;
    seen.push_back(canonical);
    unique.push_back(entry);
  }
  return unique;
}

// Every library on the search path, in search order.
std::vector<std::string> CandidateFiles(const std::vector<std::string>& search_paths) {
  std::vector<std::string> candidates;
  for (const std::string& entry : UniqueEntries(search_paths)) {
    fs::path dir = CanonicalOrAsGiven(entry);
    std::error_code error;
    std::vector<std::string> files;
    if (fs::is_regular_file(dir, error)) {
      files.push_back(dir.string());
    } else if (fs::is_directory(dir, error)) {
      for (const auto& item : fs::directory_iterator(dir, error)) {
        if (item.path().extension() == ".so") files.push_back(item.path().string());
      }
    }
    std::sort(files.begin(), files.end());
    candidates.insert(candidates.end(), files.begin(), files.end());
  }
  return candidates;
}

void DisableShadowed(std::vector<PluginRecord>* records) {
  for (auto record = records->begin(); record != records->end(); ++record) {
    if (!record->loaded) continue;
    for (auto earlier = records->begin(); earlier != record; ++earlier) {
      if (earlier->loaded && earlier->kind == record->kind && earlier->name == record->name) {
        record->loaded = false;
        record->reason = "shadowed by " + earlier->path + ", found earlier on the search path";
        record->descriptor = nullptr;
        record->library.reset();
        break;
      }
    }
  }
}

Status Disabled(PluginKind kind, const std::string& name, const PluginRecord& record) {
  return FailedPrecondition(PluginKindName(kind) + " plugin '" + name + "' at " + record.path +
                            " is disabled: " + record.reason);
}

Status Missing(PluginKind kind, const std::string& name, const std::vector<PluginRecord>& records,
               const std::vector<std::string>& search_paths) {
  std::string available;
  for (const PluginRecord& record : records) {
    if (record.loaded && record.kind == kind)
      available += (available.empty() ? "" : ", ") + record.name;
  }
  std::string where;
  for (const std::string& path : search_paths) where += (where.empty() ? "" : ", ") + path;
  return NotFound("no " + PluginKindName(kind) + " plugin named '" + name +
                  "' (available: " + (available.empty() ? "none" : available) +
                  "; searched: " + (where.empty() ? "nothing" : where) + ")");
}

}  // namespace

std::string PluginKindName(PluginKind kind) {
  switch (kind) {
    case PluginKind::kSandbox:
      return "sandbox";
    case PluginKind::kStorage:
      return "storage";
    case PluginKind::kUnknown:
      return "unknown";
  }
  return "unknown";
}

PluginRecord PluginRegistry::Inspect(const std::string& path) {
  PluginRecord record;
  record.path = path;
  record.name = fs::path(path).filename().string();
  auto library = std::make_shared<boost::dll::shared_library>();
  boost::system::error_code error;
  library->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, error);
  if (error) {
    record.reason = "cannot be loaded: " + error.message();
    return record;
  }
  if (!library->has(CAIRN_PLUGIN_ENTRY_SYMBOL)) {
    record.reason =
        std::string("has no entry symbol '") + CAIRN_PLUGIN_ENTRY_SYMBOL + "' (not a Cairn plugin)";
    return record;
  }
  auto entry =
      library->get<const cairn_plugin_descriptor*(uint32_t, uint32_t)>(CAIRN_PLUGIN_ENTRY_SYMBOL);
  const cairn_plugin_descriptor* descriptor = nullptr;
  try {
    descriptor = entry(CAIRN_ABI_VERSION_MAJOR, CAIRN_ABI_VERSION_MINOR);
  } catch (const std::exception& e) {
    record.reason = std::string("its entry symbol threw an exception: ") + e.what();
    return record;
  } catch (...) {
    record.reason = "its entry symbol threw a non-standard exception";
    return record;
  }
  if (descriptor == nullptr) {
    record.reason = "its entry symbol returned no descriptor (it refused plugin ABI " +
                    AbiText(CAIRN_ABI_VERSION_MAJOR, CAIRN_ABI_VERSION_MINOR) + ")";
    return record;
  }
  record.reason = CheckPluginDescriptor(descriptor, &record);
  if (!record.reason.empty()) return record;
  std::string promised = PromisedName(path);
  if (!promised.empty() && promised != record.name) {
    record.reason = "its file name promises a plugin named '" + promised +
                    "', but its descriptor names '" + record.name + "'";
    return record;
  }
  record.descriptor = descriptor;
  record.library = std::move(library);
  record.loaded = true;
  return record;
}

std::string PluginRegistry::InstalledPluginDir() {
  boost::system::error_code error;
  boost::dll::fs::path exe = boost::dll::program_location(error);
  if (error) return "";
  return (fs::path(exe.parent_path().string()) / ".." / CAIRN_PLUGIN_SUBDIR)
      .lexically_normal()
      .string();
}

std::vector<std::string> PluginRegistry::SearchPaths(const std::vector<std::string>& configured) {
  std::vector<std::string> paths = configured;
  if (const char* env = std::getenv("CAIRN_PLUGIN_PATH")) {
    std::string list = env;
    size_t start = 0;
    while (start <= list.size()) {
      size_t end = list.find(':', start);
      if (end == std::string::npos) end = list.size();
      if (end > start) paths.push_back(list.substr(start, end - start));
      start = end + 1;
    }
  }
  std::string installed = InstalledPluginDir();
  if (!installed.empty()) paths.push_back(installed);
  return paths;
}

PluginRegistry::PluginRegistry() = default;
PluginRegistry::PluginRegistry(PluginRegistry&& other) noexcept = default;
PluginRegistry& PluginRegistry::operator=(PluginRegistry&& other) noexcept = default;
PluginRegistry::~PluginRegistry() = default;

PluginRegistry PluginRegistry::Discover(const std::vector<std::string>& search_paths) {
  PluginRegistry registry;
  registry.search_paths_ = UniqueEntries(search_paths);
  for (const std::string& file : CandidateFiles(search_paths)) {
    registry.plugins_.push_back(Inspect(file));
  }
  DisableShadowed(&registry.plugins_);
  return registry;
}

PluginRegistry PluginRegistry::OnSearchPath(const std::vector<std::string>& search_paths) {
  PluginRegistry registry;
  registry.search_paths_ = UniqueEntries(search_paths);
  registry.lookups_ = std::make_unique<Lookups>();
  return registry;
}

std::vector<PluginRecord> PluginRegistry::Survey() const {
  std::vector<PluginRecord> records;
  for (const std::string& file : CandidateFiles(search_paths_)) {
    records.push_back(ProbePlugin(file));
  }
  DisableShadowed(&records);
  return records;
}

StatusOr<const PluginRecord*> PluginRegistry::Find(PluginKind kind, const std::string& name) const {
  if (lookups_) return LookUp(kind, name);
  const PluginRecord* disabled = nullptr;
  for (const PluginRecord& record : plugins_) {
    if (record.kind == kind && record.name == name) {
      if (record.loaded) return &record;
      if (disabled == nullptr) disabled = &record;
    }
  }
  if (disabled != nullptr) return Disabled(kind, name, *disabled);
  return Missing(kind, name, plugins_, search_paths_);
}

// Walks the search path in order, as Discover() would, but loads into this
// process only a file named for the plugin or one a child process found to
// be it: the first loadable match is the one Discover() would not shadow.
StatusOr<const PluginRecord*> PluginRegistry::LookUp(PluginKind kind,
                                                     const std::string& name) const {
  std::lock_guard<std::mutex> lock(lookups_->mutex);
  auto key = std::make_pair(kind, name);
  auto cached = lookups_->found.find(key);
  if (cached != lookups_->found.end()) return cached->second.get();
  std::optional<PluginRecord> disabled;
  for (const std::string& file : CandidateFiles(search_paths_)) {
    std::string promised = PromisedName(file);
    if (!promised.empty() && promised != name) continue;
    if (promised.empty()) {
      const PluginRecord& probed = lookups_->Probe(file);
      if (probed.kind != kind || probed.name != name) continue;
      if (!probed.loaded) {
        if (!disabled) disabled = probed;
        continue;
      }
    }
    PluginRecord record = Inspect(file);
    if (record.loaded && record.kind == kind) {
      auto stored = std::make_unique<PluginRecord>(std::move(record));
      const PluginRecord* result = stored.get();
      lookups_->found.emplace(key, std::move(stored));
      return result;
    }
    bool same_kind = record.kind == kind || record.kind == PluginKind::kUnknown;
    if (!record.loaded && same_kind && !disabled) {
      record.library.reset();
      disabled = std::move(record);
    }
  }
  if (disabled) return Disabled(kind, name, *disabled);
  // Only on failure: list what there is, without loading any of it here.
  std::vector<PluginRecord> records;
  for (const std::string& file : CandidateFiles(search_paths_)) {
    records.push_back(lookups_->Probe(file));
  }
  DisableShadowed(&records);
  return Missing(kind, name, records, search_paths_);
}

}  // namespace cairn
