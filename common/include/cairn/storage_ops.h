// cairn/storage_ops.h — exports a C++ Storage through the C ABI.
//
// MakeStorageOps() returns the cairn_storage_ops table (ABI 1.1, every
// operation present) whose `store` argument is a Storage*. A storage plugin
// written in C++ uses it for its vtable's `ops`; the host uses it to hand
// its (possibly decorated) active store to sandbox plugins as
// cairn_host_services.cas. Every callback is guarded: exceptions become
// INTERNAL, and nothing throws across the ABI.
//
// `details` says whether the side calling these operations passes a
// cairn_error with the ABI 1.1 `details` field: DetailsFor(its minor).
#ifndef CAIRN_STORAGE_OPS_H
#define CAIRN_STORAGE_OPS_H

#include "cairn/abi.h"
#include "cairn/plugin.h"
#include "cairn/storage.h"

namespace cairn {

// A static table, valid for the life of the process. Pass a Storage* as
// the `store` argument of each operation.
const cairn_storage_ops* MakeStorageOps(ErrorDetails details);

// StorageStats <-> the ABI's cairn_storage_stats. StatsToAbi fills only
// what the caller's struct (its struct_size) has room for.
void StatsToAbi(const StorageStats& stats, cairn_storage_stats* out);
StorageStats StatsFromAbi(const cairn_storage_stats& raw);

// StorageCapabilities <-> cairn_storage_capabilities (ABI 1.1), likewise
// filling only what the caller's struct_size has room for.
void CapabilitiesToAbi(const StorageCapabilities& capabilities, cairn_storage_capabilities* out);
StorageCapabilities CapabilitiesFromAbi(const cairn_storage_capabilities& raw);

}  // namespace cairn

#endif  // CAIRN_STORAGE_OPS_H
