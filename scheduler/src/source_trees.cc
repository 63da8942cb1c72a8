#include "cairn/scheduler/source_trees.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "cairn/project/archive.h"
#include "cairn/project/local_source.h"

namespace cairn::scheduler {

using project::Source;

StatusOr<Digest> SourceTrees::Tree(const Source& source) {
  std::string id = source.kind + ":" + source.path + ":" + source.base_dir;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = trees_.find(id);
    if (found != trees_.end()) return found->second;
  }
  StatusOr<Digest> tree =
      source.kind == "tar"
          ? project::ImportTarArchive(storage_, source.path, source.ref, source.base_dir)
          : LocalTree(source);
  if (!tree.ok())
    return tree.status().WithContext(source.where.ToString() + ": " + source.kind + " source " +
                                     source.path);
  std::lock_guard<std::mutex> lock(mutex_);
  trees_[id] = *tree;
  return *tree;
}

namespace {

// The fingerprint of a local source from lstat alone, or "" when an entry
// changed too recently to trust its timestamps.
std::string LocalFingerprint(const std::string& path) {
  namespace fs = std::filesystem;
  Sha256 hasher;
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  auto add = [&](const std::string& relative, const std::string& full) {
    struct stat info {};
    if (lstat(full.c_str(), &info) != 0) return false;
    if (info.st_mtim.tv_sec >= now.tv_sec - 2 || info.st_ctim.tv_sec >= now.tv_sec - 2) {
      return false;
    }
    std::string line =
        relative + '\0' + std::to_string(info.st_mode) + ' ' + std::to_string(info.st_size) + ' ' +
        std::to_string(info.st_ino) + ' ' + std::to_string(info.st_mtim.tv_sec) + '.' +
        std::to_string(info.st_mtim.tv_nsec) + ' ' + std::to_string(info.st_ctim.tv_sec) + '.' +
        std::to_string(info.st_ctim.tv_nsec);
    if (S_ISLNK(info.st_mode)) {
      std::error_code error;
      line += " -> " + fs::read_symlink(full, error).string();
    }
    hasher.Update(line + '\n');
    return true;
  };
  if (!add(".", path)) return "";
  std::error_code error;
  struct stat top {};
  if (stat(path.c_str(), &top) == 0 && S_ISDIR(top.st_mode)) {
    std::vector<std::string> entries;
    for (fs::recursive_directory_iterator it(path, error), end; !error && it != end;
         it.increment(error)) {
      entries.push_back(it->path().string());
    }
    if (error) return "";
    std::sort(entries.begin(), entries.end());
    for (const std::string& entry : entries) {
      if (!add(entry.substr(path.size()), entry)) return "";
    }
  }
  return "local-v1-" + hasher.FinishHex();
}

}  // namespace

StatusOr<Digest> SourceTrees::LocalTree(const Source& source) {
  std::string fingerprint = memo_directory_.empty() ? "" : LocalFingerprint(source.path);
  std::string memo = fingerprint.empty() ? "" : memo_directory_ + "/" + fingerprint;
  if (!memo.empty()) {
    std::ifstream in(memo);
    std::string text;
    if (in >> text) {
      StatusOr<Digest> remembered = ParseDigest(text);
      if (remembered.ok()) {
        StatusOr<bool> present = storage_.Contains(*remembered);
        if (present.ok() && *present) return *remembered;
      }
    }
  }
  CAIRN_ASSIGN_OR_RETURN(Digest tree, project::ImportLocalSource(storage_, source.path));
  if (!memo.empty()) {
    // Written whole or not at all; a lost memo only costs an import.
    std::error_code error;
    std::filesystem::create_directories(memo_directory_, error);
    std::string temporary = memo + ".tmp" + std::to_string(getpid());
    {
      std::ofstream out(temporary, std::ios::trunc);
      out << DigestToString(tree) << "\n";
    }
    std::filesystem::rename(temporary, memo, error);
  }
  return tree;
}

StatusOr<std::string> SourceTrees::Key(const Source& source) {
  if (source.kind == "tar") return "sha256:" + source.ref;
  CAIRN_ASSIGN_OR_RETURN(Digest tree, Tree(source));
  return DigestToString(tree);
}

}  // namespace cairn::scheduler
