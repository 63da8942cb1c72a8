#include "cairn/tree_edit.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>

#include "cairn/relative_path.h"

namespace cairn {
namespace {

// Entries of a validated Directory are sorted by name, so lookups bisect.
template <typename Nodes>
auto FindNamed(const Nodes& nodes, const std::string& name) -> decltype(&*nodes.begin()) {
  auto found =
      std::lower_bound(nodes.begin(), nodes.end(), name,
                       [](const auto& node, const std::string& n) { return node.name() < n; });
  if (found == nodes.end() || found->name() != name) return nullptr;
  return &*found;
}

std::string Quoted(const std::string& path) { return "'" + path + "'"; }

// Splits a symlink target on '/', dropping empty and "." components.
std::vector<std::string> TargetComponents(const std::string& target) {
  std::vector<std::string> components;
  size_t start = 0;
  while (start <= target.size()) {
    size_t slash = target.find('/', start);
    if (slash == std::string::npos) slash = target.size();
    std::string component = target.substr(start, slash - start);
    if (!component.empty() && component != ".") components.push_back(std::move(component));
    start = slash + 1;
  }
  return components;
}

}  // namespace

StatusOr<Digest> SubtreeAt(Storage& storage, const Digest& root, const std::string& path) {
  CAIRN_RETURN_IF_ERROR(ValidateRelativePath(path, "subtree path", true));
  Digest current = root;
  std::string walked;
  for (const std::string& name : SplitPath(path)) {
    CAIRN_ASSIGN_OR_RETURN(Directory directory, ReadDirectory(storage, current, walked));
    walked = JoinPath(walked, name);
    const DirectoryNode* child = FindNamed(directory.directories(), name);
    if (child == nullptr) {
      std::string what = FindNamed(directory.files(), name)      ? "a file"
                         : FindNamed(directory.symlinks(), name) ? "a symlink"
                                                                 : "nothing";
      return NotFound("no directory " + Quoted(path) + " in the tree: " + Quoted(walked) + " is " +
                      what);
    }
    current = child->digest();
  }
  // Read once so that a digest naming no Directory is reported here.
  CAIRN_RETURN_IF_ERROR(ReadDirectory(storage, current, walked).status());
  return current;
}

StatusOr<MergeResult> GraftTree(Storage& storage, const Digest& root, const std::string& path,
                                const Digest& subtree) {
  CAIRN_RETURN_IF_ERROR(ValidateRelativePath(path, "graft path", true));
  std::vector<std::string> names = SplitPath(path);
  CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(path));
  Digest wrapped = subtree;
  for (auto name = names.rbegin(); name != names.rend(); ++name) {
    Directory parent;
    DirectoryNode* node = parent.add_directories();
    node->set_name(*name);
    *node->mutable_digest() = wrapped;
    CAIRN_ASSIGN_OR_RETURN(wrapped, storage.WriteMessage(parent));
  }
  return MergeTrees(storage, {root, wrapped});
}

