// verifier.h — checking every object against its name (cairn cas fsck).
//
// Re-hashes every object on `threads` threads; an object whose content does
// not hash to its name (bit flip, truncation) is reported and, with repair,
// removed, so it counts as missing and is fetched or rebuilt next time.
// An executable variant (object_stager.h) that does not hash to its
// object's name is reported too and, with repair, removed alone: the next
// stage of an executable makes it again from the object.
// Entries of the action cache and references that do not parse are
// handled the same way. Leftover temporary files of killed writers are
// debris, not damage: they are removed without being reported.
#ifndef CAIRN_CAS_LOCAL_VERIFIER_H
#define CAIRN_CAS_LOCAL_VERIFIER_H

#include <string>

#include "cairn/storage.h"
#include "object_store.h"

namespace cairn::cas_local {

class Verifier {
 public:
  Verifier(std::string root, ObjectStore& objects, int threads)
      : root_(std::move(root)), objects_(objects), threads_(threads) {}

  // Objects only; the caller adds the action cache and references.
  Status VerifyObjects(bool repair, VerifyReport* report);

 private:
  std::string root_;
  ObjectStore& objects_;
  int threads_;
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_VERIFIER_H
