#include "stage_rows.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <vector>

#include "bench_util.h"

namespace cairn::bench {
namespace {

struct Side {
  std::string name;
  std::function<void(const std::string& out)> run;
  std::vector<double> seconds;
};

// Runs every side `runs` times, interleaved; each run stages into a fresh
// directory, removed (untimed) before the next side runs.
void Interleave(const std::string& work, int runs, std::vector<Side>& sides) {
  for (int run = 0; run < runs; ++run) {
    for (Side& side : sides) {
      std::string out = work + "/out";
      side.seconds.push_back(Seconds([&] { side.run(out); }));
      Sh("rm -rf " + out);
    }
  }
}

void StageInChild(const StageRowsSettings& settings, const std::string& store,
                  const std::string& root, const std::string& out) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/proc/self/exe", settings.argv0.c_str(), "--stage-only", store.c_str(), root.c_str(),
            out.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    Die("the whole-process stage of " + root + " failed");
  }
}

void Rows(const StageRowsSettings& settings, const std::string& label, int executable_every,
          uint64_t seed) {
  const std::string tree = settings.work + "/stage-tree";
  // <cache>/cas is where `cairn --cache-dir <cache>` keeps its store.
  const std::string cache = settings.work + "/stage-cache";
  const std::string store_path = cache + "/cas";
  BuildSmallTree(tree, settings.files, settings.dirs, seed, executable_every);
  Digest root;
  {
    auto store = OpenStore(store_path);
    auto captured = store->storage().CaptureTree(tree, CaptureOptions{});
    Check(captured.status(), "import " + tree);
    root = captured->root;
  }
  const std::string root_text = DigestToString(root);
  {
    // The first stage makes the executable variants (a verified copy
    // each): shown apart, not mixed into the medians.
    auto store = OpenStore(store_path);
    StageOptions hardlinks;
    hardlinks.hardlinks = true;
    const std::string out = settings.work + "/out";
    ::mkdir(out.c_str(), 0755);
    double first =
        Seconds([&] { Check(store->storage().StageTree(root, out, hardlinks), "stage"); });
    Sh("rm -rf " + out);
    std::printf("%-34s %8.3f s   (makes the executable variants)\n",
                ("first stage " + label).c_str(), first);
  }
  std::vector<Side> in_process;
  {
    auto store = OpenStore(store_path);
    StageOptions hardlinks;
    hardlinks.hardlinks = true;
    in_process.push_back(
        {"cp -al", [&](const std::string& out) { Sh("cp -al " + tree + " " + out); }, {}});
    in_process.push_back({"stage",
                          [&](const std::string& out) {
                            ::mkdir(out.c_str(), 0755);
                            Check(store->storage().StageTree(root, out, hardlinks), "stage");
                          },
                          {}});
    in_process.push_back({"process",
                          [&](const std::string& out) {
                            ::mkdir(out.c_str(), 0755);
                            StageInChild(settings, store_path, root_text, out);
                          },
                          {}});
    if (!settings.cairn.empty()) {
      ::mkdir((settings.work + "/xdg-config").c_str(), 0755);
      std::string command = "cd " + settings.work + " && XDG_CONFIG_HOME=" + settings.work +
                            "/xdg-config " + settings.cairn + " --cache-dir " + cache +
                            " cas stage " + root_text + " ";
      in_process.push_back(
          {"cairn",
           [command](const std::string& out) { Sh(command + out + " --hardlinks >/dev/null"); },
           {}});
    }
    Interleave(settings.work, settings.runs, in_process);
  }
  double cp_al = Median(in_process[0].seconds);
  Report("stage " + label, Median(in_process[1].seconds), "cp -al", cp_al, 1.5);
  Report("  as a whole process", Median(in_process[2].seconds), "cp -al", cp_al, 1.5);
  if (in_process.size() > 3) {
    Report("  as `cairn cas stage`", Median(in_process[3].seconds), "cp -al", cp_al, 1.5);
  }
  Sh("rm -rf " + tree + " " + cache);
}

}  // namespace

int StageOnly(const std::string& store, const std::string& root, const std::string& dir) {
  StatusOr<Digest> digest = ParseDigest(root);
  Check(digest.status(), "the root digest");
  auto opened = OpenStore(store);
  StageOptions hardlinks;
  hardlinks.hardlinks = true;
  Check(opened->storage().StageTree(*digest, dir, hardlinks), "stage");
  return 0;
}

void RunStageRows(const StageRowsSettings& settings) {
  std::printf("staging: medians of %d interleaved runs per side\n", settings.runs);
  std::string files = std::to_string(settings.files);
  Rows(settings, files + " files, 5% exec", 20, 1);
  Rows(settings, files + " files, half exec", 2, 2);
}

}  // namespace cairn::bench