StatusOr<std::vector<TreeEntry>> ListTree(Storage& storage, const Digest& root) {
  std::vector<TreeEntry> entries;
  CAIRN_RETURN_IF_ERROR(WalkTree(
      storage, root, [&](const std::string& path, const Digest&, const Directory& directory) {
        for (const FileNode& file : directory.files()) {
          TreeEntry& entry = entries.emplace_back();
          entry.path = JoinPath(path, file.name());
          entry.kind = TreeEntry::Kind::kFile;
          entry.executable = file.is_executable();
          entry.digest = file.digest();
        }
        for (const DirectoryNode& child : directory.directories()) {
          TreeEntry& entry = entries.emplace_back();
          entry.path = JoinPath(path, child.name());
          entry.kind = TreeEntry::Kind::kDirectory;
          entry.digest = child.digest();
        }
        for (const SymlinkNode& link : directory.symlinks()) {
          TreeEntry& entry = entries.emplace_back();
          entry.path = JoinPath(path, link.name());
          entry.kind = TreeEntry::Kind::kSymlink;
          entry.target = link.target();
        }
        return Status::Ok();
      }));
  std::sort(entries.begin(), entries.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return entries;
}

// ---------------------------------------------------------------------------
// Filtering

namespace {

class TreeFilter {
 public:
  TreeFilter(Storage& storage, const std::function<bool(const TreeEntry&)>& keep)
      : storage_(storage), keep_(keep) {}

  struct Filtered {
    Digest digest;
    bool anything_kept = false;
  };

  StatusOr<Filtered> Filter(const std::string& path, const Digest& digest) {
    CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(path));
    CAIRN_ASSIGN_OR_RETURN(Directory directory, ReadDirectory(storage_, digest, path));
    Directory kept;
    bool changed = false;
    TreeEntry entry;
    for (const FileNode& file : directory.files()) {
      entry.path = JoinPath(path, file.name());
      entry.kind = TreeEntry::Kind::kFile;
      entry.executable = file.is_executable();
      entry.digest = file.digest();
      if (keep_(entry)) {
        *kept.add_files() = file;
      } else {
        changed = true;
      }
    }
    entry.executable = false;
    for (const DirectoryNode& child : directory.directories()) {
      entry.path = JoinPath(path, child.name());
      entry.kind = TreeEntry::Kind::kDirectory;
      entry.digest = child.digest();
      bool keep_itself = keep_(entry);
      CAIRN_ASSIGN_OR_RETURN(Filtered inner, Filter(entry.path, child.digest()));
      if (!keep_itself && !inner.anything_kept) {
        changed = true;
        continue;
      }
      if (inner.digest != child.digest()) changed = true;
      DirectoryNode* node = kept.add_directories();
      node->set_name(child.name());
      *node->mutable_digest() = inner.digest;
    }
    entry.digest.Clear();
    for (const SymlinkNode& link : directory.symlinks()) {
      entry.path = JoinPath(path, link.name());
      entry.kind = TreeEntry::Kind::kSymlink;
      entry.target = link.target();
      if (keep_(entry)) {
        *kept.add_symlinks() = link;
      } else {
        changed = true;
      }
    }
    Filtered result;
    result.anything_kept = kept.files_size() + kept.directories_size() + kept.symlinks_size() > 0;
    if (changed) {
      CAIRN_ASSIGN_OR_RETURN(result.digest, storage_.WriteMessage(kept));
    } else {
      result.digest = digest;
    }
    return result;
  }

 private:
  Storage& storage_;
  const std::function<bool(const TreeEntry&)>& keep_;
};

}  // namespace

StatusOr<Digest> FilterTree(Storage& storage, const Digest& root,
                            const std::function<bool(const TreeEntry&)>& keep) {
  TreeFilter filter(storage, keep);
  CAIRN_ASSIGN_OR_RETURN(TreeFilter::Filtered filtered, filter.Filter("", root));
  return filtered.digest;
}

// ---------------------------------------------------------------------------
// Absolute symlinks made relative

