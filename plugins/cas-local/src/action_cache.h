// action_cache.h — ActionResults by action digest, under ac/.
//
// An entry is the file <directory>/<2 hex>/<62 hex>-<size> holding a
// serialized ActionResult; one ActionCache is one instance's directory (see
// action_caches.h). Update first checks that every blob the result names
// directly (output files, output directory trees, stdout, stderr) is in the
// store, refreshing their LRU signal, then makes all objects durable with
// one syncfs, then writes the entry atomically (temp, fsync, rename): an
// entry never points at content that was not durably written. Get treats an
// entry whose blobs were evicted, or that does not parse, as a miss.
// Thread-safe; safe across processes (last writer wins).
#ifndef CAIRN_CAS_LOCAL_ACTION_CACHE_H
#define CAIRN_CAS_LOCAL_ACTION_CACHE_H

#include <functional>
#include <string>
#include <vector>

#include "cairn/storage.h"
#include "object_store.h"

namespace cairn::cas_local {

class ActionCache {
 public:
  // `root` is the store directory, `relative` this cache's directory below
  // it (created if absent), e.g. "ac".
  static StatusOr<std::unique_ptr<ActionCache>> Open(const std::string& root,
                                                     const std::string& relative,
                                                     ObjectStore& objects);

  StatusOr<ActionResult> Get(const Digest& action);
  Status Update(const Digest& action, const ActionResult& result);

  StatusOr<uint64_t> Count() const;
  // Reports (and with `repair` removes) entries that do not parse.
  Status Verify(bool repair, VerifyReport* report);

 private:
  ActionCache(ObjectStore& objects) : objects_(objects) {}
  static std::string EntryPath(const Digest& action);

  std::string relative_;
  UniqueFd ac_fd_;
  ObjectStore& objects_;
};

// Every blob an ActionResult names directly.
std::vector<Digest> ReferencedDigests(const ActionResult& result);

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_ACTION_CACHE_H
