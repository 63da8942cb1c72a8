#include "cairn/tree_edit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cairn/testing/in_memory_storage.h"
#include "cairn/testing/tree_builder.h"

namespace cairn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::InMemoryStorage;
using testing::TreeBuilder;

class TreeEditTest : public ::testing::Test {
 protected:
  Digest Build(const std::vector<std::string>& specs) { return TreeBuilder(store_).Build(specs); }

  // "path" for files and dirs ("dir/"), "path*" for executables,
  // "path@target" for symlinks: the tree in one line per entry.
  std::vector<std::string> Describe(const Digest& root) {
    StatusOr<std::vector<TreeEntry>> entries = ListTree(store_, root);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    std::vector<std::string> lines;
    if (!entries.ok()) return lines;
    for (const TreeEntry& entry : *entries) {
      switch (entry.kind) {
        case TreeEntry::Kind::kFile:
          lines.push_back(entry.path + (entry.executable ? "*" : ""));
          break;
        case TreeEntry::Kind::kDirectory:
          lines.push_back(entry.path + "/");
          break;
        case TreeEntry::Kind::kSymlink:
          lines.push_back(entry.path + "@" + entry.target);
          break;
      }
    }
    return lines;
  }

  std::string TargetOf(const Digest& root, const std::string& path) {
    StatusOr<std::vector<TreeEntry>> entries = ListTree(store_, root);
    if (!entries.ok()) return "<" + entries.status().ToString() + ">";
    for (const TreeEntry& entry : *entries) {
      if (entry.path == path) return entry.target;
    }
    return "<missing>";
  }

  InMemoryStorage store_;
};

TEST_F(TreeEditTest, SubtreeAtFindsNestedDirectoriesAndTheRoot) {
  Digest lib = Build({"x=1"});
  Digest root = Build({"usr/lib/x=1", "usr/bin/y=2"});
  EXPECT_EQ(*SubtreeAt(store_, root, "usr/lib"), lib);
  EXPECT_EQ(*SubtreeAt(store_, root, ""), root);
}

TEST_F(TreeEditTest, SubtreeAtReportsMissingFilesAndSymlinksAsNotFoundNamingThePath) {
  Digest root = Build({"usr/bin/y=2", "usr/lib@=bin", "etc/"});
  StatusOr<Digest> missing = SubtreeAt(store_, root, "opt/x");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("'opt/x'"));
  StatusOr<Digest> file = SubtreeAt(store_, root, "usr/bin/y");
  EXPECT_EQ(file.status().code(), Code::kNotFound);
  EXPECT_THAT(file.status().message(), HasSubstr("'usr/bin/y' is a file"));
  StatusOr<Digest> link = SubtreeAt(store_, root, "usr/lib");
  EXPECT_EQ(link.status().code(), Code::kNotFound);
  EXPECT_THAT(link.status().message(), HasSubstr("'usr/lib' is a symlink"));
  EXPECT_EQ(SubtreeAt(store_, root, "usr/../etc").status().code(), Code::kInvalidArgument);
}

TEST_F(TreeEditTest, GraftTreeCreatesTheDirectoriesOnTheWay) {
  Digest root = Build({"etc/passwd=root"});
  Digest source = Build({"configure*=sh", "src/main.c=int"});
  StatusOr<MergeResult> grafted = GraftTree(store_, root, "buildstream/build/foo", source);
  ASSERT_TRUE(grafted.ok()) << grafted.status().ToString();
  EXPECT_TRUE(grafted->overlaps.empty());
  EXPECT_THAT(Describe(grafted->root),
              ElementsAre("buildstream/", "buildstream/build/", "buildstream/build/foo/",
                          "buildstream/build/foo/configure*", "buildstream/build/foo/src/",
                          "buildstream/build/foo/src/main.c", "etc/", "etc/passwd"));
  EXPECT_EQ(*SubtreeAt(store_, grafted->root, "buildstream/build/foo"), source);
}

TEST_F(TreeEditTest, GraftTreeMergesWithWhatIsThereTheSubtreeWinning) {
  Digest root = Build({"usr/bin/a=old", "usr/bin/b=kept", "usr/share@=elsewhere"});
  Digest layer = Build({"bin/a=new", "share/doc=text"});
  StatusOr<MergeResult> grafted = GraftTree(store_, root, "usr", layer);
  ASSERT_TRUE(grafted.ok()) << grafted.status().ToString();
  EXPECT_THAT(grafted->overlaps, ElementsAre("usr/bin/a", "usr/share"));
  EXPECT_EQ(GraftTree(store_, Build({}), "usr", layer)->root,
            Build({"usr/bin/a=new", "usr/share/doc=text"}));
  EXPECT_EQ(grafted->root, Build({"usr/bin/a=new", "usr/bin/b=kept", "usr/share/doc=text"}));
}

TEST_F(TreeEditTest, GraftTreeAtTheRootIsAMerge) {
  Digest root = Build({"a=1", "b=2"});
  Digest layer = Build({"b=3"});
  StatusOr<MergeResult> grafted = GraftTree(store_, root, "", layer);
  ASSERT_TRUE(grafted.ok());
  EXPECT_EQ(grafted->root, Build({"a=1", "b=3"}));
  EXPECT_THAT(grafted->overlaps, ElementsAre("b"));
}