namespace {

// The target of an absolute link relative to `directory` (the components
// of the link's directory), as os.path.relpath would give it.
std::string RelativeTarget(const std::vector<std::string>& directory, const std::string& target) {
  std::vector<std::string> absolute;
  for (std::string& component : TargetComponents(target)) {
    if (component == "..") {
      if (!absolute.empty()) absolute.pop_back();
    } else {
      absolute.push_back(std::move(component));
    }
  }
  size_t common = 0;
  while (common < directory.size() && common < absolute.size() &&
         directory[common] == absolute[common]) {
    ++common;
  }
  std::string relative;
  for (size_t i = common; i < directory.size(); ++i) relative += relative.empty() ? ".." : "/..";
  for (size_t i = common; i < absolute.size(); ++i) {
    if (!relative.empty()) relative += '/';
    relative += absolute[i];
  }
  return relative.empty() ? "." : relative;
}

StatusOr<Digest> Relativize(Storage& storage, std::vector<std::string>& directory_names,
                            const std::string& path, const Digest& digest) {
  CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(path));
  CAIRN_ASSIGN_OR_RETURN(Directory directory, ReadDirectory(storage, digest, path));
  bool changed = false;
  for (SymlinkNode& link : *directory.mutable_symlinks()) {
    if (link.target().empty() || link.target().front() != '/') continue;
    link.set_target(RelativeTarget(directory_names, link.target()));
    changed = true;
  }
  for (DirectoryNode& child : *directory.mutable_directories()) {
    directory_names.push_back(child.name());
    StatusOr<Digest> rewritten =
        Relativize(storage, directory_names, JoinPath(path, child.name()), child.digest());
    directory_names.pop_back();
    if (!rewritten.ok()) return rewritten.status();
    if (*rewritten != child.digest()) {
      *child.mutable_digest() = *rewritten;
      changed = true;
    }
  }
  if (!changed) return digest;
  return storage.WriteMessage(directory);
}

}  // namespace

StatusOr<Digest> RelativizeSymlinks(Storage& storage, const Digest& root) {
  std::vector<std::string> directory_names;
  return Relativize(storage, directory_names, "", root);
}

// ---------------------------------------------------------------------------
// Symlinks leaving the tree

namespace {

// Linux follows at most 40 symlinks in one path resolution.
constexpr int kMaxSymlinkHops = 40;

class SymlinkResolver {
 public:
  explicit SymlinkResolver(Storage& storage) : storage_(storage) {}

  // A directory on the way: its digest, or none when it is not in the tree
  // (the walk then goes on lexically).
  using Stack = std::vector<std::optional<Digest>>;

  struct Link {
    std::string path;
    std::string target;
    Stack stack;  // the root down to the link's directory
  };

  Status Collect(const std::string& path, Stack& stack, std::vector<Link>& links) {
    CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(path));
    CAIRN_ASSIGN_OR_RETURN(const Directory* directory, Read(*stack.back(), path));
    for (const SymlinkNode& link : directory->symlinks()) {
      links.push_back(Link{JoinPath(path, link.name()), link.target(), stack});
    }
    for (const DirectoryNode& child : directory->directories()) {
      stack.push_back(child.digest());
      Status status = Collect(JoinPath(path, child.name()), stack, links);
      stack.pop_back();
      CAIRN_RETURN_IF_ERROR(status);
    }
    return Status::Ok();
  }

  // Whether following `target` from the top of `stack` climbs above the root.
  StatusOr<bool> LeavesRoot(Stack stack, const std::string& target) {
    std::deque<std::string> pending;
    Enter(stack, pending, target);
    int hops = 0;
    while (!pending.empty()) {
      std::string name = std::move(pending.front());
      pending.pop_front();
      if (name == "..") {
        if (stack.size() == 1) return true;
        stack.pop_back();
        continue;
      }
      if (!stack.back()) {
        stack.emplace_back();
        continue;
      }
      CAIRN_ASSIGN_OR_RETURN(const Directory* directory, Read(*stack.back(), ""));
      if (const DirectoryNode* child = FindNamed(directory->directories(), name)) {
        stack.push_back(child->digest());
      } else if (const SymlinkNode* link = FindNamed(directory->symlinks(), name)) {
        if (++hops > kMaxSymlinkHops) return false;  // a loop: ELOOP, not a way out
        Enter(stack, pending, link->target());
      } else if (FindNamed(directory->files(), name)) {
        if (!pending.empty()) return false;  // ENOTDIR: resolves nowhere
        stack.emplace_back();
      } else {
        stack.emplace_back();
      }
    }
    return false;
  }

