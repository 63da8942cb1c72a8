#include "cairn/sandbox_common/staged_root.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "cairn/sandbox_common/file_tree.h"
#include "cairn/sandbox_common/relative_path.h"

namespace cairn {
namespace {

// The mount points every local sandbox needs inside the root.
constexpr const char* kMountPoints[] = {"proc", "dev", "tmp"};

Status EnsureMountPoint(const std::string& root, const std::string& name) {
  std::string path = root + "/" + name;
  struct stat info {};
  if (lstat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode)) return Status::Ok();
    return FailedPrecondition("the input root is unusable: /" + name +
                              " is not a directory, and the sandbox mounts a private /" + name +
                              " there");
  }
  if (errno != ENOENT) return ErrnoStatus("lstat", path, errno);
  if (mkdir(path.c_str(), 0755) != 0) return ErrnoStatus("mkdir", path, errno);
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<StagedRoot>> StagedRoot::Stage(Storage& cas,
                                                        const std::string& scratch_parent,
                                                        const std::string& prefix,
                                                        const StagingPlan& plan,
                                                        ScratchJanitor* janitor) {
  std::unique_ptr<StagedRoot> staged(new StagedRoot(plan));
  staged->janitor_ = janitor;
  CAIRN_RETURN_IF_ERROR(MakeDirectories(scratch_parent.front() == '/' ? "/" : ".",
                                        scratch_parent.front() == '/' ? scratch_parent.substr(1)
                                                                      : scratch_parent)
                            .WithContext("creating the scratch directory"));
  std::string pattern = JoinPath(scratch_parent, prefix + "XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) {
    return ErrnoStatus("mkdtemp", pattern, errno).WithContext("creating a private scratch directory");
  }
  staged->scratch_dir_ = buffer.data();
  staged->root_dir_ = staged->scratch_dir_ + "/root";
  Status populated = staged->Populate(cas);
  if (!populated.ok()) return populated;  // the destructor cleans up
  return staged;
}

Status StagedRoot::Populate(Storage& cas) {
  if (mkdir(root_dir_.c_str(), 0755) != 0) return ErrnoStatus("mkdir", root_dir_, errno);
  root_writable_ = plan_.writable_root || plan_.working_directory.empty();
  StageOptions options;
  options.hardlinks = !root_writable_;
  Status staged = cas.StageTree(plan_.input_root, root_dir_, options);
  if (!staged.ok()) {
    if (staged.code() == Code::kNotFound) {
      return FailedPrecondition("the input root " + DigestToString(plan_.input_root) +
                                " (or something below it) is not in the CAS: " +
                                staged.message());
    }
    return staged.WithContext("staging the input root " + DigestToString(plan_.input_root));
  }
  for (const char* name : kMountPoints) CAIRN_RETURN_IF_ERROR(EnsureMountPoint(root_dir_, name));

  CAIRN_RETURN_IF_ERROR(MakeDirectories(root_dir_, plan_.working_directory)
                            .WithContext("the working directory"));
  std::string working = working_dir();
  for (const std::string& output : plan_.output_paths) {
    CAIRN_RETURN_IF_ERROR(MakeDirectories(working, ParentPath(output))
                              .WithContext("the parent of output path " + output));
  }
  if (!root_writable_) {
    // The working directory is mounted read-write: nothing in it may still
    // share an inode with the store.
    CAIRN_RETURN_IF_ERROR(ReplaceHardlinksWithCopies(working)
                              .WithContext("copying the working directory"));
  }
  if (plan_.owner_uid || plan_.owner_gid) {
    uid_t uid = plan_.owner_uid ? *plan_.owner_uid : static_cast<uid_t>(-1);
    gid_t gid = plan_.owner_gid ? *plan_.owner_gid : static_cast<gid_t>(-1);
    CAIRN_RETURN_IF_ERROR(ChownTree(root_writable_ ? root_dir_ : working, uid, gid)
                              .WithContext("handing the writable directory to unixUID/unixGID"));
  }
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

std::string StagedRoot::working_dir() const {
  return JoinPath(root_dir_, plan_.working_directory);
}

}  // namespace cairn
