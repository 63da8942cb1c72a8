#include "cairn/merkle.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "cairn/relative_path.h"

namespace cairn {
namespace {

std::string Where(std::string_view path) {
  return path.empty() ? std::string("the root directory") : "directory '" + std::string(path) + "'";
}

}  // namespace

void SortDirectory(Directory* directory) {
  auto by_name = [](const auto& a, const auto& b) { return a.name() < b.name(); };
  std::sort(directory->mutable_files()->begin(), directory->mutable_files()->end(), by_name);
  std::sort(directory->mutable_directories()->begin(), directory->mutable_directories()->end(),
            by_name);
  std::sort(directory->mutable_symlinks()->begin(), directory->mutable_symlinks()->end(), by_name);
}

StatusOr<Directory> ReadDirectory(Storage& storage, const Digest& digest, std::string_view path) {
  StatusOr<Directory> directory = storage.ReadMessage<Directory>(digest);
  if (!directory.ok()) {
    return directory.status().WithContext("reading " + Where(path) + " (" + DigestToString(digest) +
                                          ")");
  }
  CAIRN_RETURN_IF_ERROR(ValidateDirectory(*directory, path));
  return directory;
}

// ---------------------------------------------------------------------------
// Merging

namespace {

// One name of the merged directory: either a leaf (file or symlink) or the
// ordered list of directories to merge under that name.
struct MergedEntry {
  enum Kind { kFile, kSymlink, kDirectory } kind;
  FileNode file;
  SymlinkNode symlink;
  std::vector<Digest> directories;
};

bool SameLeaf(const MergedEntry& a, const MergedEntry& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == MergedEntry::kFile) {
    return a.file.digest() == b.file.digest() && a.file.is_executable() == b.file.is_executable();
  }
  return a.symlink.target() == b.symlink.target();
}

class TreeMerger {
 public:
  explicit TreeMerger(Storage& storage) : storage_(storage) {}

  StatusOr<Digest> Merge(const std::vector<Digest>& inputs, const std::string& path) {
    CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(path));
    // A subtree that comes from one input alone is reused as it is.
    if (inputs.size() == 1) return inputs.front();
    std::map<std::string, MergedEntry> entries;
    for (const Digest& input : inputs) {
      CAIRN_ASSIGN_OR_RETURN(Directory directory, ReadDirectory(storage_, input, path));
      for (const FileNode& file : directory.files()) {
        MergedEntry entry{MergedEntry::kFile, file, {}, {}};
        Place(entries, file.name(), std::move(entry), path);
      }
      for (const SymlinkNode& link : directory.symlinks()) {
        MergedEntry entry{MergedEntry::kSymlink, {}, link, {}};
        Place(entries, link.name(), std::move(entry), path);
      }
      for (const DirectoryNode& child : directory.directories()) {
        auto found = entries.find(child.name());
        if (found != entries.end() && found->second.kind == MergedEntry::kDirectory) {
          found->second.directories.push_back(child.digest());
          continue;
        }
        MergedEntry entry{MergedEntry::kDirectory, {}, {}, {child.digest()}};
        Place(entries, child.name(), std::move(entry), path);
      }
    }
    Directory merged;
    for (auto& [name, entry] : entries) {
      switch (entry.kind) {
        case MergedEntry::kFile:
          *merged.add_files() = entry.file;
          break;
        case MergedEntry::kSymlink:
          *merged.add_symlinks() = entry.symlink;
          break;
        case MergedEntry::kDirectory: {
          CAIRN_ASSIGN_OR_RETURN(Digest child, Merge(entry.directories, JoinPath(path, name)));
          DirectoryNode* node = merged.add_directories();
          node->set_name(name);
          *node->mutable_digest() = child;
          break;
        }
      }
    }
    // std::map iterates in bytewise order, so every list is already sorted.
    return storage_.WriteMessage(merged);
  }

  std::vector<std::string> TakeOverlaps() {
    std::sort(overlaps_.begin(), overlaps_.end());
    overlaps_.erase(std::unique(overlaps_.begin(), overlaps_.end()), overlaps_.end());
    return std::move(overlaps_);
  }

