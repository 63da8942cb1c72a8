// asset_qualifiers.h — which Remote Asset qualifiers cairn-server takes,
// and which of them name an asset.
//
// This server never downloads: it serves what was pushed, and a pushed
// asset is found only by its instance, URI and exactly the qualifiers it
// was pushed with (asset_service.cc says why). A qualifier is therefore
// supported when it describes content, so that matching it exactly is
// what a client asking for it means:
//   - the standard names of Remote Asset's qualifiers.md: resource_type,
//     checksum.sri, directory, vcs.branch, vcs.commit;
//   - bazel.canonical_id, which Bazel's remote downloader sends;
//   - cache-key, which Cairn's own artifact store pushes and fetches with.
// Bazel's downloader also sends http_header:NAME, http_header_url:N:NAME
// and (older Bazel) bazel.auth_headers. They say how to reach the origin,
// which this server never contacts, and say nothing about the content, so
// they are accepted and left out of the key; a fetch that carries
// credentials still finds what was pushed without them.
// Any other name is unsupported: INVALID_ARGUMENT, as the Remote Asset
// API requires, with one google.rpc.BadRequest violation per name
// {field "qualifiers.name", description "\"NAME\" not supported"}.
#ifndef CAIRN_SERVER_ASSET_QUALIFIERS_H
#define CAIRN_SERVER_ASSET_QUALIFIERS_H

#include <google/protobuf/repeated_ptr_field.h>

#include "build/bazel/remote/asset/v1/remote_asset.pb.h"
#include "cairn/status.h"

namespace cairn::server {

using AssetQualifiers =
    google::protobuf::RepeatedPtrField<build::bazel::remote::asset::v1::Qualifier>;

// The qualifiers of a Fetch or Push request that are part of the asset's
// key, in the request's order. INVALID_ARGUMENT for a name given twice
// (BadRequest field "qualifiers", as the store says it) or for
// unsupported names (see above; every one of them listed).
StatusOr<AssetQualifiers> KeyQualifiers(const AssetQualifiers& given);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_ASSET_QUALIFIERS_H
