// bwrap_sandbox.h — the bubblewrap sandbox plugin.
//
// Options (the `options` mapping of `sandbox: {plugin: bwrap}`):
//   bwrap-path:  the bwrap binary (default: `bwrap` found on PATH). A
//                missing binary is FAILED_PRECONDITION naming what was
//                searched, reported when the sandbox is created.
//   scratch-dir: where each run's private directory is made (default
//                <the host's scratch directory>/sandbox, which is on the
//                local store's filesystem, or $TMPDIR/cairn-sandbox when
//                the host gives none). On the store's filesystem the
//                read-only part of the root is hardlinked, not copied.
//   root-cache-size: how many staged read-only roots are kept for later
//                runs of the same root (default 8; 0 stages every run
//                afresh). See staged_root_cache.h.
//   max-processes: how many processes (and threads) one action may have
//                at once (default 4096): a pids cgroup where one can be
//                made, RLIMIT_NPROC otherwise (see process_limit.h; the
//                log says which applies). Forks past it fail in the action.
//   host-tools:  false (the default): the input root is the sandbox's "/",
//                as Cairn's and BuildStream's actions, which carry a whole
//                system, expect. true: run actions that carry only their
//                declared inputs and use this machine's tools (Bazel's,
//                recc's), as Buildbarn's runner and buildbox's host-tools
//                runner do. The sandbox's "/" is then the host's "/"
//                read-only, with a fresh /proc, the same minimal /dev, a
//                private /tmp, and /run and the scratch directory hidden
//                under empty tmpfs mounts; the input root is staged as a
//                private writable copy and bound at /tmp/cairn-exec/root
//                (the same path every run, so paths recorded in outputs do
//                not vary); the command starts in its working directory
//                there and its outputs are captured relative to it. A bare
//                argv[0] is looked up in the Command's PATH on that view, a
//                relative one from the working directory. The environment
//                is exactly the Command's, the network is off unless the
//                platform asks for it, the namespaces, limits, timeouts and
//                cancellation are those of the default mode, and so are the
//                capabilities reported. Interactive runs (RunInteractive)
//                work the same way, with bwrap's full /dev.
//
// Every process of an action lives in bwrap's PID namespace. On timeout or
// cancellation the namespace's init (bwrap's child-pid, from --info-fd) is
// SIGKILLed: the kernel then kills every process in it before bwrap itself
// can exit, so Execute returns only when all of them are gone.
//
// bwrap reads its options (which name the host's scratch paths) from an
// anonymous file (`--args`), so the namespace's init — whose command line
// every process inside can read as /proc/1/cmdline — shows only
// "bwrap --args 4 -- " and the Command's own arguments.
#ifndef CAIRN_PLUGINS_BWRAP_BWRAP_SANDBOX_H
#define CAIRN_PLUGINS_BWRAP_BWRAP_SANDBOX_H

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/sandbox_common/local_sandbox.h"

namespace cairn {

class BwrapSandbox : public LocalSandbox {
 public:
  static StatusOr<std::unique_ptr<Sandbox>> Create(const HostServices& host,
                                                   std::string_view options_yaml);

 protected:
  StatusOr<LaunchedProcess> Launch(const LaunchRequest& request) override;
  Status CheckSetup(const SupervisionResult& result, const StagedRoot& root,
                    bool interactive) override;
  std::string HostToolsRoot() const override;
  bool MountsOverlayRoots() const override;

 private:
  BwrapSandbox(HostServices host, const std::string& scratch_dir, std::string bwrap_path,
               size_t root_cache_size, uint64_t max_processes, bool host_tools);

  std::string bwrap_path_;
  bool host_tools_;
  // Covered with an empty tmpfs in host-tools mode (see BwrapOptions).
  std::vector<std::string> hidden_host_dirs_;
};

}  // namespace cairn

#endif  // CAIRN_PLUGINS_BWRAP_BWRAP_SANDBOX_H
