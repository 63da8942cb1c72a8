// cairn/sandbox_common/output_capture.h — outputs back into CAS.
//
// REAPI output_paths semantics, relative to the working directory: a
// regular file becomes an OutputFile (with its executable bit), a directory
// an OutputDirectory (its Tree stored; tree_digest and root_directory_digest
// set), a symlink an OutputSymlink (never followed), and a missing path is
// simply absent. Lists are sorted by path. Called after every process of
// the action is gone, so nothing changes underneath; still, a parent
// component replaced by a symlink is refused rather than followed out of
// the sandbox.
#ifndef CAIRN_SANDBOX_COMMON_OUTPUT_CAPTURE_H
#define CAIRN_SANDBOX_COMMON_OUTPUT_CAPTURE_H

#include <string>
#include <vector>

#include "cairn/storage.h"

namespace cairn {

// `working_dir`: host path of the working directory. Appends to `result`.
Status CaptureOutputs(Storage& cas, const std::string& working_dir,
                      const std::vector<std::string>& output_paths, ActionResult* result);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_OUTPUT_CAPTURE_H
