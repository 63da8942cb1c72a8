// cairn/testing/tree_builder.h — trees for tests: Directory messages
// written to a Storage from short specs, so a test states its tree in one
// line.
//   "usr/bin/tool=content"   a file      "usr/bin/tool*=content"  executable
//   "lib/link@=target"       a symlink   "empty/"                 a directory
#ifndef CAIRN_TESTING_TREE_BUILDER_H
#define CAIRN_TESTING_TREE_BUILDER_H

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cairn/merkle.h"

namespace cairn::testing {

class TreeBuilder {
 public:
  explicit TreeBuilder(Storage& storage) : storage_(storage) {}

  Digest Build(const std::vector<std::string>& specs) {
    Node root;
    for (const std::string& spec : specs) Add(root, spec);
    return Write(root);
  }

 private:
  struct Node {
    std::map<std::string, Node> children;
    std::map<std::string, std::pair<std::string, bool>> files;
    std::map<std::string, std::string> symlinks;
  };

  static void Add(Node& root, const std::string& spec) {
    size_t equals = spec.find('=');
    std::string path = spec.substr(0, equals);
    Node* node = &root;
    size_t start = 0;
    for (size_t slash; (slash = path.find('/', start)) != std::string::npos; start = slash + 1) {
      node = &node->children[path.substr(start, slash - start)];
    }
    if (equals == std::string::npos) return;  // "dir/" made the directory
    std::string name = path.substr(start);
    std::string value = spec.substr(equals + 1);
    if (name.back() == '@') {
      node->symlinks[name.substr(0, name.size() - 1)] = value;
    } else if (name.back() == '*') {
      node->files[name.substr(0, name.size() - 1)] = {value, true};
    } else {
      node->files[name] = {value, false};
    }
  }

  Digest Write(const Node& node) {
    Directory directory;
    for (const auto& [name, file] : node.files) {
      FileNode* entry = directory.add_files();
      entry->set_name(name);
      *entry->mutable_digest() = *storage_.WriteBlob(file.first);
      entry->set_is_executable(file.second);
    }
    for (const auto& [name, child] : node.children) {
      DirectoryNode* entry = directory.add_directories();
      entry->set_name(name);
      *entry->mutable_digest() = Write(child);
    }
    for (const auto& [name, target] : node.symlinks) {
      SymlinkNode* entry = directory.add_symlinks();
      entry->set_name(name);
      entry->set_target(target);
    }
    return *storage_.WriteMessage(directory);
  }

  Storage& storage_;
};

// A Directory holding only `child` named `name`.
inline Directory DirectoryWith(const std::string& name, const Digest& child) {
  Directory directory;
  DirectoryNode* node = directory.add_directories();
  node->set_name(name);
  *node->mutable_digest() = child;
  return directory;
}

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_TREE_BUILDER_H
