// action_caches.h — one ActionCache per REAPI instance name.
//
// Instance "" is the directory ac/ (the layout of every store before
// instances existed, so old stores keep their entries). Any other instance
// lives in ac-instances/<SHA-256 hex of its name>/, created on its first
// update, with the same layout: instances never see each other's entries,
// and no instance name, whatever its characters, becomes a path.
//
// Instance names are checked by ValidateInstanceName: at most
// kMaxInstanceNameLength bytes, no NUL (INVALID_ARGUMENT otherwise). Which
// names a REAPI server accepts beyond that is the server's concern.
// Thread-safe.
#ifndef CAIRN_CAS_LOCAL_ACTION_CACHES_H
#define CAIRN_CAS_LOCAL_ACTION_CACHES_H

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "action_cache.h"

namespace cairn::cas_local {

inline constexpr size_t kMaxInstanceNameLength = 1024;

Status ValidateInstanceName(const std::string& instance);

class ActionCaches {
 public:
  static StatusOr<std::unique_ptr<ActionCaches>> Open(const std::string& root,
                                                      ObjectStore& objects);

  StatusOr<ActionResult> Get(const std::string& instance, const Digest& action);
  Status Update(const std::string& instance, const Digest& action, const ActionResult& result);

  // Over every instance.
  StatusOr<uint64_t> Count();
  Status Verify(bool repair, VerifyReport* report);

 private:
  ActionCaches(std::string root, ObjectStore& objects)
      : root_(std::move(root)), objects_(objects) {}
  // The cache of `relative` ("ac" or "ac-instances/<hash>"), opened (and
  // its directory created) on first use.
  StatusOr<ActionCache*> CacheAt(const std::string& relative);
  // Opens every instance's cache present on disk.
  Status OpenAll();

  std::string root_;
  ObjectStore& objects_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<ActionCache>> caches_;  // by relative directory
};

}  // namespace cairn::cas_local

#endif  // CAIRN_CAS_LOCAL_ACTION_CACHES_H