  // Where following `target` from the directory `names` (the top of
  // `stack`) ends, as a path from the root ("a/b"; missing components are
  // taken as directories to create), or nullopt when it climbs above the
  // root. A loop or a file on the way is FAILED_PRECONDITION.
  StatusOr<std::optional<std::string>> ResolveInside(Stack stack, std::vector<std::string> names,
                                                     const std::string& target) {
    std::deque<std::string> pending;
    auto enter = [&](const std::string& link) {
      if (!link.empty() && link.front() == '/') names.clear();
      Enter(stack, pending, link);
    };
    enter(target);
    int hops = 0;
    while (!pending.empty()) {
      std::string name = std::move(pending.front());
      pending.pop_front();
      if (name == "..") {
        if (stack.size() == 1) return std::optional<std::string>();
        stack.pop_back();
        names.pop_back();
        continue;
      }
      const Directory* directory = nullptr;
      if (stack.back()) {
        CAIRN_ASSIGN_OR_RETURN(directory, Read(*stack.back(), ""));
      }
      const SymlinkNode* link = directory ? FindNamed(directory->symlinks(), name) : nullptr;
      if (link != nullptr) {
        if (++hops > kMaxSymlinkHops) {
          return FailedPrecondition("too many levels of symlinks following " + Quoted(target));
        }
        enter(link->target());
        continue;
      }
      if (directory != nullptr && FindNamed(directory->files(), name) != nullptr) {
        return FailedPrecondition("symlink target " + Quoted(target) + " goes through the file " +
                                  Quoted(JoinPath(JoinNames(names), name)));
      }
      const DirectoryNode* child = directory ? FindNamed(directory->directories(), name) : nullptr;
      stack.push_back(child ? std::optional<Digest>(child->digest()) : std::nullopt);
      names.push_back(name);
    }
    return std::optional<std::string>(JoinNames(names));
  }

  static std::string JoinNames(const std::vector<std::string>& names) {
    std::string path;
    for (const std::string& name : names) path = JoinPath(path, name);
    return path;
  }

  // Queues `target`'s components before what is pending; an absolute
  // target restarts from the root, where "/.." stays.
  static void Enter(Stack& stack, std::deque<std::string>& pending, const std::string& target) {
    std::vector<std::string> components = TargetComponents(target);
    size_t first = 0;
    if (!target.empty() && target.front() == '/') {
      stack.resize(1);
      while (first < components.size() && components[first] == "..") ++first;
    }
    pending.insert(pending.begin(), components.begin() + static_cast<std::ptrdiff_t>(first),
                   components.end());
  }

  // A Directory of the tree, read once.
  StatusOr<const Directory*> Read(const Digest& digest, const std::string& path) {
    auto cached = cache_.find(digest);
    if (cached == cache_.end()) {
      CAIRN_ASSIGN_OR_RETURN(Directory directory, ReadDirectory(storage_, digest, path));
      cached = cache_.emplace(digest, std::move(directory)).first;
    }
    return &cached->second;
  }

 private:
  Storage& storage_;
  std::unordered_map<Digest, Directory, DigestHash, DigestEqual> cache_;
};

