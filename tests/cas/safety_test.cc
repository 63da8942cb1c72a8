// Hostile trees, a kill during import, and two processes sharing a store.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cas_test_util.h"

namespace cairn::testing {
namespace {

using ::testing::HasSubstr;

bool IsEmptyDirectory(const std::string& path) {
  int status = 0;
  std::string listing = RunProgram({"/bin/ls", "-A", path}, &status);
  return status == 0 && listing.empty();
}

class HostileName : public CasTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(HostileName, IsRejectedAsFileDirectoryOrSymlinkAndNothingIsStaged) {
  const std::string name = GetParam();
  ASSERT_OK_AND_ASSIGN(Digest content, store().WriteBlob("payload", std::nullopt));
  for (int kind = 0; kind < 3; ++kind) {
    Directory root;
    if (kind == 0) {
      FileNode* file = root.add_files();
      file->set_name(name);
      *file->mutable_digest() = content;
    } else if (kind == 1) {
      DirectoryNode* dir = root.add_directories();
      dir->set_name(name);
      *dir->mutable_digest() = EmptyDigest();
    } else {
      SymlinkNode* link = root.add_symlinks();
      link->set_name(name);
      link->set_target("payload");
    }
    ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(root.SerializeAsString(), std::nullopt));
    std::string target = temp_ / ("out" + std::to_string(kind));
    MakeDir(target);
    Status status = store().StageTree(digest, target, StageOptions{});
    EXPECT_EQ(status.code(), Code::kInvalidArgument) << "kind " << kind;
    std::string printable = name.find('\0') != std::string::npos ? "\\0" : name;
    EXPECT_THAT(status.message(), HasSubstr("invalid name '")) << status.message();
    EXPECT_THAT(status.message(), HasSubstr(printable)) << status.message();
    EXPECT_TRUE(IsEmptyDirectory(target)) << "kind " << kind;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRejectedName, HostileName,
                         ::testing::Values(std::string(""), std::string("."), std::string(".."),
                                           std::string("a/b"), std::string("/abs"),
                                           std::string("nul\0byte", 8)));

TEST_F(CasTest, StageRejectsAFileAndADirectoryOfTheSameName) {
  // "A file replaced by a directory": both names in one Directory.
  Directory root;
  FileNode* file = root.add_files();
  file->set_name("x");
  *file->mutable_digest() = EmptyDigest();
  DirectoryNode* dir = root.add_directories();
  dir->set_name("x");
  *dir->mutable_digest() = EmptyDigest();
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(root.SerializeAsString(), std::nullopt));
  MakeDir(temp_ / "out");
  Status status = store().StageTree(digest, temp_ / "out", StageOptions{});
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("duplicate name 'x'"));
  EXPECT_TRUE(IsEmptyDirectory(temp_ / "out"));
}

TEST_F(CasTest, StageRejectsUnsortedDirectories) {
  Directory root;
  for (const char* name : {"b", "a"}) {
    FileNode* file = root.add_files();
    file->set_name(name);
    *file->mutable_digest() = EmptyDigest();
  }
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(root.SerializeAsString(), std::nullopt));
  MakeDir(temp_ / "out");
  Status status = store().StageTree(digest, temp_ / "out", StageOptions{});
  EXPECT_EQ(status.code(), Code::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("'b'"));
}

TEST_F(CasTest, StageNeverWritesThroughASymlinkAlreadyInTheTarget) {
  MakeDir(temp_ / "outside");
  MakeDir(temp_ / "out");
  MakeSymlink(temp_ / "outside", temp_ / "out/dir");
  MakeSymlink(temp_ / "outside/file", temp_ / "out/file");
  // A tree with dir/inner and a file named like the second symlink.
  Directory inner;
  FileNode* inner_file = inner.add_files();
  inner_file->set_name("inner");
  ASSERT_OK_AND_ASSIGN(*inner_file->mutable_digest(), store().WriteBlob("evil", std::nullopt));
  ASSERT_OK_AND_ASSIGN(Digest inner_digest,
                       store().WriteBlob(inner.SerializeAsString(), std::nullopt));
  for (int variant = 0; variant < 2; ++variant) {
    Directory root;
    if (variant == 0) {
      DirectoryNode* dir = root.add_directories();
      dir->set_name("dir");
      *dir->mutable_digest() = inner_digest;
    } else {
      FileNode* file = root.add_files();
      file->set_name("file");
      *file->mutable_digest() = inner_file->digest();
    }
    ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(root.SerializeAsString(), std::nullopt));
    for (bool hardlinks : {false, true}) {
      StageOptions options;
      options.hardlinks = hardlinks;
      Status status = store().StageTree(digest, temp_ / "out", options);
      EXPECT_EQ(status.code(), Code::kAlreadyExists) << status.ToString();
      EXPECT_TRUE(IsEmptyDirectory(temp_ / "outside"));
    }
  }
}