TEST_F(TreeEditTest, ListTreeGivesEveryEntrySortedByPathWithKindsAndDigests) {
  Digest root = Build({"a/x=1", "a-b*=2", "a/link@=/usr/lib", "empty/"});
  StatusOr<std::vector<TreeEntry>> entries = ListTree(store_, root);
  ASSERT_TRUE(entries.ok());
  EXPECT_THAT(Describe(root), ElementsAre("a/", "a-b*", "a/link@/usr/lib", "a/x", "empty/"));
  EXPECT_EQ((*entries)[1].digest, DigestOfBytes("2"));
  EXPECT_EQ((*entries)[0].digest, Build({"x=1", "link@=/usr/lib"}));
  EXPECT_EQ((*entries)[4].digest, Build({}));
}

TEST_F(TreeEditTest, FilterTreeDropsDirectoriesWithNothingKept) {
  Digest root = Build({"usr/include/z.h=h", "usr/lib/libz.so=so", "usr/lib/libz.a=a"});
  StatusOr<Digest> runtime = FilterTree(store_, root, [](const TreeEntry& entry) {
    return entry.kind == TreeEntry::Kind::kFile && entry.path.find(".so") != std::string::npos;
  });
  ASSERT_TRUE(runtime.ok());
  EXPECT_THAT(Describe(*runtime), ElementsAre("usr/", "usr/lib/", "usr/lib/libz.so"));
}

TEST_F(TreeEditTest, FilterTreeKeepsADirectoryItSaysYesToEvenWhenEmptied) {
  Digest root = Build({"var/log/old=1", "var/cache/", "tmp/x=2"});
  StatusOr<Digest> filtered = FilterTree(store_, root, [](const TreeEntry& entry) {
    return entry.path == "var/log" || entry.path == "var/cache";
  });
  ASSERT_TRUE(filtered.ok());
  EXPECT_THAT(Describe(*filtered), ElementsAre("var/", "var/cache/", "var/log/"));
}

TEST_F(TreeEditTest, FilterTreeKeepingEverythingWritesNothing) {
  Digest root = Build({"a/b/c=1", "d@=a", "e/"});
  store_.ResetCounts();
  StatusOr<Digest> filtered = FilterTree(store_, root, [](const TreeEntry&) { return true; });
  ASSERT_TRUE(filtered.ok());
  EXPECT_EQ(*filtered, root);
  EXPECT_EQ(store_.Count(testing::StorageOp::kWriteBlob), 0u);
}

TEST_F(TreeEditTest, FilterTreeAsksAboutSymlinksAndExecutablesWithTheirDetails) {
  Digest root = Build({"bin/tool*=x", "bin/data=y", "bin/sh@=/bin/bash"});
  std::vector<std::string> seen;
  StatusOr<Digest> filtered = FilterTree(store_, root, [&](const TreeEntry& entry) {
    seen.push_back(entry.path);
    return entry.executable || entry.target == "/bin/bash";
  });
  ASSERT_TRUE(filtered.ok());
  EXPECT_THAT(seen, ElementsAre("bin", "bin/data", "bin/tool", "bin/sh"));
  EXPECT_THAT(Describe(*filtered), ElementsAre("bin/", "bin/sh@/bin/bash", "bin/tool*"));
}

TEST_F(TreeEditTest, RelativizeSymlinksRewritesAbsoluteTargetsFromTheLinksDirectory) {
  Digest root = Build({"usr/bin/y@=/usr/lib/x", "usr/lib/x=1", "top@=/usr/bin",
                       "usr/bin/self@=/usr/bin", "usr/bin/up@=/", "usr/bin/messy@=//usr/./lib//x/",
                       "usr/bin/above@=/../../etc/passwd", "usr/bin/rel@=../lib/x"});
  StatusOr<Digest> relative = RelativizeSymlinks(store_, root);
  ASSERT_TRUE(relative.ok());
  EXPECT_EQ(TargetOf(*relative, "usr/bin/y"), "../lib/x");
  EXPECT_EQ(TargetOf(*relative, "top"), "usr/bin");
  EXPECT_EQ(TargetOf(*relative, "usr/bin/self"), ".");
  EXPECT_EQ(TargetOf(*relative, "usr/bin/up"), "../..");
  EXPECT_EQ(TargetOf(*relative, "usr/bin/messy"), "../lib/x");
  EXPECT_EQ(TargetOf(*relative, "usr/bin/above"), "../../etc/passwd");
  EXPECT_EQ(TargetOf(*relative, "usr/bin/rel"), "../lib/x");
  EXPECT_EQ(TargetOf(*relative, "usr/lib/x"), "");
}

TEST_F(TreeEditTest, RelativizeSymlinksLeavesATreeWithoutAbsoluteLinksAsItIs) {
  Digest root = Build({"a/b@=../c", "c/d=1"});
  EXPECT_EQ(*RelativizeSymlinks(store_, root), root);
}