// Collects, below `path`, the symlinks of the base (its directories on
// `stack`) that a directory of the layer (`layer`, at the same path) would
// be staged through.
Status CollectStagedThrough(Storage& storage, SymlinkResolver& resolver, const std::string& path,
                            SymlinkResolver::Stack& stack, const Digest& layer,
                            std::vector<SymlinkResolver::Link>& through) {
  CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(path));
  CAIRN_ASSIGN_OR_RETURN(Directory layer_directory, ReadDirectory(storage, layer, path));
  CAIRN_ASSIGN_OR_RETURN(const Directory* base, resolver.Read(*stack.back(), path));
  for (const DirectoryNode& child : layer_directory.directories()) {
    std::string child_path = JoinPath(path, child.name());
    if (const SymlinkNode* link = FindNamed(base->symlinks(), child.name())) {
      through.push_back(SymlinkResolver::Link{child_path, link->target(), stack});
    } else if (const DirectoryNode* existing = FindNamed(base->directories(), child.name())) {
      stack.push_back(existing->digest());
      Status status =
          CollectStagedThrough(storage, resolver, child_path, stack, child.digest(), through);
      stack.pop_back();
      CAIRN_RETURN_IF_ERROR(status);
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckStagingThroughSymlinks(Storage& storage, const Digest& base, const Digest& layer) {
  SymlinkResolver resolver(storage);
  SymlinkResolver::Stack stack = {base};
  std::vector<SymlinkResolver::Link> through;
  CAIRN_RETURN_IF_ERROR(CollectStagedThrough(storage, resolver, "", stack, layer, through));
  std::sort(through.begin(), through.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  for (const SymlinkResolver::Link& link : through) {
    CAIRN_ASSIGN_OR_RETURN(bool leaves, resolver.LeavesRoot(link.stack, link.target));
    if (leaves) {
      return FailedPrecondition("staging directory " + Quoted(link.path) +
                                " goes through the symlink there, -> " + Quoted(link.target) +
                                ", which resolves outside the root");
    }
  }
  return Status::Ok();
}

StatusOr<MergeResult> StageLayer(Storage& storage, const Digest& base, const Digest& layer) {
  Digest moved = layer;
  // Each round moves one directory of the layer to where the base's symlink
  // leads; the bound stops symlinks that lead into each other forever.
  for (int round = 0;; ++round) {
    SymlinkResolver resolver(storage);
    SymlinkResolver::Stack stack = {base};
    std::vector<SymlinkResolver::Link> through;
    CAIRN_RETURN_IF_ERROR(CollectStagedThrough(storage, resolver, "", stack, moved, through));
    if (through.empty()) break;
    if (round >= 10000) {
      return FailedPrecondition("staging goes through symlinks more than 10000 times");
    }
    std::sort(through.begin(), through.end(),
              [](const auto& a, const auto& b) { return a.path < b.path; });
    const SymlinkResolver::Link& link = through.front();
    std::vector<std::string> parent = SplitPath(link.path);
    parent.pop_back();
    CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> destination,
                           resolver.ResolveInside(link.stack, parent, link.target));
    if (!destination) {
      return FailedPrecondition("staging directory " + Quoted(link.path) +
                                " goes through the symlink there, -> " + Quoted(link.target) +
                                ", which resolves outside the root");
    }
    if (*destination == link.path) {
      return FailedPrecondition("symlink " + Quoted(link.path) + " -> " + Quoted(link.target) +
                                " leads to itself");
    }
    CAIRN_ASSIGN_OR_RETURN(Digest content, SubtreeAt(storage, moved, link.path));
    std::string prefix = link.path + "/";
    CAIRN_ASSIGN_OR_RETURN(moved, FilterTree(storage, moved, [&](const TreeEntry& entry) {
                             return entry.path != link.path &&
                                    entry.path.compare(0, prefix.size(), prefix) != 0;
                           }));
    CAIRN_ASSIGN_OR_RETURN(MergeResult grafted, GraftTree(storage, moved, *destination, content));
    moved = grafted.root;
  }
  return MergeTrees(storage, {base, moved});
}

Status CheckSymlinksStayInside(Storage& storage, const Digest& root) {
  SymlinkResolver resolver(storage);
  SymlinkResolver::Stack stack = {root};
  std::vector<SymlinkResolver::Link> links;
  CAIRN_RETURN_IF_ERROR(resolver.Collect("", stack, links));
  std::sort(links.begin(), links.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  for (const SymlinkResolver::Link& link : links) {
    CAIRN_ASSIGN_OR_RETURN(bool leaves, resolver.LeavesRoot(link.stack, link.target));
    if (leaves) {
      return FailedPrecondition("symlink " + Quoted(link.path) + " -> " + Quoted(link.target) +
                                " resolves outside the root");
    }
  }
  return Status::Ok();
}

}  // namespace cairn
