#include "action_cache.h"

#include <fcntl.h>
#include <unistd.h>

#include "file_util.h"

namespace cairn::cas_local {

std::vector<Digest> ReferencedDigests(const ActionResult& result) {
  std::vector<Digest> digests;
  for (const auto& file : result.output_files()) digests.push_back(file.digest());
  for (const auto& directory : result.output_directories()) {
    if (directory.has_tree_digest()) digests.push_back(directory.tree_digest());
    if (directory.has_root_directory_digest()) digests.push_back(directory.root_directory_digest());
  }
  if (result.has_stdout_digest()) digests.push_back(result.stdout_digest());
  if (result.has_stderr_digest()) digests.push_back(result.stderr_digest());
  return digests;
}

StatusOr<std::unique_ptr<ActionCache>> ActionCache::Open(const std::string& root,
                                                         const std::string& relative,
                                                         ObjectStore& objects) {
  std::unique_ptr<ActionCache> cache(new ActionCache(objects));
  cache->relative_ = relative;
  std::string directory = root + "/" + relative;
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(directory));
  CAIRN_ASSIGN_OR_RETURN(cache->ac_fd_, OpenDirectory(AT_FDCWD, directory));
  return cache;
}

std::string ActionCache::EntryPath(const Digest& action) {
  return ObjectStore::RelativePath(action.hash()) + "-" + std::to_string(action.size_bytes());
}

StatusOr<ActionResult> ActionCache::Get(const Digest& action) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(action));
  std::string what = "action result for " + DigestToString(action);
  StatusOr<std::string> bytes = ReadFileAt(ac_fd_.get(), EntryPath(action));
  if (!bytes.ok()) {
    if (bytes.status().code() == Code::kNotFound) return NotFound("no " + what + " in the cache");
    return bytes.status().WithContext("reading " + what);
  }
  ActionResult result;
  if (!result.ParseFromString(*bytes)) {
    return NotFound(what + " is corrupt (run `cairn cas fsck`)");
  }
  for (const Digest& digest : ReferencedDigests(result)) {
    CAIRN_ASSIGN_OR_RETURN(bool present, objects_.Contains(digest));
    if (!present) {
      return NotFound(what + " names blob " + DigestToString(digest) +
                      ", which is no longer in the store");
    }
  }
  return result;
}

Status ActionCache::Update(const Digest& action, const ActionResult& result) {
  CAIRN_RETURN_IF_ERROR(ValidateDigest(action));
  for (const Digest& digest : ReferencedDigests(result)) {
    CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
    CAIRN_ASSIGN_OR_RETURN(bool present, objects_.Contains(digest, /*force_touch=*/true));
    if (!present) {
      return FailedPrecondition("action result for " + DigestToString(action) + " names blob " +
                                DigestToString(digest) + ", which is not in the store");
    }
  }
  CAIRN_RETURN_IF_ERROR(objects_.SyncToDisk());
  return WriteFileAtomically(ac_fd_.get(), EntryPath(action), result.SerializeAsString());
}

StatusOr<uint64_t> ActionCache::Count() const {
  uint64_t count = 0;
  CAIRN_RETURN_IF_ERROR(ForEachEntryInShards(
      ac_fd_.get(), [&](const std::string&, int, const std::string&) { ++count; }));
  return count;
}

Status ActionCache::Verify(bool repair, VerifyReport* report) {
  return ForEachEntryInShards(
      ac_fd_.get(), [&](const std::string& shard, int shard_fd, const std::string& name) {
        StatusOr<std::string> bytes = ReadFileAt(shard_fd, name);
        ActionResult result;
        if (bytes.ok() && result.ParseFromString(*bytes)) return;
        ++report->problems;
        report->lines += "corrupt action result " + relative_ + "/" + shard + "/" + name +
                         (repair ? " (removed)" : "") + "\n";
        if (repair) ::unlinkat(shard_fd, name.c_str(), 0);
      });
}

}  // namespace cairn::cas_local
