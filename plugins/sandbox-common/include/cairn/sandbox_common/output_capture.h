// cairn/sandbox_common/output_capture.h — outputs back into CAS.
//
// REAPI output_paths semantics, relative to the working directory (on the
// host, each output is found through the run's OutputHostDirs: the private
// copy of the working directory, or of the output directory itself): a
// regular file becomes an OutputFile (with its executable bit), a directory
// an OutputDirectory (its Tree stored; tree_digest and root_directory_digest
// set), a symlink an OutputSymlink (never followed), and a missing path is
// simply absent. Lists are sorted by path. Called after every process of
// the action is gone, so nothing changes underneath; still, a parent
// component replaced by a symlink is refused rather than followed out of
// the sandbox.
#ifndef CAIRN_SANDBOX_COMMON_OUTPUT_CAPTURE_H
#define CAIRN_SANDBOX_COMMON_OUTPUT_CAPTURE_H

#include <optional>
#include <string>
#include <vector>

#include "cairn/storage.h"

namespace cairn {

// Where outputs are on the host: the output at `prefix` (relative to the
// working directory; "" = the working directory itself) and everything
// below it is in `host_dir`.
struct OutputHostDir {
  std::string prefix;
  std::string host_dir;
};

// Where `output` is: the entry of `dirs` with the longest prefix that is
// `output` or one of its parents, and `output` relative to its host_dir
// ("" = host_dir itself). Nullopt when no entry covers it.
struct OutputLocation {
  std::string base;      // an OutputHostDir's host_dir: trusted, never checked
  std::string relative;  // below `base`; its parents are checked for symlinks
};
std::optional<OutputLocation> LocateOutput(const std::vector<OutputHostDir>& dirs,
                                           const std::string& output);

// `dirs`: where each output is on the host (an output no entry covers is
// INTERNAL). Appends to `result`.
Status CaptureOutputs(Storage& cas, const std::vector<OutputHostDir>& dirs,
                      const std::vector<std::string>& output_paths, ActionResult* result);

}  // namespace cairn

#endif  // CAIRN_SANDBOX_COMMON_OUTPUT_CAPTURE_H
