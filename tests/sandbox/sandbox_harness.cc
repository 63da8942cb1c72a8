#include "sandbox_harness.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cairn/abi.h"
#include "cairn/digest.h"
#include "cairn/sandbox_client.h"
#include "cairn/storage_client.h"

namespace cairn::testing {
namespace {

const char* const kApplets[] = {"sh",  "echo", "cat",   "ls",  "mkdir", "ln",    "chmod",
                                "sleep", "nc", "wget", "true", "false", "env",   "pwd",
                                "touch", "rm",  "id",  "hostname", "printf", "seq", "head",
                                "wc", "sort", "cut", "cp", "mount", "ps", "grep", "test", "stat", "tr", "sha256sum"};

void LogToStderr(void*, int32_t level, const char* message, uint64_t size) {
  static const bool debug = std::getenv("CAIRN_TEST_DEBUG_LOG") != nullptr;
  if (level >= CAIRN_LOG_WARN || debug) {
    std::fprintf(stderr, "[plugin] %.*s\n", static_cast<int>(size), message);
  }
}

int32_t IsCancelled(void* host) {
  return static_cast<std::atomic<bool>*>(host)->load() ? 1 : 0;
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream(path, std::ios::binary) << content;
  chmod(path.c_str(), mode);
}

void MakeParents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    mkdir(path.substr(0, slash).c_str(), 0755);
  }
}

void ListFiles(const std::string& dir, std::vector<std::string>* out) {
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return;
  while (struct dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    struct stat info {};
    if (lstat(path.c_str(), &info) != 0) continue;
    if (S_ISDIR(info.st_mode)) {
      ListFiles(path, out);
    } else {
      out->push_back(path);
    }
  }
  closedir(handle);
}

}  // namespace

StatusOr<std::unique_ptr<PluginLibrary>> PluginLibrary::Load(const std::string& name) {
  std::string path = std::string(CAIRN_TEST_PLUGIN_DIR) + "/cairn-" + name + ".so";
  std::unique_ptr<PluginLibrary> library(new PluginLibrary());
  library->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library->handle_ == nullptr) return NotFound("dlopen " + path + ": " + dlerror());
  auto entry = reinterpret_cast<cairn_plugin_entry_fn>(
      dlsym(library->handle_, CAIRN_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) return NotFound(path + " has no " CAIRN_PLUGIN_ENTRY_SYMBOL);
  library->descriptor_ = entry(CAIRN_ABI_VERSION_MAJOR, CAIRN_ABI_VERSION_MINOR);
  if (library->descriptor_ == nullptr) return FailedPrecondition(path + " refused the ABI");
  return library;
}

PluginLibrary::~PluginLibrary() {
  // Left loaded: protobuf descriptors registered by a plugin must outlive
  // every message they describe.
}

SandboxHarness::SandboxHarness() { setup_status_ = Setup(); }

Status SandboxHarness::Setup() {
  char pattern[] = "/tmp/cairn-sandbox-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return ErrnoStatus("mkdtemp", pattern, errno);
  base_dir_ = pattern;
  CAIRN_ASSIGN_OR_RETURN(cas_library_, PluginLibrary::Load("cas-local"));
  storage_vtable_ = static_cast<const cairn_storage_vtable*>(cas_library_->descriptor()->vtable);

  static const cairn_host_services storage_host = {
      sizeof(cairn_host_services), CAIRN_ABI_VERSION_MAJOR, CAIRN_ABI_VERSION_MINOR, nullptr,
      &LogToStderr, nullptr, nullptr, nullptr, nullptr};
  std::string options = "path: " + store_dir() + "\n";
  CAIRN_RETURN_IF_ERROR(CallPlugin("cas-local: open", [&](cairn_error* error) {
    return storage_vtable_->open(&storage_host, options.c_str(), options.size(), &store_, error);
  }));
  cas_ = std::make_unique<StorageClient>(storage_vtable_->ops, store_, "cas-local");

  services_.struct_size = sizeof(cairn_host_services);
  services_.abi_major = CAIRN_ABI_VERSION_MAJOR;
  services_.abi_minor = CAIRN_ABI_VERSION_MINOR;
  services_.host = &cancelled_;
  services_.log = &LogToStderr;
  services_.is_cancelled = &IsCancelled;
  services_.cas = storage_vtable_->ops;
  services_.cas_store = store_;
  return Status::Ok();
}

SandboxHarness::~SandboxHarness() {
  cas_.reset();
  if (store_ != nullptr) storage_vtable_->close(store_);
  if (!base_dir_.empty() && base_dir_.rfind("/tmp/cairn-sandbox-test-", 0) == 0) {
    std::string command = "chmod -R u+rwX '" + base_dir_ + "' 2>/dev/null; rm -rf '" +
                          base_dir_ + "'";
    int ignored = std::system(command.c_str());
    (void)ignored;
  }
}

