// cairn/remote_client/action_outputs.h — bringing an ActionResult's
// outputs from a remote CAS into the local store.
//
// After FetchActionOutputs the result means locally what it meant
// remotely: every output file, every file and Directory of every output
// directory (each OutputDirectory then also has root_directory_digest),
// and stdout / stderr are in `local`. Inline stdout_raw / stderr_raw are
// stored and given their digests, so the result reads the same as one
// produced by a local sandbox. Only blobs `local` lacks are downloaded, in
// batches. NOT_FOUND when the remote has lost a blob the result names
// (the caller may treat a cached result as a miss then).
#ifndef CAIRN_REMOTE_CLIENT_ACTION_OUTPUTS_H
#define CAIRN_REMOTE_CLIENT_ACTION_OUTPUTS_H

#include <vector>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/digest.h"
#include "cairn/remote_client/cas_client.h"
#include "cairn/status.h"
#include "cairn/storage.h"

namespace cairn::remote_client {

Status FetchActionOutputs(CasClient& cas, build::bazel::remote::execution::v2::ActionResult* result,
                          Storage& local);

// Every blob `result` names: output files, Tree messages and (when set)
// root directories, stdout and stderr digests. Not the contents of trees.
std::vector<Digest> ActionResultBlobs(
    const build::bazel::remote::execution::v2::ActionResult& result);

}  // namespace cairn::remote_client

#endif  // CAIRN_REMOTE_CLIENT_ACTION_OUTPUTS_H
