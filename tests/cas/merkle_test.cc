// Unit tests of cairn/merkle.h against tests/support's InMemoryStorage: the
// tree logic alone, with no disk and no plugin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "cairn/merkle.h"
#include "cairn/testing/in_memory_storage.h"
#include "cairn/testing/tree_builder.h"

namespace cairn {
namespace {

using ::cairn::testing::InMemoryStorage;
using ::cairn::testing::StorageOp;
using ::cairn::testing::TreeBuilder;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Listing(Storage& storage, const Digest& root) {
  std::vector<std::string> lines;
  Status status = WalkTree(
      storage, root, [&](const std::string& path, const Digest&, const Directory& directory) {
        std::string prefix = path.empty() ? "" : path + "/";
        for (const FileNode& f : directory.files()) {
          lines.push_back(prefix + f.name() + (f.is_executable() ? "*" : "") + "=" +
                          *storage.ReadBlob(f.digest(), 0, 0));
        }
        for (const SymlinkNode& s : directory.symlinks())
          lines.push_back(prefix + s.name() + "@=" + s.target());
        if (directory.files_size() + directory.directories_size() + directory.symlinks_size() ==
            0) {
          lines.push_back(prefix);
        }
        return Status::Ok();
      });
  EXPECT_TRUE(status.ok()) << status.ToString();
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(ValidateName, RejectsEveryNameThatCouldLeaveItsDirectory) {
  for (std::string name : {std::string(""), std::string("."), std::string(".."), std::string("a/b"),
                           std::string("/"), std::string("a\0b", 3)}) {
    Status status = ValidateName(name);
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << name;
    EXPECT_THAT(status.message(), HasSubstr("invalid name '"));
  }
  EXPECT_TRUE(ValidateName("...").ok());
  EXPECT_TRUE(ValidateName(".hidden").ok());
  EXPECT_TRUE(ValidateName("caf\xc3\xa9").ok());
}

TEST(ValidateDirectory, RejectsUnsortedListsAndNamesRepeatedAcrossLists) {
  Directory unsorted;
  unsorted.add_files()->set_name("b");
  unsorted.add_files()->set_name("a");
  for (auto& f : *unsorted.mutable_files()) *f.mutable_digest() = EmptyDigest();
  EXPECT_EQ(ValidateDirectory(unsorted).code(), Code::kInvalidArgument);

  Directory repeated;
  FileNode* f = repeated.add_files();
  f->set_name("x");
  *f->mutable_digest() = EmptyDigest();
  SymlinkNode* s = repeated.add_symlinks();
  s->set_name("x");
  s->set_target("y");
  Status status = ValidateDirectory(repeated, "usr/lib");
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("duplicate name 'x'"));
  EXPECT_THAT(status.message(), HasSubstr("usr/lib"));
}

TEST(ValidateDirectory, RejectsMalformedDigestsNamingTheEntry) {
  Directory directory;
  FileNode* f = directory.add_files();
  f->set_name("bad");
  *f->mutable_digest() = MakeDigest("XYZ", 1);
  Status status = ValidateDirectory(directory);
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("bad"));
}

TEST(MergeTrees, LaterTreesWinAndDifferingOverlapsAreReported) {
  InMemoryStorage storage;
  TreeBuilder builder(storage);
  Digest a = builder.Build({"usr/bin/tool=v1", "usr/lib/liba=a", "etc/conf=same", "link@=x"});
  Digest b = builder.Build({"usr/bin/tool*=v2", "usr/lib/libb=b", "etc/conf=same", "link@=y"});
  auto merged = MergeTrees(storage, {a, b});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_THAT(merged->overlaps, ElementsAre("link", "usr/bin/tool"));
  EXPECT_THAT(Listing(storage, merged->root),
              ElementsAre("etc/conf=same", "link@=y", "usr/bin/tool*=v2", "usr/lib/liba=a",
                          "usr/lib/libb=b"));
}

TEST(MergeTrees, FileAndDirectoryReplaceEachOtherAsOverlaps) {
  InMemoryStorage storage;
  TreeBuilder builder(storage);
  Digest a = builder.Build({"x/inner=1", "y=file"});
  Digest b = builder.Build({"x=file", "y/inner=2"});
  auto merged = MergeTrees(storage, {a, b});
  ASSERT_TRUE(merged.ok());
  EXPECT_THAT(merged->overlaps, ElementsAre("x", "y"));
  EXPECT_THAT(Listing(storage, merged->root), ElementsAre("x=file", "y/inner=2"));
}

TEST(MergeTrees, SubtreesFromOneInputAreReusedWithoutBeingRead) {
  InMemoryStorage storage;
  TreeBuilder builder(storage);
  Digest a = builder.Build({"only-a/deep/er/file=1"});
  Digest b = builder.Build({"only-b/deep/er/file=2"});
  storage.ResetCounts();
  auto merged = MergeTrees(storage, {a, b});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(storage.Count(StorageOp::kReadBlob), 2u);  // the two roots, nothing below them
  EXPECT_TRUE(merged->overlaps.empty());
}

TEST(MergeTrees, MergedTreeIsCanonicalAndEqualsTheTreeBuiltDirectly) {
  InMemoryStorage storage;
  TreeBuilder builder(storage);
  Digest a = builder.Build({"b/2=2", "a=1", "empty/"});
  Digest b = builder.Build({"b/1=1", "c@=a"});
  Digest direct = builder.Build({"a=1", "b/1=1", "b/2=2", "c@=a", "empty/"});
  auto merged = MergeTrees(storage, {a, b});
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->root, direct);
}

