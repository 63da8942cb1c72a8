// action_results.h — action cache entries that are safe to serve.
//
// An ActionResult names blobs (output files, output directory trees and
// every file in them, stdout, stderr); a client that gets a result whose
// blobs are gone fails in ways it cannot recover from. So the server
// serves an entry only while everything it references is present
// (NOT_FOUND otherwise, which clients treat as a miss and execute again),
// and accepts one only when everything it references is present.
#ifndef CAIRN_SERVER_ACTION_RESULTS_H
#define CAIRN_SERVER_ACTION_RESULTS_H

#include <string>
#include <vector>

#include "cairn/storage.h"

namespace cairn::server {

// Every blob `result` references, the output directories' Tree messages
// read to list their files. A Tree that is itself missing is listed and
// not read.
StatusOr<std::vector<Digest>> ReferencedBlobs(Storage& storage, const ActionResult& result);

// The entry of `action` in `instance`'s action cache when it is complete,
// NOT_FOUND when it is absent or any blob it references is missing.
StatusOr<ActionResult> LookupCompleteResult(Storage& storage, const std::string& instance,
                                            const Digest& action);

// What a client asked to have inlined into a result: stdout, stderr and
// output files by path (GetActionResultRequest's and ExecuteRequest's
// inline_* fields).
struct InlineRequest {
  bool stdout_raw = false;
  bool stderr_raw = false;
  std::vector<std::string> output_files;
};

// Fills the contents asked for into `result`, at most `budget` bytes in
// all. The fields are hints (REAPI): what does not fit, or cannot be read,
// stays a digest only.
void InlineContents(Storage& storage, const InlineRequest& wanted, uint64_t budget,
                    ActionResult* result);

}  // namespace cairn::server

#endif  // CAIRN_SERVER_ACTION_RESULTS_H
