#include "cairn/sandbox_common/staged_root.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "cairn/directory_rules.h"
#include "cairn/relative_path.h"
#include "cairn/sandbox_common/file_tree.h"

namespace cairn {
namespace {

// Whether every output path names a directory of the input root, reached
// through directories only, and outside the sandbox's own mounts. Read
// from the store's Directory messages, so the decision costs no staging; a
// message that cannot be read says no, and staging the whole root then
// reports the problem as it always has.
bool OutputsAreInputDirectories(Storage& cas, const Digest& input_root,
                                const std::vector<std::string>& outputs) {
  if (outputs.empty()) return false;
  std::map<std::string, Directory> read;  // by digest: outputs share parents
  auto directory = [&](const Digest& digest) -> const Directory* {
    std::string key = DigestToString(digest);
    auto found = read.find(key);
    if (found != read.end()) return &found->second;
    StatusOr<Directory> message = cas.ReadMessage<Directory>(digest);
    if (!message.ok()) return nullptr;
    return &read.emplace(key, std::move(*message)).first->second;
  };
  for (const std::string& output : outputs) {
    std::vector<std::string> components = SplitPath(output);
    if (components.empty()) return false;
    const std::string& top = components.front();
    if (top == "proc" || top == "dev" || top == "tmp") return false;
    const Directory* current = directory(input_root);
    for (const std::string& component : components) {
      if (current == nullptr) return false;
      const Digest* child = nullptr;
      for (const auto& node : current->directories()) {
        if (node.name() == component) child = &node.digest();
      }
      if (child == nullptr) return false;  // missing, a file or a symlink
      current = directory(*child);
    }
    if (current == nullptr) return false;
  }
  return true;
}

}  // namespace

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
  bool root_is_working_dir = plan_.working_directory.empty();
  root_writable_ = plan_.writable_root ||
                   (root_is_working_dir &&
                    !OutputsAreInputDirectories(cas, plan_.input_root, plan_.output_paths));
  if (root_writable_) {
    CAIRN_ASSIGN_OR_RETURN(bool overlaid, PopulateOverlay(cas, roots));
    if (!overlaid) CAIRN_RETURN_IF_ERROR(PopulateWritable(cas));
  } else {
    CAIRN_ASSIGN_OR_RETURN(shared_root_,
                           roots.Acquire(cas, plan_.input_root, plan_.working_directory));
    root_dir_ = shared_root_->root_dir();
    CAIRN_RETURN_IF_ERROR(root_is_working_dir ? PopulateOutputDirs() : PopulateWorkingDir());
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

Status StagedRoot::PopulateOutputDirs() {
  // Only the output directories are copied, not the whole root: an element
  // staging 20,000 dependency files would otherwise copy (and later
  // remove) every one of them per build. An output below another one is
  // reached through the outer copy, which also holds its content, so the
  // outer output is captured with whatever the command wrote inside it.
  std::string work = scratch_dir_ + "/work";
  if (mkdir(work.c_str(), 0700) != 0) return ErrnoStatus("mkdir", work, errno);
  std::vector<std::string> outputs = plan_.output_paths;
  std::sort(outputs.begin(), outputs.end());  // outer ones first
  std::set<std::string> copied;
  for (const std::string& output : outputs) {
    bool inside_copied = false;
    for (std::string parent = ParentPath(output); !parent.empty(); parent = ParentPath(parent)) {
      inside_copied |= copied.count(parent) > 0;
    }
    if (inside_copied || !copied.insert(output).second) continue;
    std::string copy = JoinPath(work, output);
    CAIRN_RETURN_IF_ERROR(MakeDirectoriesBelow(work, ParentPath(output)));
    CAIRN_RETURN_IF_ERROR(CopyTree(JoinPath(root_dir_, output), copy)
                              .WithContext("copying output directory " + output));
    mounts_.push_back({copy, "/" + output});
    output_dirs_.push_back({output, copy});
  }
  return Status::Ok();
}

StatusOr<bool> StagedRoot::PopulateOverlay(Storage& cas, StagedRootCache& roots) {
  if (!TakesOverlayRoot(plan_, scratch_dir_)) return false;
  CAIRN_ASSIGN_OR_RETURN(shared_root_, roots.Acquire(cas, plan_.input_root, ""));
  if (!OverlayPathUsable(shared_root_->root_dir())) {
    shared_root_.reset();
    return false;
  }
  OverlayRoot overlay{shared_root_->root_dir(), scratch_dir_ + "/upper",
                      scratch_dir_ + "/overlay-work", scratch_dir_ + "/merged"};
  for (const std::string* dir : {&overlay.upper, &overlay.work, &overlay.merged}) {
    if (mkdir(dir->c_str(), 0755) != 0) return ErrnoStatus("mkdir", *dir, errno);
  }
  // A working directory the input root lacks is made in the upper layer.
  CAIRN_RETURN_IF_ERROR(MakeDirectoriesBelow(overlay.upper, plan_.working_directory)
                            .WithContext("the working directory"));
  root_dir_ = overlay.lower;
  overlay_ = std::move(overlay);
  return true;
}

bool TakesOverlayRoot(const StagingPlan& plan, const std::string& scratch_parent) {
  return plan.overlay_allowed && !plan.host_tools && plan.output_paths.empty() &&
         (plan.writable_root || plan.working_directory.empty()) && !plan.owner_uid &&
         !plan.owner_gid && OverlayPathUsable(scratch_parent);
}

bool OverlayPathUsable(const std::string& path) {
  return path.find_first_of(",:\\") == std::string::npos;
}

std::string OverlayRoot::MountData() const {
  // volatile: the upper layer is thrown away with the run, so nothing need
  // reach the disk; without it, unmounting the overlay (when the run's
  // last process exits) syncs the whole filesystem the upper layer is on.
  return "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + ",volatile";
}

Status StagedRoot::PopulateWritable(Storage& cas) {
  root_dir_ = scratch_dir_ + "/root";
  if (mkdir(root_dir_.c_str(), 0755) != 0) return ErrnoStatus("mkdir", root_dir_, errno);
  CAIRN_RETURN_IF_ERROR(StageInputRoot(cas, plan_.input_root, root_dir_, /*hardlinks=*/false,
                                       /*mount_points=*/!plan_.host_tools));
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
