// cairn/sandbox_common/staged_root.h — an input root staged for one run.
//
// Stage() creates a private scratch directory (mode 0700) under the
// sandbox's scratch directory for what belongs to this run alone:
//
//   scratch/stdout, scratch/stderr   the command's output streams
//   scratch/work/    a private copy of the working directory, with every
//                    output path's parent created (normal runs); or, for a
//                    working directory that is the root, a private copy
//                    of each output directory at its path (scratch/work/
//                    buildstream-install, ...)
//   scratch/root/    a private copy of the whole input root (interactive
//                    runs, host-tools runs, and the root as working
//                    directory when an output is not a directory of the
//                    input root)
//
// Safety rule: the command may write only to its writable mounts and to a
// private /tmp. Unless the whole root is writable, the root is a
// SharedRoot from the StagedRootCache (staged_root_cache.h): hardlinks
// into the store, shared with other runs of the same root, mounted
// read-only, with each writable mount (a private copy in scratch/work)
// bound read-write over it:
//   - a working directory below the root: one mount, its copy, over it;
//   - the root as working directory (BuildStream's element builds, whose
//     build-root and install-root share only "/"), not interactive, with
//     every output path a real directory of the input root (no symlink on
//     the way, not under /proc, /dev or /tmp): one mount per output, its
//     copy over it. An output inside another output is written and
//     captured through the outer one's mount.
// Otherwise (interactive runs; the root as working directory with an
// output that is missing, a file, or reached through a symlink; or no
// outputs at all) the whole root is writable and private to the run:
//   - an overlay (overlay()) when the sandbox can mount one in its child
//     (StagingPlan::overlay_allowed) and nothing is to be captured from it
//     (no outputs) nor owned by another user: the shared read-only root
//     as the lower layer, an empty scratch/upper/ taking every write
//     (overlayfs copies a file up before changing it, so the lower layer
//     is never written), mounted at scratch/merged/ in the sandbox's own
//     mount namespace, so no mount outlives the run. It costs three empty
//     directories instead of a copy of the root;
//   - else a private, writable copy, which costs a copy of every file of
//     the root per run.
// So no build can ever modify an object in the store, and nothing one run
// writes is seen by another.
//
// The destructor removes the scratch directory (or hands it to a
// ScratchJanitor) and releases the shared root, whatever happened. Not
// thread-safe; one StagedRoot per run.
#ifndef CAIRN_SANDBOX_COMMON_STAGED_ROOT_H
#define CAIRN_SANDBOX_COMMON_STAGED_ROOT_H

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/digest.h"
#include "cairn/sandbox_common/output_capture.h"
#include "cairn/sandbox_common/scratch_janitor.h"
#include "cairn/sandbox_common/staged_root_cache.h"
#include "cairn/storage.h"