 private:
  void Place(std::map<std::string, MergedEntry>& entries, const std::string& name,
             MergedEntry entry, const std::string& path) {
    auto found = entries.find(name);
    if (found == entries.end()) {
      entries.emplace(name, std::move(entry));
      return;
    }
    if (!SameLeaf(found->second, entry)) overlaps_.push_back(JoinPath(path, name));
    found->second = std::move(entry);
  }

  Storage& storage_;
  std::vector<std::string> overlaps_;
};

}  // namespace

StatusOr<MergeResult> MergeTrees(Storage& storage, const std::vector<Digest>& roots) {
  MergeResult result;
  if (roots.empty()) {
    CAIRN_ASSIGN_OR_RETURN(result.root, storage.WriteMessage(Directory()));
    return result;
  }
  TreeMerger merger(storage);
  // Even a single root is read once so that a malformed input is reported.
  if (roots.size() == 1) {
    CAIRN_RETURN_IF_ERROR(ReadDirectory(storage, roots.front()).status());
    result.root = roots.front();
    return result;
  }
  CAIRN_ASSIGN_OR_RETURN(result.root, merger.Merge(roots, ""));
  result.overlaps = merger.TakeOverlaps();
  return result;
}

// ---------------------------------------------------------------------------
// Walking

namespace {

Status WalkFrom(Storage& storage, const std::string& path, const Digest& digest,
                const TreeVisitor& visitor,
                std::unordered_map<Digest, Directory, DigestHash, DigestEqual>& cache) {
  CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(path));
  auto cached = cache.find(digest);
  if (cached == cache.end()) {
    CAIRN_ASSIGN_OR_RETURN(Directory directory, ReadDirectory(storage, digest, path));
    cached = cache.emplace(digest, std::move(directory)).first;
  }
  // The map's node stays valid while more entries are inserted.
  const Directory& directory = cached->second;
  CAIRN_RETURN_IF_ERROR(visitor(path, digest, directory));
  for (const DirectoryNode& child : directory.directories()) {
    CAIRN_RETURN_IF_ERROR(
        WalkFrom(storage, JoinPath(path, child.name()), child.digest(), visitor, cache));
  }
  return Status::Ok();
}

}  // namespace

Status WalkTree(Storage& storage, const Digest& root, const TreeVisitor& visitor) {
  std::unordered_map<Digest, Directory, DigestHash, DigestEqual> cache;
  return WalkFrom(storage, "", root, visitor, cache);
}

std::vector<Digest> CollectedTree::AllDigests() const {
  std::vector<Digest> all;
  all.reserve(directories.size() + files.size());
  for (const auto& entry : directories) all.push_back(entry.first);
  all.insert(all.end(), files.begin(), files.end());
  return all;
}

StatusOr<CollectedTree> CollectTree(Storage& storage, const Digest& root) {
  CollectedTree collected;
  std::unordered_set<Digest, DigestHash, DigestEqual> seen_directories;
  std::unordered_set<Digest, DigestHash, DigestEqual> seen_files;
  std::vector<std::pair<std::string, Digest>> pending = {{"", root}};
  seen_directories.insert(root);
  // Breadth-first, each distinct Directory read once.
  for (size_t next = 0; next < pending.size(); ++next) {
    std::string path = pending[next].first;
    Digest digest = pending[next].second;
    CAIRN_ASSIGN_OR_RETURN(Directory directory, ReadDirectory(storage, digest, path));
    for (const FileNode& file : directory.files()) {
      if (seen_files.insert(file.digest()).second) collected.files.push_back(file.digest());
    }
    for (const DirectoryNode& child : directory.directories()) {
      if (seen_directories.insert(child.digest()).second) {
        pending.emplace_back(JoinPath(path, child.name()), child.digest());
      }
    }
    collected.directories.emplace_back(digest, std::move(directory));
  }
  return collected;
}

StatusOr<Tree> BuildTreeMessage(Storage& storage, const Digest& root) {
  CAIRN_ASSIGN_OR_RETURN(CollectedTree collected, CollectTree(storage, root));
  Tree tree;
  *tree.mutable_root() = std::move(collected.directories.front().second);
  for (size_t i = 1; i < collected.directories.size(); ++i) {
    *tree.add_children() = std::move(collected.directories[i].second);
  }
  return tree;
}

}  // namespace cairn