StatusOr<std::unique_ptr<Sandbox>> SandboxHarness::OpenSandbox(const std::string& name,
                                                               const std::string& extra_options) {
  CAIRN_RETURN_IF_ERROR(setup_status_);
  auto found = sandbox_libraries_.find(name);
  if (found == sandbox_libraries_.end()) {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<PluginLibrary> library, PluginLibrary::Load(name));
    found = sandbox_libraries_.emplace(name, std::move(library)).first;
  }
  auto* vtable = static_cast<const cairn_sandbox_vtable*>(found->second->descriptor()->vtable);
  std::string options = "scratch-dir: " + scratch_dir() + "\n" + extra_options;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<SandboxClient> client,
                         SandboxClient::Create(vtable, &services_, options, name));
  return std::unique_ptr<Sandbox>(std::move(client));
}

std::string SandboxHarness::MakeBusyboxTree(const std::string& name,
                                            const std::map<std::string, std::string>& extra) {
  std::string root = base_dir_ + "/" + name;
  mkdir(root.c_str(), 0755);
  mkdir((root + "/bin").c_str(), 0755);
  std::string copy = "cp /usr/bin/busybox '" + root + "/bin/busybox'";
  if (std::system(copy.c_str()) != 0) return "";
  for (const char* applet : kApplets) {
    int ignored = symlink("busybox", (root + "/bin/" + applet).c_str());
    (void)ignored;
  }
  for (const auto& [relative, content] : extra) {
    bool executable = !relative.empty() && relative.back() == '*';
    std::string path = root + "/" + (executable ? relative.substr(0, relative.size() - 1) : relative);
    MakeParents(path);
    WriteFile(path, content, executable ? 0755 : 0644);
  }
  return root;
}

StatusOr<Digest> SandboxHarness::ImportBusyboxRoot(const std::map<std::string, std::string>& extra) {
  CAIRN_RETURN_IF_ERROR(setup_status_);
  std::string root = MakeBusyboxTree("root-" + std::to_string(tree_counter_++), extra);
  if (root.empty()) return FailedPrecondition("cannot copy /usr/bin/busybox");
  CAIRN_ASSIGN_OR_RETURN(CapturedTree tree, cas_->CaptureTree(root, CaptureOptions{}));
  return tree.root;
}

StatusOr<Action> SandboxHarness::MakeAction(const Digest& root, const ActionOptions& options) {
  Command command;
  for (const std::string& argument : options.arguments) command.add_arguments(argument);
  for (const auto& [name, value] : options.environment) {
    auto* variable = command.add_environment_variables();
    variable->set_name(name);
    variable->set_value(value);
  }
  command.set_working_directory(options.working_directory);
  for (const std::string& path : options.output_paths) command.add_output_paths(path);
  CAIRN_ASSIGN_OR_RETURN(Digest command_digest, cas_->WriteMessage(command));
  Action action;
  *action.mutable_command_digest() = command_digest;
  *action.mutable_input_root_digest() = root;
  if (options.timeout_seconds > 0) action.mutable_timeout()->set_seconds(options.timeout_seconds);
  for (const auto& [name, value] : options.platform) {
    auto* property = action.mutable_platform()->add_properties();
    property->set_name(name);
    property->set_value(value);
  }
  return action;
}

std::map<std::string, std::string> SandboxHarness::SnapshotObjects() {
  std::vector<std::string> files;
  ListFiles(store_dir() + "/objects", &files);
  std::map<std::string, std::string> snapshot;
  for (const std::string& path : files) {
    struct stat info {};
    lstat(path.c_str(), &info);
    StatusOr<Digest> digest = DigestOfFile(path);
    std::ostringstream line;
    line << info.st_size << " " << info.st_mtim.tv_sec << " " << std::oct << (info.st_mode & 07777)
         << " " << (digest.ok() ? digest->hash() : "unreadable");
    snapshot[path] = line.str();
  }
  return snapshot;
}

std::string ReadText(Storage& cas, const Digest& digest) {
  StatusOr<std::string> text = cas.ReadBlob(digest, 0, 0);
  return text.ok() ? *text : "<" + text.status().ToString() + ">";
}

std::vector<std::string> ProcessesMatching(const std::string& marker) {
  std::vector<std::string> found;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return found;
  while (struct dirent* entry = readdir(proc)) {
    std::string name = entry->d_name;
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in("/proc/" + name + "/cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(marker) != std::string::npos) found.push_back(name + ": " + cmdline);
  }
  closedir(proc);
  return found;
}

bool RunningAsRoot() { return geteuid() == 0; }

}  // namespace cairn::testing
