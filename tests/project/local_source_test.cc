#include "cairn/project/local_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "cairn/testing/in_memory_storage.h"
#include "cairn/testing/tree_builder.h"
#include "cairn/tree_edit.h"
#include "test_files.h"

namespace cairn::project {
namespace {

using ::testing::HasSubstr;
using testing::InMemoryStorage;
using testing::StorageOp;
using testing::TreeBuilder;

class LocalSourceTest : public ::testing::Test {
 protected:
  std::string Tree(const std::vector<std::string>& specs) {
    return DigestToString(TreeBuilder(store_).Build(specs));
  }

  std::string Imported(const std::string& path) {
    StatusOr<Digest> root = ImportLocalSource(store_, path);
    return root.ok() ? DigestToString(*root) : root.status().ToString();
  }

  void Symlink(const std::string& target, const std::string& relative) {
    ASSERT_EQ(::symlink(target.c_str(), (dir_.path() + "/" + relative).c_str()), 0) << relative;
  }

  void MakeExecutable(const std::string& relative) {
    ASSERT_EQ(::chmod((dir_.path() + "/" + relative).c_str(), 0700), 0);
  }

  TempDir dir_;
  InMemoryStorage store_;
};

TEST_F(LocalSourceTest, ADirectoryGivesItsContentsWithEmptyDirectoriesAndExecutableBits) {
  dir_.Write("files/README", "read me");
  dir_.Write("files/bin/tool", "#!/bin/sh");
  MakeExecutable("files/bin/tool");
  std::filesystem::create_directories(dir_.path() + "/files/var/empty");
  EXPECT_EQ(Imported(dir_.path() + "/files"),
            Tree({"README=read me", "bin/tool*=#!/bin/sh", "var/empty/"}));
}

TEST_F(LocalSourceTest, AbsoluteSymlinksBecomeRelativeToTheImportedTreeAndRelativeOnesStay) {
  std::filesystem::create_directories(dir_.path() + "/files/sub");
  Symlink("/etc/passwd", "files/sub/abs");
  Symlink("/usr/lib/x", "files/top");
  Symlink("../../outside", "files/sub/rel");
  EXPECT_EQ(Imported(dir_.path() + "/files"),
            Tree({"sub/abs@=../etc/passwd", "top@=usr/lib/x", "sub/rel@=../../outside"}));
}

TEST_F(LocalSourceTest, AFileGivesATreeHoldingItUnderItsName) {
  dir_.Write("files/script.sh", "echo");
  MakeExecutable("files/script.sh");
  EXPECT_EQ(Imported(dir_.path() + "/files/script.sh"), Tree({"script.sh*=echo"}));
}

TEST_F(LocalSourceTest, ASymlinkGivenAsThePathIsFollowedKeepingTheLinksName) {
  dir_.Write("real/data.txt", "data");
  dir_.Write("real/tree/a", "a");
  Symlink("real/data.txt", "alias.txt");
  Symlink("real/tree", "tree-link");
  EXPECT_EQ(Imported(dir_.path() + "/alias.txt"), Tree({"alias.txt=data"}));
  EXPECT_EQ(Imported(dir_.path() + "/tree-link"), Tree({"a=a"}));
}

TEST_F(LocalSourceTest, AMissingPathIsNotFoundNamingIt) {
  StatusOr<Digest> root = ImportLocalSource(store_, dir_.path() + "/nothing");
  EXPECT_EQ(root.status().code(), Code::kNotFound);
  EXPECT_THAT(root.status().message(), HasSubstr(dir_.path() + "/nothing"));
}

TEST_F(LocalSourceTest, AFifoInsideIsRefusedNamingIt) {
  dir_.Write("files/ok", "1");
  ASSERT_EQ(::mkfifo((dir_.path() + "/files/pipe").c_str(), 0644), 0);
  StatusOr<Digest> root = ImportLocalSource(store_, dir_.path() + "/files");
  EXPECT_EQ(root.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(root.status().message(), HasSubstr("pipe"));
  store_.FailNext(StorageOp::kCaptureTree, 1, Unimplemented("no capture here"));
  StatusOr<Digest> walked = ImportLocalSource(store_, dir_.path() + "/files");
  EXPECT_EQ(walked.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(walked.status().message(), HasSubstr("files/pipe: it is a FIFO"));
}

TEST_F(LocalSourceTest, AStoreWithoutCaptureTreeGetsTheSameTreeFileByFile) {
  dir_.Write("files/a/b/c", "c");
  dir_.Write("files/x", "x");
  MakeExecutable("files/x");
  Symlink("/a/b", "files/a/link");
  std::filesystem::create_directories(dir_.path() + "/files/empty");
  std::string captured = Imported(dir_.path() + "/files");
  store_.FailNext(StorageOp::kCaptureTree, 1, Unimplemented("no capture here"));
  store_.ResetCounts();
  EXPECT_EQ(Imported(dir_.path() + "/files"), captured);
  EXPECT_EQ(store_.Count(StorageOp::kWriteBlobFromPath), 2u);
  EXPECT_EQ(captured, Tree({"a/b/c=c", "a/link@=b", "x*=x", "empty/"}));
}

TEST_F(LocalSourceTest, OtherCaptureFailuresAreReportedWithThePath) {
  dir_.Write("files/x", "x");
  store_.FailNext(StorageOp::kCaptureTree, 1, Unavailable("store is down"));
  StatusOr<Digest> root = ImportLocalSource(store_, dir_.path() + "/files");
  EXPECT_EQ(root.status().code(), Code::kUnavailable);
  EXPECT_THAT(root.status().message(), HasSubstr(dir_.path() + "/files"));
}

TEST_F(LocalSourceTest, ATwoThousandFileTreeIsImportedWhole) {
  std::vector<std::string> specs;
  for (int d = 0; d < 20; ++d) {
    for (int f = 0; f < 100; ++f) {
      std::string relative = "dir" + std::to_string(d) + "/file" + std::to_string(f);
      std::string content = std::to_string(d * 1000 + f);
      dir_.Write("files/" + relative, content);
      specs.push_back(relative + "=" + content);
    }
  }
  StatusOr<Digest> root = ImportLocalSource(store_, dir_.path() + "/files");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(DigestToString(*root), Tree(specs));
  EXPECT_EQ(ListTree(store_, *root)->size(), 2020u);
}

}  // namespace
}  // namespace cairn::project
