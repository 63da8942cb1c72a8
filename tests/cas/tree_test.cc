// Capturing real directories into trees and staging them back, through the
// plugin ABI.
#include <sys/stat.h>
#include <unistd.h>

#include "cas_test_util.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

// root/ a.txt, run.sh (executable), empty/, sub/z, link -> a.txt,
// abs -> /etc/hostname, dangling -> ../nowhere
void BuildSampleTree(const std::string& root) {
  MakeDir(root);
  WriteFile(root + "/a.txt", "hello");
  WriteFile(root + "/run.sh", "#!/bin/sh\necho hi\n", 0755);
  MakeDir(root + "/empty");
  MakeDir(root + "/sub");
  WriteFile(root + "/sub/z", "zzz", 0600);
  MakeSymlink("a.txt", root + "/link");
  MakeSymlink("/etc/hostname", root + "/abs");
  MakeSymlink("../nowhere", root + "/dangling");
}

// The same tree, computed independently as the REAPI defines it.
Digest ExpectedSampleDigest() {
  Directory empty;
  Directory sub;
  FileNode* z = sub.add_files();
  z->set_name("z");
  *z->mutable_digest() = DigestOfBytes("zzz");
  Directory root;
  FileNode* a = root.add_files();
  a->set_name("a.txt");
  *a->mutable_digest() = DigestOfBytes("hello");
  FileNode* run = root.add_files();
  run->set_name("run.sh");
  *run->mutable_digest() = DigestOfBytes("#!/bin/sh\necho hi\n");
  run->set_is_executable(true);
  DirectoryNode* e = root.add_directories();
  e->set_name("empty");
  *e->mutable_digest() = DigestOfMessage(empty);
  DirectoryNode* s = root.add_directories();
  s->set_name("sub");
  *s->mutable_digest() = DigestOfMessage(sub);
  SymlinkNode* abs = root.add_symlinks();
  abs->set_name("abs");
  abs->set_target("/etc/hostname");
  SymlinkNode* dangling = root.add_symlinks();
  dangling->set_name("dangling");
  dangling->set_target("../nowhere");
  SymlinkNode* link = root.add_symlinks();
  link->set_name("link");
  link->set_target("a.txt");
  return DigestOfMessage(root);
}

TEST_F(CasTest, CaptureGivesTheDigestAnyReapiImplementationComputes) {
  BuildSampleTree(temp_ / "tree");
  ASSERT_OK_AND_ASSIGN(CapturedTree captured,
                       store().CaptureTree(temp_ / "tree", CaptureOptions{}));
  EXPECT_EQ(captured.root, ExpectedSampleDigest());
  ASSERT_OK_AND_ASSIGN(Directory root, ReadDirectory(store(), captured.root));
  ASSERT_EQ(root.directories_size(), 2);
  EXPECT_TRUE(IsEmptyDigest(root.directories(0).digest()));  // empty directories are kept
}

TEST_F(CasTest, EmptyDirectoryCapturesToTheEmptyDigest) {
  MakeDir(temp_ / "nothing");
  ASSERT_OK_AND_ASSIGN(CapturedTree captured,
                       store().CaptureTree(temp_ / "nothing", CaptureOptions{}));
  EXPECT_TRUE(IsEmptyDigest(captured.root));
}

TEST_F(CasTest, SameContentCapturedTwiceGivesTheSameDigestWhateverTheMetadata) {
  BuildSampleTree(temp_ / "one");
  BuildSampleTree(temp_ / "two");
  // Different mtimes and group/other bits must not matter.
  ASSERT_EQ(Shell("touch -d 2001-01-01 " + (temp_ / "two/a.txt") + " && chmod 0700 " +
                  (temp_ / "two/run.sh") + " && chmod 0640 " + (temp_ / "two/sub/z")),
            0);
  ASSERT_OK_AND_ASSIGN(CapturedTree one, store().CaptureTree(temp_ / "one", CaptureOptions{}));
  ASSERT_OK_AND_ASSIGN(CapturedTree two, store().CaptureTree(temp_ / "two", CaptureOptions{}));
  EXPECT_EQ(one.root, two.root);
}

TEST_F(CasTest, StageCopiesContentModesSymlinksAndTheReproducibleMtime) {
  BuildSampleTree(temp_ / "tree");
  ASSERT_OK_AND_ASSIGN(CapturedTree captured,
                       store().CaptureTree(temp_ / "tree", CaptureOptions{}));
  MakeDir(temp_ / "out");
  ASSERT_OK(store().StageTree(captured.root, temp_ / "out", StageOptions{}));
  EXPECT_EQ(ReadFile(temp_ / "out/a.txt"), "hello");
  EXPECT_EQ(ReadFile(temp_ / "out/sub/z"), "zzz");
  EXPECT_EQ(Lstat(temp_ / "out/a.txt").st_mode & 07777, 0644u);
  EXPECT_EQ(Lstat(temp_ / "out/run.sh").st_mode & 07777, 0755u);
  EXPECT_EQ(Lstat(temp_ / "out/sub/z").st_mode & 07777, 0644u);
  EXPECT_TRUE(S_ISDIR(Lstat(temp_ / "out/empty").st_mode));
  for (const char* name : {"a.txt", "run.sh", "sub/z", "link", "abs", "dangling", "sub", "empty"}) {
    EXPECT_EQ(Lstat(temp_ / "out/" + name).st_mtime, 1321009871) << name;
  }
  char target[256] = {};
  ASSERT_GT(::readlink((temp_ / "out/dangling").c_str(), target, sizeof(target)), 0);
  EXPECT_STREQ(target, "../nowhere");
  EXPECT_TRUE(S_ISLNK(Lstat(temp_ / "out/abs").st_mode));
  // Staged content captures back to the same digest.
  ASSERT_OK_AND_ASSIGN(CapturedTree again, store().CaptureTree(temp_ / "out", CaptureOptions{}));
  EXPECT_EQ(again.root, captured.root);
}

