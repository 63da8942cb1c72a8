// cas_bench — cas-local speed and memory against cp baselines, same run.
//
//   cas_bench [--small] [--stage-rows-only] [--files N] [--dirs N] [--runs N]
//             [--big-mib N] [--big-files N] [--merge-trees N] [--merge-files N]
//             [--keep DIR] [--cairn PATH]
//
// Builds the trees in a temp dir, then prints each measurement next to its
// baseline and the ratio against the target from issue 3:
//   import 20k small files          <= 1.2 x cp -a
//   re-import, all blobs present    <= 0.5 x cp -a
//   import 1 GiB in 16 files        <= 1.3 x cp -a, peak RSS < 100 MiB
//   stage 20k files with hardlinks  <= 1.5 x cp -al, in this process and as
//                                   a whole process, 5% and half executable
//                                   (medians of --runs interleaved runs;
//                                   see stage_rows.h)
//   merge 50 trees of 1000 files    <  0.05 x staging the result
// The store is the real plugin, opened by a Runtime through the C ABI. Page caches are
// warm for both sides (no root needed to drop them).
//
// The 1 GiB row also prints the import's CPU time and a floor: reading and
// hashing the same files on two threads without storing anything. SHA-256
// runs at ~1.6 GB/s per core with SHA-NI, so on a 2-core machine hashing
// alone takes about as long as cp's whole copy; the 1.3 x target holds
// only with more cores.
//
// The 1 GiB row is the best of three runs of each side, interleaved. On a
// VM, writing into guest memory the host does not back yet (never touched,
// or apparently taken back by the host) costs several times more system time
// than reusing freed pages: one cp -a measured 0.23 s on recycled pages and
// 2.3 s on fresh ones. Which one a run gets is beyond the benchmark's
// control, and a single run per side compared the VM's luck, not the code.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "cairn/digest.h"
#include "cairn/merkle.h"
#include "cairn/runtime/runtime.h"
#include "stage_rows.h"

