// sandbox_harness.h — real plugins, wired as the host wires them.
//
// SandboxHarness runs the built plugins through a cairn::Runtime, exactly
// as the host does: cas-local opened on a store in a fresh temporary
// directory, handed to cairn-bwrap.so / cairn-chroot.so through the host
// services, each sandbox a private instance with the options a test asks
// for. It also imports a small root (a static busybox with applet links)
// into the store and builds Actions.
#ifndef CAIRN_TESTS_SANDBOX_SANDBOX_HARNESS_H
#define CAIRN_TESTS_SANDBOX_SANDBOX_HARNESS_H

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cairn/runtime/cancellation.h"
#include "cairn/runtime/runtime.h"
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

  // A new instance of "bwrap" or "chroot"; extra YAML options appended to
  // scratch-dir.
  StatusOr<std::unique_ptr<Sandbox>> OpenSandbox(const std::string& name,
                                                 const std::string& extra_options = "");

  // A directory with bin/busybox and applet symlinks, plus `extra` files
  // (relative path -> content; a path ending in '*' is made executable, one
  // ending in '/' is an empty directory).
  std::string MakeBusyboxTree(const std::string& name,
                              const std::map<std::string, std::string>& extra = {});
  // Captures MakeBusyboxTree(...) into the store.
  StatusOr<Digest> ImportBusyboxRoot(const std::map<std::string, std::string>& extra = {});
  StatusOr<Action> MakeAction(const Digest& root, const ActionOptions& options);

  // Every object file of the store with its size, mtime and content hash.
  std::map<std::string, std::string> SnapshotObjects();

  // What Ctrl-C does to the host: every running sandbox stops.
  void Cancel() { cancellation_.Cancel(); }

 private:
  Status Setup();

  Status setup_status_;
  std::string base_dir_;
  CancellationFlag cancellation_;
  std::unique_ptr<Runtime> runtime_;
  std::shared_ptr<Storage> cas_;
  int tree_counter_ = 0;
};

// The blob's content, or "<error>".
std::string ReadText(Storage& cas, const Digest& digest);
// Names of processes whose command line contains `marker`.
std::vector<std::string> ProcessesMatching(const std::string& marker);
bool RunningAsRoot();

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_SANDBOX_SANDBOX_HARNESS_H