TEST_F(CasTest, SymlinksInTheTreePointingOutAreCreatedButNeverFollowed) {
  // link -> ../../outside, then a file staged next to it; nothing lands outside.
  MakeDir(temp_ / "outside");
  Directory root;
  FileNode* file = root.add_files();
  file->set_name("a");
  ASSERT_OK_AND_ASSIGN(*file->mutable_digest(), store().WriteBlob("inside", std::nullopt));
  SymlinkNode* link = root.add_symlinks();
  link->set_name("link");
  link->set_target("../outside");
  ASSERT_OK_AND_ASSIGN(Digest digest, store().WriteBlob(root.SerializeAsString(), std::nullopt));
  MakeDir(temp_ / "out");
  ASSERT_OK(store().StageTree(digest, temp_ / "out", StageOptions{}));
  EXPECT_TRUE(S_ISLNK(Lstat(temp_ / "out/link").st_mode));
  EXPECT_TRUE(IsEmptyDirectory(temp_ / "outside"));
}

// A tree big enough that a kill lands in the middle of writing it.
void BuildImportTree(const std::string& root, int directories, int files_per_directory) {
  MakeDir(root);
  for (int d = 0; d < directories; ++d) {
    std::string dir = root + "/d" + std::to_string(d);
    MakeDir(dir);
    for (int f = 0; f < files_per_directory; ++f) {
      std::string content(512 + 97 * f, static_cast<char>('a' + (d + f) % 26));
      content += std::to_string(d) + "/" + std::to_string(f);
      WriteFile(dir + "/f" + std::to_string(f), content);
    }
    WriteFile(dir + "/big", std::string(3 * 1024 * 1024 + d, static_cast<char>(d)));
  }
}

TEST_F(CasTest, ImportKilledAtAnyPointLeavesTheStoreConsistent) {
  BuildImportTree(temp_ / "tree", 20, 50);
  for (int delay_ms : {5, 20, 50, 120, 250}) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl(HelperPath().c_str(), HelperPath().c_str(), StorePath().c_str(), "import-loop",
              (temp_ / "tree").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the helper ended before the kill at " << delay_ms << "ms";
    ASSERT_OK_AND_ASSIGN(VerifyReport report, store().Verify(false));
    EXPECT_EQ(report.problems, 0u) << report.lines;
    // The wipe of our objects between rounds makes every round write again.
    ASSERT_EQ(
        Shell("chmod -R u+w " + StorePath() + "/objects && rm -rf " + StorePath() + "/objects/*"),
        0);
    Reopen("");
  }
  ASSERT_OK_AND_ASSIGN(CapturedTree captured,
                       store().CaptureTree(temp_ / "tree", CaptureOptions{}));
  ASSERT_OK_AND_ASSIGN(CollectedTree all, CollectTree(store(), captured.root));
  ASSERT_OK_AND_ASSIGN(std::vector<Digest> missing, store().FindMissing(all.AllDigests()));
  EXPECT_TRUE(missing.empty());
}

TEST_F(CasTest, TwoProcessesImportingIntoOneStoreAtOnceBothSucceed) {
  BuildImportTree(temp_ / "tree", 10, 100);
  MakeDir(temp_ / "other");
  ASSERT_EQ(Shell("cp -a " + (temp_ / "tree/.") + " " + (temp_ / "other") + " && echo extra > " +
                  (temp_ / "other/extra")),
            0);
  int status_a = -1, status_b = -1;
  std::string out_a, out_b, out_c;
  std::thread a([&] {
    out_a = RunProgram({HelperPath(), StorePath(), "import", temp_ / "tree"}, &status_a);
  });
  std::thread b([&] {
    out_b = RunProgram({HelperPath(), StorePath(), "import", temp_ / "tree"}, &status_b);
  });
  int status_c = -1;
  std::thread c([&] {
    out_c = RunProgram({HelperPath(), StorePath(), "import", temp_ / "other"}, &status_c);
  });
  a.join();
  b.join();
  c.join();
  ASSERT_EQ(status_a, 0);
  ASSERT_EQ(status_b, 0);
  ASSERT_EQ(status_c, 0);
  EXPECT_EQ(out_a, out_b);
  EXPECT_NE(out_a, out_c);
  ASSERT_OK_AND_ASSIGN(CapturedTree here, store().CaptureTree(temp_ / "tree", CaptureOptions{}));
  EXPECT_EQ(DigestToString(here.root) + "\n", out_a);
  ASSERT_OK_AND_ASSIGN(VerifyReport report, store().Verify(false));
  EXPECT_EQ(report.problems, 0u) << report.lines;
}

}  // namespace
}  // namespace cairn::testing
