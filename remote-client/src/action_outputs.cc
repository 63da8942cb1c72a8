#include "cairn/remote_client/action_outputs.h"

#include <map>
#include <set>

namespace cairn::remote_client {

namespace reapi = build::bazel::remote::execution::v2;

namespace {

// Stores one Directory of a Tree, checking it is the one its parent names.
StatusOr<Digest> StoreDirectory(const reapi::Directory& directory, Storage& local) {
  std::string bytes = directory.SerializeAsString();
  return local.WriteBlob(bytes, DigestOfBytes(bytes));
}

// Stores the Directories of the Tree message `tree_digest` (already local)
// and adds the files they name to `files`. The root's digest.
StatusOr<Digest> StoreTree(const Digest& tree_digest, Storage& local, std::set<Digest>* files) {
  CAIRN_ASSIGN_OR_RETURN(std::string bytes, local.ReadBlob(tree_digest));
  reapi::Tree tree;
  if (!tree.ParseFromString(bytes)) {
    return DataLoss("output tree " + DigestToString(tree_digest) + " is not a REAPI Tree");
  }
  std::set<Digest> stored;
  CAIRN_ASSIGN_OR_RETURN(Digest root, StoreDirectory(tree.root(), local));
  stored.insert(root);
  for (const reapi::Directory& child : tree.children()) {
    CAIRN_ASSIGN_OR_RETURN(Digest digest, StoreDirectory(child, local));
    stored.insert(digest);
  }
  auto visit = [&](const reapi::Directory& directory) -> Status {
    for (const auto& file : directory.files()) files->insert(file.digest());
    for (const auto& node : directory.directories()) {
      if (stored.count(node.digest()) == 0) {
        return DataLoss("output tree " + DigestToString(tree_digest) + " lacks directory " +
                        DigestToString(node.digest()) + " (" + node.name() + ")");
      }
    }
    return Status::Ok();
  };
  CAIRN_RETURN_IF_ERROR(visit(tree.root()));
  for (const reapi::Directory& child : tree.children()) CAIRN_RETURN_IF_ERROR(visit(child));
  return root;
}

// Inline bytes stored locally under their digest.
Status StoreInline(const std::string& raw, Digest* digest, Storage& local) {
  CAIRN_ASSIGN_OR_RETURN(Digest stored, local.WriteBlob(raw));
  if (digest->hash().empty()) *digest = stored;
  return Status::Ok();
}

}  // namespace

std::vector<Digest> ActionResultBlobs(const reapi::ActionResult& result) {
  std::vector<Digest> blobs;
  for (const auto& file : result.output_files()) blobs.push_back(file.digest());
  for (const auto& directory : result.output_directories()) {
    blobs.push_back(directory.tree_digest());
    if (directory.has_root_directory_digest()) blobs.push_back(directory.root_directory_digest());
  }
  if (result.has_stdout_digest()) blobs.push_back(result.stdout_digest());
  if (result.has_stderr_digest()) blobs.push_back(result.stderr_digest());
  return blobs;
}

Status FetchActionOutputs(CasClient& cas, reapi::ActionResult* result, Storage& local) {
  std::vector<Digest> trees;
  for (const auto& directory : result->output_directories()) {
    trees.push_back(directory.tree_digest());
  }
  CAIRN_RETURN_IF_ERROR(cas.Download(trees, local));
  std::set<Digest> blobs;
  for (auto& directory : *result->mutable_output_directories()) {
    CAIRN_ASSIGN_OR_RETURN(Digest root, StoreTree(directory.tree_digest(), local, &blobs));
    if (!directory.has_root_directory_digest()) *directory.mutable_root_directory_digest() = root;
  }
  for (const auto& file : result->output_files()) blobs.insert(file.digest());
  if (!result->stdout_raw().empty()) {
    CAIRN_RETURN_IF_ERROR(
        StoreInline(result->stdout_raw(), result->mutable_stdout_digest(), local));
  } else if (result->has_stdout_digest()) {
    blobs.insert(result->stdout_digest());
  }
  if (!result->stderr_raw().empty()) {
    CAIRN_RETURN_IF_ERROR(
        StoreInline(result->stderr_raw(), result->mutable_stderr_digest(), local));
  } else if (result->has_stderr_digest()) {
    blobs.insert(result->stderr_digest());
  }
  // The empty blob is in no CAS's list of blobs to send, and every store
  // has it.
  blobs.erase(EmptyDigest());
  return cas.Download(std::vector<Digest>(blobs.begin(), blobs.end()), local);
}

}  // namespace cairn::remote_client