TEST_F(CasTest, StageWithHardlinksLinksEveryFileToTheStore) {
  BuildSampleTree(temp_ / "tree");
  ASSERT_OK_AND_ASSIGN(CapturedTree captured,
                       store().CaptureTree(temp_ / "tree", CaptureOptions{}));
  MakeDir(temp_ / "out");
  StageOptions options;
  options.hardlinks = true;
  ASSERT_OK(store().StageTree(captured.root, temp_ / "out", options));
  struct stat staged = Lstat(temp_ / "out/a.txt");
  struct stat object = Lstat(ObjectPath(DigestOfBytes("hello")));
  EXPECT_EQ(staged.st_ino, object.st_ino);
  EXPECT_EQ(staged.st_mode & 0777, 0444u);  // read-only use of the store's object
  EXPECT_EQ(staged.st_mtime, 1321009871);
  // The executable links to the object's executable variant.
  struct stat run = Lstat(temp_ / "out/run.sh");
  EXPECT_EQ(run.st_ino, Lstat(ObjectPath(DigestOfBytes("#!/bin/sh\necho hi\n")) + ".x").st_ino);
  EXPECT_EQ(run.st_mode & 0777, 0555u);
  ASSERT_OK_AND_ASSIGN(CapturedTree again, store().CaptureTree(temp_ / "out", CaptureOptions{}));
  EXPECT_EQ(again.root, captured.root);
}

TEST_F(CasTest, UnicodeNamesRoundTripByteForByte) {
  MakeDir(temp_ / "u");
  WriteFile(temp_ / "u/caf\xc3\xa9.txt", "accent");
  MakeDir(temp_ / "u/\xe6\x97\xa5\xe6\x9c\xac");
  WriteFile(temp_ / "u/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80", "emoji");
  ASSERT_OK_AND_ASSIGN(CapturedTree captured, store().CaptureTree(temp_ / "u", CaptureOptions{}));
  MakeDir(temp_ / "out");
  ASSERT_OK(store().StageTree(captured.root, temp_ / "out", StageOptions{}));
  EXPECT_EQ(ReadFile(temp_ / "out/caf\xc3\xa9.txt"), "accent");
  EXPECT_EQ(ReadFile(temp_ / "out/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80"), "emoji");
}

TEST_F(CasTest, NameThatIsNotUtf8CannotBeCapturedAndIsNamed) {
  MakeDir(temp_ / "bad");
  WriteFile(temp_ / "bad/latin1-\xe9", "x");
  StatusOr<CapturedTree> captured = store().CaptureTree(temp_ / "bad", CaptureOptions{});
  EXPECT_EQ(captured.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(captured.status().message(), HasSubstr("latin1-"));
}

TEST_F(CasTest, StoreTreeOptionStoresTheReapiTreeOfTheCapture) {
  BuildSampleTree(temp_ / "tree");
  CaptureOptions options;
  options.store_tree = true;
  ASSERT_OK_AND_ASSIGN(CapturedTree captured, store().CaptureTree(temp_ / "tree", options));
  ASSERT_TRUE(captured.tree.has_value());
  ASSERT_OK_AND_ASSIGN(Tree tree, store().ReadMessage<Tree>(*captured.tree));
  EXPECT_EQ(DigestOfMessage(tree.root()), captured.root);
  EXPECT_EQ(tree.children_size(), 2);  // empty/ and sub/
  ASSERT_OK_AND_ASSIGN(Tree built, BuildTreeMessage(store(), captured.root));
  EXPECT_EQ(built.children_size(), 2);
}

TEST_F(CasTest, MergedTreesStageAsTheirUnion) {
  MakeDir(temp_ / "a");
  MakeDir(temp_ / "a/usr");
  WriteFile(temp_ / "a/usr/one", "1");
  WriteFile(temp_ / "a/usr/shared", "from a");
  MakeDir(temp_ / "b");
  MakeDir(temp_ / "b/usr");
  WriteFile(temp_ / "b/usr/two", "2");
  WriteFile(temp_ / "b/usr/shared", "from b");
  ASSERT_OK_AND_ASSIGN(CapturedTree a, store().CaptureTree(temp_ / "a", CaptureOptions{}));
  ASSERT_OK_AND_ASSIGN(CapturedTree b, store().CaptureTree(temp_ / "b", CaptureOptions{}));
  ASSERT_OK_AND_ASSIGN(MergeResult merged, MergeTrees(store(), {a.root, b.root}));
  EXPECT_EQ(merged.overlaps, std::vector<std::string>{"usr/shared"});
  MakeDir(temp_ / "out");
  ASSERT_OK(store().StageTree(merged.root, temp_ / "out", StageOptions{}));
  EXPECT_EQ(ReadFile(temp_ / "out/usr/one"), "1");
  EXPECT_EQ(ReadFile(temp_ / "out/usr/two"), "2");
  EXPECT_EQ(ReadFile(temp_ / "out/usr/shared"), "from b");
}

TEST_F(CasTest, CaptureOfASocketIsInvalidArgumentNamingIt) {
  MakeDir(temp_ / "s");
  ASSERT_EQ(Shell("cd " + (temp_ / "s") + " && mkfifo pipe"), 0);
  StatusOr<CapturedTree> captured = store().CaptureTree(temp_ / "s", CaptureOptions{});
  EXPECT_EQ(captured.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(captured.status().message(), HasSubstr("pipe"));
}

}  // namespace
}  // namespace cairn::testing
