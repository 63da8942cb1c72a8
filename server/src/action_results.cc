#include "action_results.h"

namespace cairn::server {

namespace reapi = build::bazel::remote::execution::v2;

StatusOr<std::vector<Digest>> ReferencedBlobs(Storage& storage, const ActionResult& result) {
  std::vector<Digest> blobs;
  for (const auto& file : result.output_files()) blobs.push_back(file.digest());
  if (result.has_stdout_digest()) blobs.push_back(result.stdout_digest());
  if (result.has_stderr_digest()) blobs.push_back(result.stderr_digest());
  for (const auto& directory : result.output_directories()) {
    blobs.push_back(directory.tree_digest());
    StatusOr<reapi::Tree> tree = storage.ReadMessage<reapi::Tree>(directory.tree_digest());
    if (!tree.ok()) {
      if (tree.status().code() == Code::kNotFound) continue;  // listed above as missing
      return tree.status();
    }
    auto add_files = [&](const reapi::Directory& node) {
      for (const auto& file : node.files()) blobs.push_back(file.digest());
    };
    add_files(tree->root());
    for (const auto& child : tree->children()) add_files(child);
  }
  return blobs;
}

StatusOr<ActionResult> LookupCompleteResult(Storage& storage, const std::string& instance,
                                            const Digest& action) {
  CAIRN_ASSIGN_OR_RETURN(ActionResult result, storage.GetActionResult(instance, action));
  CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> blobs, ReferencedBlobs(storage, result));
  CAIRN_ASSIGN_OR_RETURN(std::vector<Digest> missing, storage.FindMissing(blobs));
  if (!missing.empty()) {
    return NotFound("the cached result of action " + DigestToString(action) + " references " +
                    std::to_string(missing.size()) + " blob(s) no longer in the CAS, such as " +
                    DigestToString(missing.front()));
  }
  return result;
}

void InlineContents(Storage& storage, const InlineRequest& wanted, uint64_t budget,
                    ActionResult* result) {
  auto take = [&](const Digest& digest, std::string* into) {
    if (static_cast<uint64_t>(digest.size_bytes()) > budget) return;
    StatusOr<std::string> data = storage.ReadBlob(digest);
    if (!data.ok()) return;
    budget -= data->size();
    *into = std::move(data).value();
  };
  if (wanted.stdout_raw && result->has_stdout_digest()) {
    take(result->stdout_digest(), result->mutable_stdout_raw());
  }
  if (wanted.stderr_raw && result->has_stderr_digest()) {
    take(result->stderr_digest(), result->mutable_stderr_raw());
  }
  for (auto& file : *result->mutable_output_files()) {
    for (const std::string& path : wanted.output_files) {
      if (path == file.path()) take(file.digest(), file.mutable_contents());
    }
  }
}

}  // namespace cairn::server