namespace {

using namespace cairn;
using namespace cairn::bench;

struct Settings {
  int files = 20000;
  int dirs = 100;
  int runs = 5;
  bool stage_rows_only = false;
  int big_mib = 1024;
  int big_files = 16;
  int merge_trees = 50;
  int merge_files = 1000;
  std::string keep;
  std::string cairn;
};

// Reads and hashes files (as the store's import does, minus the write) on
// `threads` threads: the floor for importing them.
double HashOnlySeconds(const std::vector<std::string>& files, int threads) {
  return Seconds([&] {
    std::atomic<size_t> next{0};
    auto work = [&] {
      std::vector<char> buffer(1 << 20);
      for (size_t i; (i = next++) < files.size();) {
        int fd = ::open(files[i].c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) Die("cannot open " + files[i]);
        Sha256 hasher;
        for (ssize_t n; (n = ::read(fd, buffer.data(), buffer.size())) > 0;) {
          hasher.Update(buffer.data(), static_cast<size_t>(n));
        }
        ::close(fd);
        hasher.FinishHex();
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& thread : pool) thread.join();
  });
}

// Child mode: import DIR into STORE, print seconds.
int ImportOnly(const std::string& dir, const std::string& store_path) {
  auto store = OpenStore(store_path);
  double seconds = Seconds(
      [&] { Check(store->storage().CaptureTree(dir, CaptureOptions{}).status(), "import"); });
  std::printf("%f\n", seconds);
  return 0;
}

struct ImportRun {
  double seconds;
  struct rusage usage;
};

// Imports DIR into STORE in a child process (--import-only), for its own
// peak RSS and CPU times.
ImportRun ImportInChild(const char* argv0, const std::string& dir, const std::string& store) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) Die("pipe");
  ::sync();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::execl("/proc/self/exe", argv0, "--import-only", dir.c_str(), store.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  char text[64] = {};
  ssize_t got = ::read(pipe_fds[0], text, sizeof(text) - 1);
  ::close(pipe_fds[0]);
  int status = 0;
  ImportRun run{0, {}};
  ::wait4(pid, &status, 0, &run.usage);
  if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    Die("import of " + dir + " failed");
  }
  run.seconds = std::atof(text);
  return run;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--import-only" && i + 2 < argc) return ImportOnly(argv[i + 1], argv[i + 2]);
    if (arg == "--stage-only" && i + 3 < argc)
      return StageOnly(argv[i + 1], argv[i + 2], argv[i + 3]);
    if (arg == "--small") {
      settings = Settings{2000, 20, 3, false, 64, 4, 10, 100, "", settings.cairn};
    } else if (arg == "--files") {
      settings.files = std::stoi(next());
    } else if (arg == "--dirs") {
      settings.dirs = std::stoi(next());
    } else if (arg == "--stage-rows-only") {
      settings.stage_rows_only = true;
    } else if (arg == "--cairn") {
      settings.cairn = next();
    } else if (arg == "--runs") {
      settings.runs = std::stoi(next());
    } else if (arg == "--big-mib") {
      settings.big_mib = std::stoi(next());
    } else if (arg == "--big-files") {
      settings.big_files = std::stoi(next());
    } else if (arg == "--merge-trees") {
      settings.merge_trees = std::stoi(next());
    } else if (arg == "--merge-files") {
      settings.merge_files = std::stoi(next());
    } else if (arg == "--keep") {
      settings.keep = next();
    } else {
      Die("unknown argument " + arg + " (see the comment at the top of cas_bench.cc)");
    }
  }
  char pattern[] = "/tmp/cairn-cas-bench-XXXXXX";
  std::string work = settings.keep.empty() ? ::mkdtemp(pattern) : settings.keep;
  std::printf("cas_bench in %s: %d files in %d dirs; %d MiB in %d files; merge %d x %d files\n",
              work.c_str(), settings.files, settings.dirs, settings.big_mib, settings.big_files,
              settings.merge_trees, settings.merge_files);

  if (settings.stage_rows_only) {
    RunStageRows({work, argv[0], settings.files, settings.dirs, settings.runs, settings.cairn});
    if (settings.keep.empty()) Sh("rm -rf " + work);
    return 0;
  }

  // --- 20k small files: import, re-import; then the staging rows.
  std::string small = work + "/small";
  BuildSmallTree(small, settings.files, settings.dirs, 1);
  Sh("cp -a " + small + " " + work + "/warmup && rm -rf " + work + "/warmup");
  double cp_small = Seconds([&] { Sh("cp -a " + small + " " + work + "/cp-small"); });
  {
    auto store = OpenStore(work + "/store");
    double import = Seconds(
        [&] { Check(store->storage().CaptureTree(small, CaptureOptions{}).status(), "import"); });
    Report("import 20k small files", import, "cp -a", cp_small, 1.2);
    double reimport = Seconds([&] {
      Check(store->storage().CaptureTree(small, CaptureOptions{}).status(), "re-import");
    });
    Report("re-import (all blobs present)", reimport, "cp -a", cp_small, 0.5);
  }
  Sh("rm -rf " + work + "/cp-small");
  RunStageRows({work, argv[0], settings.files, settings.dirs, settings.runs, settings.cairn});

  // --- 1 GiB in 16 files: best of three, each import in a child process
  // for its own peak RSS and CPU times.
  std::string big = work + "/big";
  ::mkdir(big.c_str(), 0755);
  int mib_per_file = settings.big_mib / settings.big_files;
  for (int f = 0; f < settings.big_files; ++f) {
    Sh("head -c " + std::to_string(mib_per_file) + "M /dev/urandom > " + big + "/blob" +
       std::to_string(f));
  }
  double cp_big = 1e9;
  ImportRun import_big{1e9, {}};
  long peak_rss_kib = 0;
  for (int run = 0; run < 3; ++run) {
    cp_big = std::min(cp_big, Seconds([&] { Sh("cp -a " + big + " " + work + "/cp-big"); }));
    Sh("rm -rf " + work + "/cp-big");
    ImportRun import = ImportInChild(argv[0], big, work + "/store-big");
    Sh("rm -rf " + work + "/store-big");
    peak_rss_kib = std::max(peak_rss_kib, import.usage.ru_maxrss);
    if (import.seconds < import_big.seconds) import_big = import;
  }
  Report("import " + std::to_string(settings.big_mib) + " MiB in " +
             std::to_string(settings.big_files) + " files",
         import_big.seconds, "cp -a", cp_big, 1.3);
  std::printf("%-34s %8.1f MiB (target < 100 MiB) %s\n", "  peak RSS of that import",
              peak_rss_kib / 1024.0, peak_rss_kib < 100 * 1024 ? "OK" : "OVER");
  auto cpu_seconds = [](const struct timeval& time) { return time.tv_sec + time.tv_usec / 1e6; };
  std::printf("%-34s %8.3f s user + %.3f s system (whole child, store opening included)\n",
              "  CPU time of that import", cpu_seconds(import_big.usage.ru_utime),
              cpu_seconds(import_big.usage.ru_stime));
  std::vector<std::string> big_files;
  for (int f = 0; f < settings.big_files; ++f) {
    big_files.push_back(big + "/blob" + std::to_string(f));
  }
  double floor = 1e9;
  for (int run = 0; run < 3; ++run) floor = std::min(floor, HashOnlySeconds(big_files, 2));
  std::printf("%-34s %8.3f s   ratio %5.2f to cp -a (the floor on 2 cores: nothing stored)\n",
              "  read + SHA-256 only, 2 threads", floor, floor / cp_big);
  Sh("rm -rf " + big);

  // --- Merge 50 trees of 1000 files; compare with staging the result.
  {
    auto store = OpenStore(work + "/store");
    std::vector<Digest> roots;
    for (int t = 0; t < settings.merge_trees; ++t) {
      std::string tree = work + "/merge" + std::to_string(t);
      // Each tree: usr/lib/pkgT/dK/... (its own) plus usr/share/common (shared names).
      Sh("mkdir -p " + tree + "/usr/lib " + tree + "/usr/share/common");
      BuildSmallTree(tree + "/usr/lib/pkg" + std::to_string(t), settings.merge_files - 10, 10,
                     100 + t);
      for (int c = 0; c < 10; ++c) {
        WriteFile(tree + "/usr/share/common/c" + std::to_string(c),
                  "from tree " + std::to_string(t % 3) + " " + std::to_string(c), 0644);
      }
      auto captured = store->storage().CaptureTree(tree, CaptureOptions{});
      Check(captured.status(), "import merge tree");
      roots.push_back(captured->root);
      Sh("rm -rf " + tree);
    }
    MergeResult merged;
    double merge = Seconds([&] {
      auto result = MergeTrees(store->storage(), roots);
      Check(result.status(), "merge");
      merged = std::move(result).value();
    });
    ::mkdir((work + "/merged").c_str(), 0755);
    StageOptions hardlinks;
    hardlinks.hardlinks = true;
    double stage = Seconds([&] {
      Check(store->storage().StageTree(merged.root, work + "/merged", hardlinks), "stage merged");
    });
    Report("merge " + std::to_string(settings.merge_trees) + " trees x " +
               std::to_string(settings.merge_files) + " files",
           merge, "stage", stage, 0.05);
    std::printf("  (%zu overlapping paths reported)\n", merged.overlaps.size());
  }
  if (settings.keep.empty()) Sh("chmod -R u+w " + work + " && rm -rf " + work);
  return 0;
}
