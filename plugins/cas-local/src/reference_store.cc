#include "reference_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <vector>

#include "cairn/merkle.h"
#include "file_util.h"

namespace cairn::cas_local {

StatusOr<std::unique_ptr<ReferenceStore>> ReferenceStore::Open(const std::string& root,
                                                               ObjectStore& objects) {
  std::unique_ptr<ReferenceStore> refs(new ReferenceStore(objects));
  refs->directory_ = root + "/refs";
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(refs->directory_));
  CAIRN_ASSIGN_OR_RETURN(refs->refs_fd_, OpenDirectory(AT_FDCWD, refs->directory_));
  return refs;
}

Status ReferenceStore::ValidateReferenceName(const std::string& name) const {
  size_t start = 0;
  for (;;) {
    size_t end = name.find('/', start);
    std::string component = name.substr(start, end == std::string::npos ? end : end - start);
    Status valid = ValidateName(component);
    if (!valid.ok()) {
      return InvalidArgument("invalid reference name '" + name + "': " + valid.message());
    }
    if (component[0] == '.') {
      return InvalidArgument("invalid reference name '" + name +
                             "': a component must not start with '.'");
    }
    if (end == std::string::npos) return Status::Ok();
    start = end + 1;
  }
}

StatusOr<Digest> ReferenceStore::Get(const std::string& name) {
  CAIRN_RETURN_IF_ERROR(ValidateReferenceName(name));
  StatusOr<std::string> bytes = ReadFileAt(refs_fd_.get(), name);
  if (!bytes.ok()) {
    if (bytes.status().code() == Code::kNotFound ||
        bytes.status().code() == Code::kFailedPrecondition) {
      return NotFound("reference '" + name + "' is not set");
    }
    return bytes.status().WithContext("reading reference '" + name + "'");
  }
  StatusOr<Digest> digest = DigestFromWire(*bytes);
  if (!digest.ok()) return NotFound("reference '" + name + "' is corrupt (run `cairn cas fsck`)");
  CAIRN_ASSIGN_OR_RETURN(bool present, objects_.Contains(*digest));
  if (!present) {
    return NotFound("reference '" + name + "' names blob " + DigestToString(*digest) +
                    ", which is no longer in the store");
  }
  return digest;
}

Status ReferenceStore::Set(const std::string& name, const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(ValidateReferenceName(name));
  CAIRN_RETURN_IF_ERROR(ValidateDigest(digest));
  CAIRN_ASSIGN_OR_RETURN(bool present, objects_.Contains(digest, /*force_touch=*/true));
  if (!present) {
    return FailedPrecondition("reference '" + name + "' cannot name blob " +
                              DigestToString(digest) + ": it is not in the store");
  }
  CAIRN_RETURN_IF_ERROR(objects_.SyncToDisk());
  return WriteFileAtomically(refs_fd_.get(), name, DigestToWire(digest));
}

Status ReferenceStore::Visit(
    int dir_fd, const std::string& prefix,
    const std::function<void(int dir_fd, const std::string& path, const char* name)>& visit) const {
  std::vector<std::pair<std::string, unsigned char>> entries;
  CAIRN_RETURN_IF_ERROR(ForEachEntry(dir_fd, [&](const char* name, unsigned char type) {
    if (name[0] != '.') entries.emplace_back(name, type);
  }));
  for (const auto& [name, type] : entries) {
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    if (type == DT_DIR) {
      StatusOr<UniqueFd> child = OpenDirectory(dir_fd, name, false);
      if (child.ok()) CAIRN_RETURN_IF_ERROR(Visit(child->get(), path, visit));
    } else {
      visit(dir_fd, path, name.c_str());
    }
  }
  return Status::Ok();
}

StatusOr<uint64_t> ReferenceStore::Count() const {
  uint64_t count = 0;
  CAIRN_RETURN_IF_ERROR(
      Visit(refs_fd_.get(), "", [&](int, const std::string&, const char*) { ++count; }));
  return count;
}

Status ReferenceStore::Verify(bool repair, VerifyReport* report) {
  return Visit(refs_fd_.get(), "", [&](int dir_fd, const std::string& path, const char* name) {
    StatusOr<std::string> bytes = ReadFileAt(dir_fd, name);
    if (bytes.ok() && DigestFromWire(*bytes).ok()) return;
    ++report->problems;
    report->lines += "corrupt reference '" + path + "'" + (repair ? " (removed)" : "") + "\n";
    if (repair) ::unlinkat(dir_fd, name, 0);
  });
}

}  // namespace cairn::cas_local
