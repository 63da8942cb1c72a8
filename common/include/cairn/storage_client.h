// cairn/storage_client.h — a Storage that calls a store through the C ABI.
//
// Used by the host to drive a storage plugin, and by plugins to reach the
// host's active CAS (cairn_host_services.cas). Every call is guarded: an
// exception thrown by the other side becomes INTERNAL, a NULL optional
// operation becomes UNIMPLEMENTED (or, for the action cache of instance "",
// the ABI 1.0 operation). Typed error details the store reports (ABI 1.1
// cairn_error.details) arrive on the returned Status. `name` prefixes error messages
// ("storage plugin cas-local: read_blob: ...").
//
// The ops table and store must outlive the client; the client never closes
// the store.
#ifndef CAIRN_STORAGE_CLIENT_H
#define CAIRN_STORAGE_CLIENT_H

#include <string>

#include "cairn/plugin.h"
#include "cairn/storage.h"

namespace cairn {

class StorageClient : public Storage {
 public:
  StorageClient(const cairn_storage_ops* ops, void* store, std::string name);

  // The ABI 1.1 operations included: a store whose table lacks one (a 1.0
  // plugin, or one that left it NULL) gets the default of cairn/storage.h:
  // flags 0 for Capabilities, UNIMPLEMENTED for the rest.
  CAIRN_STORAGE_OVERRIDES;

 private:
  std::string What(const char* operation) const { return name_ + ": " + operation; }
  Status InstancesUnsupported(const std::string& instance) const;

  const cairn_storage_ops* ops_;
  void* store_;
  std::string name_;
};

}  // namespace cairn

#endif  // CAIRN_STORAGE_CLIENT_H