namespace cairn {

struct StagingPlan {
  Digest input_root;
  std::string working_directory;          // relative to the root, "" = the root
  std::vector<std::string> output_paths;  // relative to the working directory
  bool writable_root = false;             // all of it writable and private to the run
  // The root is bound below a view of the host's filesystem rather than
  // at "/" (LocalSandbox::HostToolsRoot): it is staged exactly as given,
  // without /proc, /dev and /tmp mount points. Needs writable_root.
  bool host_tools = false;
  // The sandbox mounts overlay() roots (see above); false: copies.
  bool overlay_allowed = false;
  // Owner of the writable parts, for sandboxes that switch user for real.
  std::optional<uid_t> owner_uid;
  std::optional<gid_t> owner_gid;
};

// A private, writable directory bound over the read-only root.
struct WritableMount {
  std::string host_dir;  // the private copy, in the run's scratch directory
  std::string inside;    // where it is bound inside the sandbox ("/build")
};

// An overlay root for the sandbox's child to mount (mount(2) data
// "lowerdir=LOWER,upperdir=UPPER,workdir=WORK,volatile" on MERGED); none
// of the paths holds a character overlayfs would misread (',', ':', '\\').
struct OverlayRoot {
  std::string lower;   // the shared, read-only staged root
  std::string upper;   // scratch/upper: this run's writes
  std::string work;    // scratch/overlay-work: overlayfs's own
  std::string merged;  // scratch/merged: where to mount it
  std::string MountData() const;
};

// Whether overlayfs can take `path` as a layer: no ',', ':' or '\\',
// which its mount options would misread.
bool OverlayPathUsable(const std::string& path);

// Whether Stage() makes the root of `plan` an overlay (see above) in a
// scratch directory below `scratch_parent`, told from the plan alone:
// allowed, writable (or the working directory), nothing to capture, no
// owner to hand it to, and paths overlayfs can read.
bool TakesOverlayRoot(const StagingPlan& plan, const std::string& scratch_parent);

class StagedRoot {
 public:
  // `scratch_parent` is created when missing; `prefix` starts the private
  // directory's name ("bwrap-", followed by this process's pid: see
  // OwnedScratchPrefix). Read-only roots come from `roots`. A
  // root digest missing from the store is FAILED_PRECONDITION naming it.
  // `janitor` (optional, must outlive the StagedRoot) removes the
  // directory in the background.
  static StatusOr<std::unique_ptr<StagedRoot>> Stage(
      Storage& cas, const std::string& scratch_parent, const std::string& prefix,
      const StagingPlan& plan, StagedRootCache& roots, ScratchJanitor* janitor = nullptr);
  ~StagedRoot();
  StagedRoot(const StagedRoot&) = delete;
  StagedRoot& operator=(const StagedRoot&) = delete;

  const std::string& scratch_dir() const { return scratch_dir_; }
  // The root to mount at /: read-only and shared unless root_is_writable().
  // With an overlay(), the lower layer: the sandbox mounts the overlay
  // instead, and the host reads the root's content here.
  const std::string& root_dir() const { return root_dir_; }
  // Set when the root is writable through an overlay.
  const std::optional<OverlayRoot>& overlay() const { return overlay_; }
  // The working directory as seen inside ("/build", "/").
  std::string working_dir_inside() const { return "/" + plan_.working_directory; }
  // True when the whole root is a private copy to mount read-write.
  bool root_is_writable() const { return root_writable_; }
  // What to bind read-write over the read-only root, in this order (empty
  // when root_is_writable()). Each is to be owned by the plan's owner.
  const std::vector<WritableMount>& writable_mounts() const { return mounts_; }
  // Where the outputs are on the host, for CaptureOutputs.
  const std::vector<OutputHostDir>& output_dirs() const { return output_dirs_; }
  // The host path of `output` (relative to the working directory).
  std::string OutputHostPath(const std::string& output) const;
  std::string stdout_path() const { return scratch_dir_ + "/stdout"; }
  std::string stderr_path() const { return scratch_dir_ + "/stderr"; }

 private:
  explicit StagedRoot(StagingPlan plan) : plan_(std::move(plan)) {}
  Status Populate(Storage& cas, StagedRootCache& roots);
  Status PopulateWritable(Storage& cas);
  // The overlay root, or false (nothing done) where the plan or the paths
  // rule one out.
  StatusOr<bool> PopulateOverlay(Storage& cas, StagedRootCache& roots);
  Status PopulateWorkingDir();
  Status PopulateOutputDirs();

  StagingPlan plan_;
  ScratchJanitor* janitor_ = nullptr;
  std::string scratch_dir_;
  std::string root_dir_;
  bool root_writable_ = false;
  std::vector<WritableMount> mounts_;
  std::vector<OutputHostDir> output_dirs_;
  std::optional<OverlayRoot> overlay_;
  std::shared_ptr<const SharedRoot> shared_root_;  // read-only and overlay roots
};

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_STAGED_ROOT_H
