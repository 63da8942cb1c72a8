// sandbox_harness.h — real plugins, wired as the host wires them.
//
// SandboxHarness dlopens cairn-cas-local.so and opens a store in a fresh
// temporary directory, builds a cairn_host_services table whose cas /
// cas_store are that plugin's own ops and store, and creates sandboxes from
// cairn-bwrap.so / cairn-chroot.so through cairn::SandboxClient. It also
// imports a small root (a static busybox with applet links) into the store
// and builds Actions.
#ifndef CAIRN_TESTS_SANDBOX_SANDBOX_HARNESS_H
#define CAIRN_TESTS_SANDBOX_SANDBOX_HARNESS_H

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cairn/plugin.h"
#include "cairn/sandbox.h"
#include "cairn/storage.h"

namespace cairn::testing {

struct ActionOptions {
  std::vector<std::string> arguments;
  std::vector<std::pair<std::string, std::string>> environment = {{"PATH", "/bin"}};
  std::string working_directory = "build";
  std::vector<std::string> output_paths;
  int timeout_seconds = 0;
  std::vector<std::pair<std::string, std::string>> platform;
};

class PluginLibrary {
 public:
  // Loads lib/cairn/plugins/cairn-NAME.so from the build tree.
  static StatusOr<std::unique_ptr<PluginLibrary>> Load(const std::string& name);
  ~PluginLibrary();
  const cairn_plugin_descriptor* descriptor() const { return descriptor_; }

 private:
  void* handle_ = nullptr;
  const cairn_plugin_descriptor* descriptor_ = nullptr;
};

class SandboxHarness {
 public:
  SandboxHarness();
  ~SandboxHarness();

  // Non-OK explains why the harness cannot run here (tests then skip/fail).
  const Status& setup_status() const { return setup_status_; }
  Storage& cas() { return *cas_; }
  const std::string& base_dir() const { return base_dir_; }
  std::string store_dir() const { return base_dir_ + "/store"; }
  std::string scratch_dir() const { return base_dir_ + "/scratch"; }

  // "bwrap" or "chroot"; extra YAML options appended to scratch-dir.
  StatusOr<std::unique_ptr<Sandbox>> OpenSandbox(const std::string& name,
                                                 const std::string& extra_options = "");
  // The raw host services table (for plugins opened by the test itself).
  const cairn_host_services* host_services() const { return &services_; }

  // A directory with bin/busybox and applet symlinks, plus `extra` files
  // (relative path -> content; a path ending in '*' is made executable).
  std::string MakeBusyboxTree(const std::string& name,
                              const std::map<std::string, std::string>& extra = {});
  // Captures MakeBusyboxTree(...) into the store.
  StatusOr<Digest> ImportBusyboxRoot(const std::map<std::string, std::string>& extra = {});
  StatusOr<Action> MakeAction(const Digest& root, const ActionOptions& options);

  // Every object file of the store with its size, mtime and content hash.
  std::map<std::string, std::string> SnapshotObjects();

  void set_cancelled(bool value) { cancelled_ = value; }

 private:
  Status Setup();

  Status setup_status_;
  std::string base_dir_;
  std::unique_ptr<PluginLibrary> cas_library_;
  std::map<std::string, std::unique_ptr<PluginLibrary>> sandbox_libraries_;
  const cairn_storage_vtable* storage_vtable_ = nullptr;
  void* store_ = nullptr;
  std::unique_ptr<Storage> cas_;
  cairn_host_services services_{};
  std::atomic<bool> cancelled_{false};
  int tree_counter_ = 0;
};

// The blob's content, or "<error>".
std::string ReadText(Storage& cas, const Digest& digest);
// Names of processes whose command line contains `marker`.
std::vector<std::string> ProcessesMatching(const std::string& marker);
bool RunningAsRoot();

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SANDBOX_SANDBOX_HARNESS_H
