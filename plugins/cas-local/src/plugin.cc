// The entry point of cairn-cas-local.so.
#include "cairn/plugin_support.h"
#include "local_cas.h"

CAIRN_DEFINE_STORAGE_PLUGIN(cairn::cas_local::LocalCas, "cas-local", "1.0.0",
                            "Content-addressable store in a directory on the local disk")
