// reference_store.h — named references (artifacts, Remote Asset), under refs/.
//
// A reference "artifacts/project/element/key" is the file
// refs/artifacts/project/element/key holding a serialized Digest. Every
// component of the name must pass ValidateName (so a name can never address
// a file outside refs/). Set requires the named blob to be present, makes
// all objects durable (one syncfs) and then writes the file atomically. Get
// of a reference whose blob was evicted is NOT_FOUND. Thread-safe.
#ifndef CAIRN_CAS_LOCAL_REFERENCE_STORE_H
#define CAIRN_CAS_LOCAL_REFERENCE_STORE_H

#include <memory>
#include <string>

#include "cairn/storage.h"
#include "object_store.h"

namespace cairn::cas_local {

class ReferenceStore {
 public:
  static StatusOr<std::unique_ptr<ReferenceStore>> Open(const std::string& root,
                                                        ObjectStore& objects);

  StatusOr<Digest> Get(const std::string& name);
  Status Set(const std::string& name, const Digest& digest);

  StatusOr<uint64_t> Count() const;
  // Reports (and with `repair` removes) references that do not parse.
  Status Verify(bool repair, VerifyReport* report);

 private:
  explicit ReferenceStore(ObjectStore& objects) : objects_(objects) {}
  Status ValidateReferenceName(const std::string& name) const;
  Status Visit(int dir_fd, const std::string& prefix,
               const std::function<void(int dir_fd, const std::string& path, const char* name)>&
                   visit) const;

  std::string directory_;
  UniqueFd refs_fd_;
  ObjectStore& objects_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_REFERENCE_STORE_H
