#include "bench_util.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>

namespace cairn::bench {

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

double Seconds(const std::function<void()>& body) {
  ::sync();
  auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void WriteFile(const std::string& path, const std::string& data, mode_t mode) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) Die("cannot create " + path);
  std::fwrite(data.data(), 1, data.size(), f);
  std::fclose(f);
  ::chmod(path.c_str(), mode);
}

void BuildSmallTree(const std::string& root, int files, int dirs, uint64_t seed,
                    int executable_every) {
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
              f % executable_every == 0 ? 0755 : 0644);
  }
}

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

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

}  // namespace cairn::bench
