#include "sandbox_harness.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cairn/digest.h"

namespace cairn::testing {
namespace {

const char* const kApplets[] = {"sh",    "echo", "cat",  "ls",       "mkdir",  "ln",  "chmod",
                                "sleep", "nc",   "wget", "true",     "false",  "env", "pwd",
                                "touch", "rm",   "id",   "hostname", "printf", "seq", "head",
                                "wc",    "sort", "cut",  "cp",       "mount",  "ps",  "grep",
                                "test",  "stat", "tr",   "sha256sum"};

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

SandboxHarness::SandboxHarness() { setup_status_ = Setup(); }

Status SandboxHarness::Setup() {
  char pattern[] = "/tmp/cairn-sandbox-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) return ErrnoStatus("mkdtemp", pattern, errno);
  base_dir_ = pattern;
  RuntimeOptions options;
  options.storage.plugin = "cas-local";
  options.storage.options_yaml = "path: " + store_dir() + "\n";
  options.cancellation = &cancellation_;
  runtime_ = std::make_unique<Runtime>(
      options, std::make_shared<PluginRegistry>(PluginRegistry::Discover({CAIRN_TEST_PLUGIN_DIR})));
  CAIRN_ASSIGN_OR_RETURN(cas_, runtime_->OpenStorage());
  return Status::Ok();
}

SandboxHarness::~SandboxHarness() {
  cas_.reset();
  runtime_.reset();
  if (!base_dir_.empty() && base_dir_.rfind("/tmp/cairn-sandbox-test-", 0) == 0) {
    std::string command =
        "chmod -R u+rwX '" + base_dir_ + "' 2>/dev/null; rm -rf '" + base_dir_ + "'";
    int ignored = std::system(command.c_str());
    (void)ignored;
  }
}

StatusOr<std::unique_ptr<Sandbox>> SandboxHarness::OpenSandbox(const std::string& name,
                                                               const std::string& extra_options) {
  CAIRN_RETURN_IF_ERROR(setup_status_);
  PluginChoice choice;
  choice.plugin = name;
  choice.options_yaml = "scratch-dir: " + scratch_dir() + "\n" + extra_options;
  return runtime_->CreateSandbox(choice);
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
    if (!relative.empty() && relative.back() == '/') {
      MakeParents(root + "/" + relative);
      continue;
    }
    bool executable = !relative.empty() && relative.back() == '*';
    std::string path =
        root + "/" + (executable ? relative.substr(0, relative.size() - 1) : relative);
    MakeParents(path);
    WriteFile(path, content, executable ? 0755 : 0644);
  }
  return root;
}

StatusOr<Digest> SandboxHarness::ImportBusyboxRoot(
    const std::map<std::string, std::string>& extra) {
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
