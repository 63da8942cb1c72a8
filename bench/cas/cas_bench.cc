// cas_bench — cas-local speed and memory against cp baselines, same run.
//
//   cas_bench [--small] [--files N] [--dirs N] [--big-mib N] [--big-files N]
//             [--merge-trees N] [--merge-files N] [--keep DIR]
//
// Builds the trees in a temp dir, then prints each measurement next to its
// baseline and the ratio against the target from issue 3:
//   import 20k small files          <= 1.2 x cp -a
//   re-import, all blobs present    <= 0.5 x cp -a
//   import 1 GiB in 16 files        <= 1.3 x cp -a, peak RSS < 100 MiB
//   stage 20k files with hardlinks  <= 1.5 x cp -al
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
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cairn/digest.h"
#include "cairn/merkle.h"
#include "cairn/runtime/runtime.h"

namespace {

using namespace cairn;
using Clock = std::chrono::steady_clock;

struct Settings {
  int files = 20000;
  int dirs = 100;
  int big_mib = 1024;
  int big_files = 16;
  int merge_trees = 50;
  int merge_files = 1000;
  std::string keep;
};

void Die(const std::string& message) {
  std::cerr << "cas_bench: " << message << "\n";
  std::exit(1);
}

void Check(const Status& status, const std::string& what) {
  if (!status.ok()) Die(what + ": " + status.ToString());
}

void Sh(const std::string& command) {
  if (std::system(command.c_str()) != 0) Die("command failed: " + command);
}

// Every measurement starts with no dirty pages, so neither side pays for
// the writeback of the one before it.
double Seconds(const std::function<void()>& body) {
  ::sync();
  auto start = Clock::now();
  body();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) Die("cannot create " + path);
  std::fwrite(data.data(), 1, data.size(), f);
  std::fclose(f);
  ::chmod(path.c_str(), mode);
}

// `files` small files (64 B .. 8 KiB, 5% executable) in `dirs` directories.
void BuildSmallTree(const std::string& root, int files, int dirs, uint64_t seed) {
  std::mt19937_64 random(seed);
  ::mkdir(root.c_str(), 0755);
  for (int d = 0; d < dirs; ++d) ::mkdir((root + "/d" + std::to_string(d)).c_str(), 0755);
  for (int f = 0; f < files; ++f) {
    size_t size = 64 + random() % 8192;
    std::string data(size, '\0');
    for (size_t i = 0; i < size; i += 8) {
      uint64_t word = random();
      data.replace(i, std::min<size_t>(8, size - i), reinterpret_cast<char*>(&word),
                   std::min<size_t>(8, size - i));
    }
    WriteFile(root + "/d" + std::to_string(f % dirs) + "/f" + std::to_string(f), data,
              f % 20 == 0 ? 0755 : 0644);
  }
}

// The store at `path`, opened by a Runtime as `cairn` opens it. The
// runtime lives as long as the store.
struct OpenedStore {
  std::unique_ptr<Runtime> runtime;
  std::shared_ptr<Storage> store;
  Storage& storage() { return *store; }
};

std::unique_ptr<OpenedStore> OpenStore(const std::string& path) {
  RuntimeOptions options;
  options.storage.plugin = "cas-local";
  options.storage.options_yaml = "path: " + path + "\n";
  auto opened = std::make_unique<OpenedStore>();
  opened->runtime = std::make_unique<Runtime>(
      options,
      std::make_shared<PluginRegistry>(PluginRegistry::Discover({CAIRN_CAS_LOCAL_PLUGIN})));
  StatusOr<std::shared_ptr<Storage>> storage = opened->runtime->OpenStorage();
  if (!storage.ok()) Die(storage.status().ToString());
  opened->store = *storage;
  return opened;
}

void Report(const std::string& what, double measured, const std::string& baseline_name,
            double baseline, double target) {
  double ratio = measured / baseline;
  std::printf("%-34s %8.3f s   %-8s %8.3f s   ratio %5.2f  (target <= %.2f) %s\n", what.c_str(),
              measured, baseline_name.c_str(), baseline, ratio, target,
              ratio <= target ? "OK" : "OVER");
  std::fflush(stdout);
}

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
    if (arg == "--small") {
      settings = Settings{2000, 20, 64, 4, 10, 100, ""};
    } else if (arg == "--files") {
      settings.files = std::stoi(next());
    } else if (arg == "--dirs") {
      settings.dirs = std::stoi(next());
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

  // --- 20k small files: import, re-import, stage with hardlinks.
  std::string small = work + "/small";
  BuildSmallTree(small, settings.files, settings.dirs, 1);
  Sh("cp -a " + small + " " + work + "/warmup && rm -rf " + work + "/warmup");
  double cp_small = Seconds([&] { Sh("cp -a " + small + " " + work + "/cp-small"); });
  Digest small_root;
  {
    auto store = OpenStore(work + "/store");
    double import = Seconds([&] {
      auto captured = store->storage().CaptureTree(small, CaptureOptions{});
      Check(captured.status(), "import");
      small_root = captured->root;
    });
    Report("import 20k small files", import, "cp -a", cp_small, 1.2);
    double reimport = Seconds([&] {
      Check(store->storage().CaptureTree(small, CaptureOptions{}).status(), "re-import");
    });
    Report("re-import (all blobs present)", reimport, "cp -a", cp_small, 0.5);
    double cp_al = Seconds([&] { Sh("cp -al " + small + " " + work + "/cp-al"); });
    ::mkdir((work + "/staged").c_str(), 0755);
    StageOptions hardlinks;
    hardlinks.hardlinks = true;
    double stage = Seconds([&] {
      Check(store->storage().StageTree(small_root, work + "/staged", hardlinks), "stage");
    });
    Report("stage 20k files with hardlinks", stage, "cp -al", cp_al, 1.5);
  }
  Sh("rm -rf " + work + "/cp-small " + work + "/cp-al " + work + "/staged");

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
