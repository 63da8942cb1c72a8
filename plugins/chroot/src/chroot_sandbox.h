// chroot_sandbox.h — the chroot sandbox plugin, for hosts without bwrap.
//
// Runs each Action with chroot(2) inside private namespaces (see
// chroot_child.h); needs root, and says so at creation otherwise:
// FAILED_PRECONDITION "the chroot sandbox needs root (running as uid N)".
// unixUID/unixGID switch user for real, so the writable parts of the
// staged root are handed to that user first.
//
// Options:
//   scratch-dir: where each run's private directory is made (default
//                <the host's scratch directory>/sandbox, or
//                $TMPDIR/cairn-sandbox when the host gives none).
//   root-cache-size: how many staged read-only roots are kept for later
//                runs of the same root (default 8; 0 stages every run
//                afresh). See staged_root_cache.h.
//   max-processes: how many processes (and threads) one action may have
//                at once (default 4096): a pids cgroup where one can be
//                made, RLIMIT_NPROC otherwise (see process_limit.h; the
//                log says which applies). Forks past it fail in the action.
#ifndef CAIRN_PLUGINS_CHROOT_CHROOT_SANDBOX_H
#define CAIRN_PLUGINS_CHROOT_CHROOT_SANDBOX_H

#include <memory>
#include <string>
#include <string_view>

#include "cairn/sandbox_common/local_sandbox.h"

namespace cairn {

class ChrootSandbox : public LocalSandbox {
 public:
  static StatusOr<std::unique_ptr<Sandbox>> Create(const HostServices& host,
                                                   std::string_view options_yaml);

 protected:
  bool ChownsWritableParts() const override { return true; }
  bool MountsOverlayRoots() const override { return true; }
  StatusOr<LaunchedProcess> Launch(const LaunchRequest& request) override;
  Status CheckSetup(const SupervisionResult& result, const StagedRoot& root,
                    bool interactive) override;

 private:
  ChrootSandbox(HostServices host, std::string scratch_dir, size_t root_cache_size,
                uint64_t max_processes);
};

}  // namespace cairn

#endif  // CAIRN_PLUGINS_CHROOT_CHROOT_SANDBOX_H