TEST_F(TreeEditTest, SymlinksResolvingInsideTheRootPass) {
  Digest root =
      Build({"usr/lib64@=lib", "lib@=usr/lib", "usr/lib/x@=../../lib/y", "usr/bin/sh@=/bin/bash",
             "usr/bin/dangling@=../nothing/here/..", "usr/bin/root@=../..", "abs@=/../../etc",
             "loop/a@=b", "loop/b@=a", "file/through@=../usr/lib/x/.."});
  Status status = CheckSymlinksStayInside(store_, root);
  EXPECT_TRUE(status.ok()) << status.ToString();
}

TEST_F(TreeEditTest, ASymlinkClimbingAboveTheRootIsNamedWithItsTarget) {
  Digest root = Build({"usr/lib/ok@=../bin", "usr/lib/out@=../../../etc/passwd", "z/out@=../.."});
  Status status = CheckSymlinksStayInside(store_, root);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("symlink 'usr/lib/out' -> '../../../etc/passwd'"));
}

TEST_F(TreeEditTest, ASymlinkLeavingThroughAnotherSymlinkIsCaught) {
  // "a/up" resolves to the root itself; from there ".." leaves.
  Digest root = Build({"a/up@=..", "b/escape@=../a/up/../x"});
  Status status = CheckSymlinksStayInside(store_, root);
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("'b/escape'"));
}

TEST_F(TreeEditTest, ASymlinkIntoADeepDirectoryThenUpIsFollowedNotTakenLexically) {
  // Lexically "deep/../.." would be "..", but "deep" is a link to "a/b/c".
  Digest root = Build({"a/b/c/", "deep@=a/b/c", "ok@=deep/../.."});
  EXPECT_TRUE(CheckSymlinksStayInside(store_, root).ok());
  Digest escaping = Build({"a/b/c/", "deep@=a/b/c", "out@=deep/../../../.."});
  EXPECT_EQ(CheckSymlinksStayInside(store_, escaping).code(), Code::kFailedPrecondition);
}

TEST_F(TreeEditTest, StagingADirectoryThroughASymlinkLeavingTheRootIsCaught) {
  Digest base = Build({"usr/lib/x=1", "usr/lib64@=../../../outside", "lib@=usr/lib"});
  Status status = CheckStagingThroughSymlinks(store_, base, Build({"usr/lib64/foo=2"}));
  EXPECT_EQ(status.code(), Code::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr("directory 'usr/lib64' goes through the symlink there, -> "
                        "'../../../outside'"));
}

TEST_F(TreeEditTest, StagingThroughInsideSymlinksOrOverEscapingOnesIsAllowed) {
  Digest base = Build({"usr/lib/x=1", "usr/lib64@=../../../outside", "lib@=usr/lib"});
  // Through a symlink that stays inside; a file replacing the escaping
  // symlink (bst unlinks it); a layer leaving the escaping link alone.
  for (const Digest& layer :
       {Build({"lib/foo=2"}), Build({"usr/lib64=file"}), Build({"usr/bin/tool=3"})}) {
    Status status = CheckStagingThroughSymlinks(store_, base, layer);
    EXPECT_TRUE(status.ok()) << status.ToString();
  }
}

TEST_F(TreeEditTest, StageLayerPutsADirectoryWhereTheBasesSymlinkLeadsAndKeepsTheLink) {
  // A usr-merged base: /bin is a link to usr/bin; a later layer installs
  // into /bin and /lib (absolute link), as bst stages it.
  Digest base = Build({"usr/bin/sh=sh", "bin@=usr/bin", "usr/lib/libc=c", "lib@=/usr/lib"});
  StatusOr<MergeResult> staged =
      StageLayer(store_, base, Build({"bin/tool=t", "lib/sub/libx=x", "etc/conf=c"}));
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_THAT(Describe(staged->root),
              ::testing::ElementsAre("bin@usr/bin", "etc/", "etc/conf", "lib@/usr/lib", "usr/",
                                     "usr/bin/", "usr/bin/sh", "usr/bin/tool", "usr/lib/",
                                     "usr/lib/libc", "usr/lib/sub/", "usr/lib/sub/libx"));
}

TEST_F(TreeEditTest, StageLayerFollowsChainedLinksAndCreatesAMissingDestination) {
  Digest base = Build({"a@=b", "b@=c/d", "c/"});
  StatusOr<MergeResult> staged = StageLayer(store_, base, Build({"a/f=1"}));
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_THAT(Describe(staged->root),
              ::testing::ElementsAre("a@b", "b@c/d", "c/", "c/d/", "c/d/f"));
}

TEST_F(TreeEditTest, StageLayerRefusesALinkLeavingTheRoot) {
  Digest base = Build({"usr/lib64@=../../../outside"});
  StatusOr<MergeResult> staged = StageLayer(store_, base, Build({"usr/lib64/foo=2"}));
  EXPECT_EQ(staged.status().code(), Code::kFailedPrecondition);
  EXPECT_THAT(staged.status().message(), HasSubstr("resolves outside the root"));
}

}  // namespace
}  // namespace cairn
