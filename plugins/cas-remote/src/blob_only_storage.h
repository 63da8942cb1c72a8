// blob_only_storage.h — the base of the Storage views cas-remote hands to
// the remote client (its local cache, and the sources of an upload).
//
// CasClient moves blobs between a remote CAS and "a local Storage", and
// needs only the blob operations of one. The views here implement those;
// everything else is refused with UNIMPLEMENTED naming the view, so a
// mistaken use is loud instead of silently empty.
#ifndef CAIRN_CAS_REMOTE_BLOB_ONLY_STORAGE_H
#define CAIRN_CAS_REMOTE_BLOB_ONLY_STORAGE_H

#include <string>

#include "cairn/storage.h"

namespace cairn::cas_remote {

class BlobOnlyStorage : public Storage {
 public:
  // `name` says which view refused an operation.
  explicit BlobOnlyStorage(std::string name) : name_(std::move(name)) {}

  // The ABI 1.1 operations keep Storage's defaults (UNIMPLEMENTED).
  CAIRN_STORAGE_REQUIRED_OVERRIDES;

 protected:
  Status Refuse(const std::string& operation) const;

 private:
  std::string name_;
};

}  // namespace cairn::cas_remote

#endif  // CAIRN_CAS_REMOTE_BLOB_ONLY_STORAGE_H
