// cairn/sandbox_common/staged_root.h — an input root staged for one run.
//
// Stage() creates a private scratch directory (mode 0700) under the
// sandbox's scratch directory and materialises the Action's input root in
// it through the host's Storage:
//
//   scratch/root/     the input root; /proc, /dev and /tmp mount points are
//                     created when missing
//   scratch/stdout, scratch/stderr   the command's output streams
//
// Safety rule: the command may write only to the working directory (which
// holds every output path's parent) and to a private /tmp. For a normal run
// the root is staged with hardlinks into the store, to be mounted
// read-only, and the working directory's subtree is then made of private
// copies; for an interactive run (or a working directory that is the root
// itself) the whole root is a private copy. So no build can ever modify an
// object in the store.
//
// The destructor removes the scratch directory (or hands it to a
// ScratchJanitor), whatever happened. Not
// thread-safe; one StagedRoot per run.
#ifndef CAIRN_SANDBOX_COMMON_STAGED_ROOT_H
#define CAIRN_SANDBOX_COMMON_STAGED_ROOT_H

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cairn/digest.h"
#include "cairn/sandbox_common/scratch_janitor.h"
#include "cairn/storage.h"

namespace cairn {

struct StagingPlan {
  Digest input_root;
  std::string working_directory;          // relative to the root, "" = the root
  std::vector<std::string> output_paths;  // relative to the working directory
  bool writable_root = false;             // everything a private, writable copy
  // Owner of the writable parts, for sandboxes that switch user for real.
  std::optional<uid_t> owner_uid;
  std::optional<gid_t> owner_gid;
};

class StagedRoot {
 public:
  // `scratch_parent` is created when missing; `prefix` starts the private
  // directory's name ("bwrap-" ...). A root digest missing from the store
  // is FAILED_PRECONDITION naming it. `janitor` (optional, must outlive
  // the StagedRoot) removes the directory in the background.
  static StatusOr<std::unique_ptr<StagedRoot>> Stage(Storage& cas,
                                                     const std::string& scratch_parent,
                                                     const std::string& prefix,
                                                     const StagingPlan& plan,
                                                     ScratchJanitor* janitor = nullptr);
  ~StagedRoot();
  StagedRoot(const StagedRoot&) = delete;
  StagedRoot& operator=(const StagedRoot&) = delete;

  const std::string& scratch_dir() const { return scratch_dir_; }
  const std::string& root_dir() const { return root_dir_; }
  // The working directory as a host path, and as seen inside ("/build").
  std::string working_dir() const;
  std::string working_dir_inside() const { return "/" + plan_.working_directory; }
  // The writable directory to bind read-write ("" when the whole root is).
  bool root_is_writable() const { return root_writable_; }
  std::string stdout_path() const { return scratch_dir_ + "/stdout"; }
  std::string stderr_path() const { return scratch_dir_ + "/stderr"; }

 private:
  explicit StagedRoot(StagingPlan plan) : plan_(std::move(plan)) {}
  Status Populate(Storage& cas);

  StagingPlan plan_;
  ScratchJanitor* janitor_ = nullptr;
  std::string scratch_dir_;
  std::string root_dir_;
  bool root_writable_ = false;
};

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_STAGED_ROOT_H
