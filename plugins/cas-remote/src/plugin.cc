// The entry point of cairn-cas-remote.so.
#include "cairn/plugin_support.h"
#include "remote_cas.h"

CAIRN_DEFINE_STORAGE_PLUGIN(cairn::cas_remote::RemoteCas, "cas-remote", "1.0.0",
                            "Store on a REAPI server (CAS, action cache, Remote Asset), with a "
                            "bounded local cache of recently read blobs")
