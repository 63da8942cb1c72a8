#include "cairn/sandbox_common/staged_root.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "cairn/relative_path.h"
#include "cairn/sandbox_common/file_tree.h"

namespace cairn {

StatusOr<std::unique_ptr<StagedRoot>> StagedRoot::Stage(
    Storage& cas, const std::string& scratch_parent, const std::string& prefix,
    const StagingPlan& plan, StagedRootCache& roots, ScratchJanitor* janitor) {
  std::unique_ptr<StagedRoot> staged(new StagedRoot(plan));
  staged->janitor_ = janitor;
  CAIRN_RETURN_IF_ERROR(
      MakeDirectoriesBelow(scratch_parent.front() == '/' ? "/" : ".", scratch_parent.front() == '/'
                                                                          ? scratch_parent.substr(1)
                                                                          : scratch_parent)
          .WithContext("creating the scratch directory"));
  std::string pattern = JoinPath(scratch_parent, OwnedScratchPrefix(prefix) + "XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return ErrnoStatus("mkdtemp", pattern, errno)
        .WithContext("creating a private scratch directory");
  }
  staged->scratch_dir_ = buffer.data();
  Status populated = staged->Populate(cas, roots);
  if (!populated.ok()) return populated;  // the destructor cleans up
  return staged;
}

Status StagedRoot::Populate(Storage& cas, StagedRootCache& roots) {
  root_writable_ = plan_.writable_root || plan_.working_directory.empty();
  if (root_writable_) {
    CAIRN_RETURN_IF_ERROR(PopulateWritable(cas));
  } else {
    CAIRN_ASSIGN_OR_RETURN(shared_root_,
                           roots.Acquire(cas, plan_.input_root, plan_.working_directory));
    root_dir_ = shared_root_->root_dir();
    CAIRN_RETURN_IF_ERROR(PopulateWorkingDir());
  }
  if (plan_.owner_uid || plan_.owner_gid) {
    uid_t uid = plan_.owner_uid ? *plan_.owner_uid : static_cast<uid_t>(-1);
    gid_t gid = plan_.owner_gid ? *plan_.owner_gid : static_cast<gid_t>(-1);
    std::vector<std::string> writable;
    if (root_writable_) writable.push_back(root_dir_);
    for (const WritableMount& mount : mounts_) writable.push_back(mount.host_dir);
    for (const std::string& dir : writable) {
      CAIRN_RETURN_IF_ERROR(ChownTree(dir, uid, gid)
                                .WithContext("handing the writable directory to unixUID/unixGID"));
    }
  }
  return Status::Ok();
}

Status StagedRoot::PopulateWorkingDir() {
  // The shared root is never written: this run's working directory is a
  // private copy of its content, bound over it.
  std::string working = scratch_dir_ + "/work";
  CAIRN_RETURN_IF_ERROR(CopyTree(JoinPath(root_dir_, plan_.working_directory), working)
                            .WithContext("copying the working directory"));
  for (const std::string& output : plan_.output_paths) {
    CAIRN_RETURN_IF_ERROR(MakeDirectoriesBelow(working, ParentPath(output))
                              .WithContext("the parent of output path " + output));
  }
  mounts_.push_back({working, working_dir_inside()});
  output_dirs_.push_back({"", working});
  return Status::Ok();
}

Status StagedRoot::PopulateWritable(Storage& cas) {
  root_dir_ = scratch_dir_ + "/root";
  if (mkdir(root_dir_.c_str(), 0755) != 0) return ErrnoStatus("mkdir", root_dir_, errno);
  CAIRN_RETURN_IF_ERROR(StageInputRoot(cas, plan_.input_root, root_dir_, /*hardlinks=*/false));
  std::string working = JoinPath(root_dir_, plan_.working_directory);
  CAIRN_RETURN_IF_ERROR(MakeDirectoriesBelow(root_dir_, plan_.working_directory)
                            .WithContext("the working directory"));
  for (const std::string& output : plan_.output_paths) {
    CAIRN_RETURN_IF_ERROR(MakeDirectoriesBelow(working, ParentPath(output))
                              .WithContext("the parent of output path " + output));
  }
  output_dirs_.push_back({"", working});
  return Status::Ok();
}

StagedRoot::~StagedRoot() {
  if (scratch_dir_.empty()) return;
  if (janitor_ != nullptr) {
    janitor_->Dispose(scratch_dir_);
  } else {
    (void)RemoveTree(scratch_dir_);
  }
}

std::string StagedRoot::OutputHostPath(const std::string& output) const {
  std::optional<OutputLocation> location = LocateOutput(output_dirs_, output);
  return location ? JoinPath(location->base, location->relative) : std::string();
}

}  // namespace cairn
