// object_stager.h — putting one object of the store at a name in a staging
// directory, and refusing to stage one that is no longer what was written.
//
// By hardlink (Link): the link is made, then the linked file is checked
// cheaply: a regular file of the digest's size, mode 0444 (0555 for the
// executable variant) and mtime kReproducibleMtime with no nanoseconds.
// Any write to an object moves its mtime, and the store never changes an
// object's mode or mtime once it is written, so a mismatch means the object
// was modified. (The change time cannot serve: every hardlink and every LRU
// touch moves it.) With `verify` (the store's verify-on-stage option) the
// linked bytes are hashed as well.
//   - A file of another size than the digest says is NOT_FOUND naming the
//     digest, the object kept: the digest may be the liar (a hostile tree).
//   - A modified or corrupt object is removed (with its executable variant)
//     and is NOT_FOUND naming the digest, so the caller fetches or rebuilds.
// The link made is removed in both cases.
//
// By copy (Copy): the bytes are hashed as they are copied (they are read
// anyway); a copy that does not hash to the digest removes the object and
// is NOT_FOUND naming the digest. The caller removes what was written.
//
// Executable variant: objects/ab/<62 hex>.x, a copy of the object with mode
// 0555 made on first use from a verified copy, so executables hardlink too.
// It is removed with its object (ObjectStore::RemoveObject), its uses count
// as uses of the object for the garbage collector, and its bytes are not
// counted towards the quota. ObjectStore::ForEachObject does not list it.
//
// Thread-safe, like the ObjectStore it works on.
#ifndef CAIRN_CAS_LOCAL_OBJECT_STAGER_H
#define CAIRN_CAS_LOCAL_OBJECT_STAGER_H

#include <string>

#include "cairn/digest.h"
#include "cairn/status.h"
#include "object_store.h"

namespace cairn::cas_local {

class ObjectStager {
 public:
  ObjectStager(ObjectStore& objects, bool verify) : objects_(objects), verify_(verify) {}

  // Hard-links the object (or its executable variant) to dir_fd/name, which
  // must not exist. *error_number is the errno of a failed linkat (EEXIST,
  // EXDEV, EMLINK... so the caller can fall back to a copy), else 0.
  Status Link(const Digest& digest, bool executable, int dir_fd, const char* name,
              int* error_number);

  // Copies the object's bytes to out_fd, verifying them; `where` names the
  // destination in errors.
  Status Copy(const Digest& digest, int out_fd, const std::string& where);

 private:
  // Checks the file just linked at dir_fd/name; see the header comment.
  Status CheckLinked(const Digest& digest, bool executable, int dir_fd, const char* name);
  // Creates the executable variant when absent.
  Status EnsureExecutableVariant(const Digest& digest);
  Status Corrupt(const Digest& digest, const std::string& why);

  ObjectStore& objects_;
  bool verify_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_OBJECT_STAGER_H
