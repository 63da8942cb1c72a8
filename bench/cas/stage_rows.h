// stage_rows.h — the staging rows of cas_bench: 20,000 files staged by
// hardlink against `cp -al` of the same tree, in this process, as a whole
// process (this benchmark re-run as a stager) and, given a `cairn`, as a
// whole `cairn cas stage --hardlinks` (with an empty XDG_CONFIG_HOME), for
// a tree with 5% executables and one with half.
//
// ext4 on the benchmark machine is sometimes slow to allocate inodes after
// many deletions, which hits whichever side runs next: the sides are run
// interleaved, `runs` times each, and the rows print medians.
#ifndef CAIRN_BENCH_CAS_STAGE_ROWS_H
#define CAIRN_BENCH_CAS_STAGE_ROWS_H

#include <string>

namespace cairn::bench {

struct StageRowsSettings {
  std::string work;   // a scratch directory
  std::string argv0;  // this executable, re-run as the whole-process stager
  int files = 20000;
  int dirs = 100;
  int runs = 5;
  std::string cairn;  // a built `cairn`: adds a `cairn cas stage` row
};

void RunStageRows(const StageRowsSettings& settings);

// Child mode (--stage-only STORE ROOT DIR): opens the store, stages ROOT
// into DIR with hardlinks, exits 0.
int StageOnly(const std::string& store, const std::string& root, const std::string& dir);

}  // namespace cairn::bench

#endif  // CAIRN_BENCH_CAS_STAGE_ROWS_H