TEST(MergeTrees, MalformedInputIsReportedNotMerged) {
  InMemoryStorage storage;
  TreeBuilder builder(storage);
  Digest good = builder.Build({"a=1"});
  Directory hostile;
  FileNode* f = hostile.add_files();
  f->set_name("..");
  *f->mutable_digest() = EmptyDigest();
  Digest bad = *storage.WriteMessage(hostile);
  auto merged = MergeTrees(storage, {good, bad});
  EXPECT_EQ(merged.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(merged.status().message(), HasSubstr("'..'"));
}

TEST(CollectTree, ListsEveryDistinctDirectoryAndFileOnce) {
  InMemoryStorage storage;
  TreeBuilder builder(storage);
  Digest root = builder.Build({"one/f=same", "two/f=same", "top=other"});
  auto collected = CollectTree(storage, root);
  ASSERT_TRUE(collected.ok());
  EXPECT_EQ(collected->directories.size(), 2u);  // root, and one/ == two/
  EXPECT_EQ(collected->files.size(), 2u);
  EXPECT_EQ(collected->AllDigests().size(), 4u);
  auto tree = BuildTreeMessage(storage, root);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(DigestOfMessage(tree->root()), root);
  EXPECT_EQ(tree->children_size(), 1);
}

TEST(WalkTree, MissingDirectoryIsNotFoundNamingItsPath) {
  InMemoryStorage storage;
  Directory root;
  DirectoryNode* d = root.add_directories();
  d->set_name("lost");
  *d->mutable_digest() = DigestOfBytes("not stored");
  Digest digest = *storage.WriteMessage(root);
  Status status =
      WalkTree(storage, digest,
               [](const std::string&, const Digest&, const Directory&) { return Status::Ok(); });
  EXPECT_EQ(status.code(), Code::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("lost"));
}

}  // namespace
}  // namespace cairn

namespace cairn {
namespace {

// A chain of `depth` directories, each holding only the next ("d/d/d...").
Digest NestedChain(Storage& storage, size_t depth) {
  Directory current;  // the innermost, empty
  Digest digest = *storage.WriteMessage(current);
  for (size_t level = 0; level < depth; ++level) {
    Directory parent;
    DirectoryNode* child = parent.add_directories();
    child->set_name("d");
    *child->mutable_digest() = digest;
    digest = *storage.WriteMessage(parent);
  }
  return digest;
}

TEST(TreeDepth, TreesUpToTheLimitAreWalkedAndDeeperOnesRefusedNotCrashed) {
  InMemoryStorage storage;
  size_t visited = 0;
  Status within = WalkTree(storage, NestedChain(storage, kMaxTreeDepth),
                           [&](const std::string&, const Digest&, const Directory&) {
                             ++visited;
                             return Status::Ok();
                           });
  EXPECT_TRUE(within.ok()) << within.ToString();
  EXPECT_EQ(visited, kMaxTreeDepth + 1);

  // Far deeper than the limit: an error, not a stack overflow.
  Digest hostile = NestedChain(storage, 20 * kMaxTreeDepth);
  Status walked =
      WalkTree(storage, hostile,
               [](const std::string&, const Digest&, const Directory&) { return Status::Ok(); });
  EXPECT_EQ(walked.code(), Code::kInvalidArgument);
  EXPECT_THAT(walked.message(), HasSubstr("nests deeper than 1000 directories"));

  StatusOr<MergeResult> merged = MergeTrees(storage, {hostile, hostile});
  EXPECT_EQ(merged.status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cairn
