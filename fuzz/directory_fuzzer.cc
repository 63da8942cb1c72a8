// REAPI Directory trees from arbitrary bytes (a serialized Tree: a root and
// its children), checked by the rules every walk uses
// (cairn/directory_rules.h), by the ActionValidator over a real store, and
// staged by the real cas-local plugin into a temporary directory.
//
// The input's directory nodes are re-pointed at later children of the same
// Tree and its file nodes at blobs written for them, so the tree is in the
// store and staging gets past "missing blob" to the hostile names, orders,
// symlinks and modes. Properties: every refusal is INVALID_ARGUMENT; a tree
// the validator accepts stages; one it refuses does not; and nothing is
// ever written outside the staging directory.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cairn/action_validator.h"
#include "cairn/directory_rules.h"
#include "cairn/runtime/runtime.h"

namespace {

namespace fs = std::filesystem;
using cairn::Digest;
using cairn::Directory;
using Tree = build::bazel::remote::execution::v2::Tree;

constexpr int kMaxChildren = 32;
constexpr uint64_t kMaxStagedEntries = 2000;

void Require(bool condition) {
  if (!condition) std::abort();
}

void RequireCleanError(const cairn::Status& status) {
  Require(status.ok() || status.code() == cairn::Code::kInvalidArgument);
}

struct Fixture {
  std::string root;  // removed at exit
  std::unique_ptr<cairn::Runtime> runtime;
  std::shared_ptr<cairn::Storage> storage;
};

// Staged directories may be read-only: make them writable, then remove.
void RemoveTree(const std::string& path) {
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(path, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_directory(error) && !it->is_symlink(error)) chmod(it->path().c_str(), 0700);
  }
  chmod(path.c_str(), 0700);
  fs::remove_all(path, error);
}

Fixture& TheFixture() {
  static Fixture* fixture = [] {
    auto* made = new Fixture();
    char pattern[] = "/tmp/cairn-directory-fuzz-XXXXXX";
    made->root = mkdtemp(pattern);
    std::atexit([] { RemoveTree(TheFixture().root); });
    auto registry = std::make_shared<cairn::PluginRegistry>(
        cairn::PluginRegistry::Discover({CAIRN_CAS_LOCAL_PLUGIN}));
    cairn::RuntimeOptions options;
    options.storage.plugin = "cas-local";
    options.storage.options_yaml = "path: " + made->root + "/cas\n";
    made->runtime = std::make_unique<cairn::Runtime>(options, registry);
    cairn::StatusOr<std::shared_ptr<cairn::Storage>> storage = made->runtime->OpenStorage();
    Require(storage.ok());
    made->storage = *storage;
    return made;
  }();
  return *fixture;
}

// Points the input's nodes at what is in the store: directory node k of
// children[index] at a later child, files at blobs holding their names.
// Returns the digest of the rewritten children[index] (index -1: the root),
// and counts in `entries` what staging it would create.
Digest Store(cairn::Storage& storage, Tree& tree, int index, std::vector<Digest>& digests,
             std::vector<uint64_t>& sizes, uint64_t* entries) {
  Directory& directory = index < 0 ? *tree.mutable_root() : *tree.mutable_children(index);
  int later = tree.children_size() - index - 1;
  uint64_t count = 0;
  for (int k = 0; k < directory.directories_size(); ++k) {
    if (later <= 0) {
      directory.mutable_directories()->DeleteSubrange(k, directory.directories_size() - k);
      break;
    }
    int target = index + 1 + k % later;
    *directory.mutable_directories(k)->mutable_digest() = digests[target];
    count = std::min(kMaxStagedEntries + 1, count + 1 + sizes[target]);
  }
  for (auto& file : *directory.mutable_files()) {
    cairn::StatusOr<Digest> blob = storage.WriteBlob(file.name());
    Require(blob.ok());
    *file.mutable_digest() = *blob;
  }
  count =
      std::min(kMaxStagedEntries + 1, count + directory.files_size() + directory.symlinks_size());
  *entries = count;
  cairn::StatusOr<Digest> stored = storage.WriteBlob(directory.SerializeAsString());
  Require(stored.ok());
  return *stored;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Tree tree;
  if (!tree.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (tree.children_size() > kMaxChildren) return 0;

  // The rules alone, on the messages as they came.
  for (bool absolute : {false, true}) {
    cairn::DirectoryRules rules;
    rules.allow_absolute_symlinks = absolute;
    rules.field_prefix = "input_root";
    RequireCleanError(cairn::ValidateDirectory(tree.root(), "", rules));
    for (const Directory& child : tree.children()) {
      RequireCleanError(cairn::ValidateDirectory(child, "child", rules));
    }
  }

  Fixture& fixture = TheFixture();
  int children = tree.children_size();
  std::vector<Digest> digests(children);
  std::vector<uint64_t> sizes(children);
  for (int index = children - 1; index >= 0; --index) {
    digests[index] = Store(*fixture.storage, tree, index, digests, sizes, &sizes[index]);
  }
  uint64_t entries = 0;
  Digest root = Store(*fixture.storage, tree, -1, digests, sizes, &entries);

  cairn::ActionValidator validator(*fixture.storage);
  std::vector<Digest> missing;
  cairn::Status valid = validator.ValidateTree(root, "input_root", &missing);
  RequireCleanError(valid);
  if (valid.ok()) Require(missing.empty());
  if (entries > kMaxStagedEntries) return 0;

  // The staging directory sits alone in a jail: anything else appearing
  // there (or beside the jail) escaped.
  std::string jail = fixture.root + "/jail";
  std::string stage = jail + "/stage";
  fs::create_directories(stage);
  cairn::StageOptions options;
  options.hardlinks = size % 2 == 0;
  cairn::Status staged = fixture.storage->StageTree(root, stage, options);
  if (valid.ok()) Require(staged.ok());
  if (!valid.ok()) Require(!staged.ok());
  int in_jail = 0;
  for (const auto& entry : fs::directory_iterator(jail)) {
    Require(entry.path().filename() == "stage");
    ++in_jail;
  }
  Require(in_jail == 1);
  int beside = 0;
  for (const auto& entry : fs::directory_iterator(fixture.root)) {
    std::string name = entry.path().filename().string();
    Require(name == "jail" || name == "cas");
    ++beside;
  }
  Require(beside <= 2);
  RemoveTree(jail);
  return 0;
}
