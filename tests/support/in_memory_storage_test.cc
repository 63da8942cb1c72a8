// InMemoryStorage: blobs, trees on disk, the action cache, references and
// the test hooks; its captures are held to the real cas-local plugin.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cairn/merkle.h"
#include "cairn/testing/in_memory_storage.h"
#include "cairn/unique_fd.h"
#include "loaded_store.h"

namespace cairn::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/cairn-in-memory-XXXXXX";
    path_ = mkdtemp(name);
  }
  ~TempDir() { std::system(("rm -rf '" + path_ + "'").c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::ofstream(path) << content;
  chmod(path.c_str(), mode);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// bin/tool (executable), data/empty/, data/note, link -> bin/tool
void MakeSampleTree(const std::string& root) {
  mkdir((root + "/bin").c_str(), 0755);
  mkdir((root + "/data").c_str(), 0755);
  mkdir((root + "/data/empty").c_str(), 0755);
  WriteFile(root + "/bin/tool", "#!/bin/sh\necho hi\n", 0755);
  WriteFile(root + "/data/note", "a note");
  ASSERT_EQ(symlink("bin/tool", (root + "/link").c_str()), 0);
}

TEST(InMemoryStorageBlobs, WrittenBlobsReadBackWholeOrByOffsetAndLimit) {
  InMemoryStorage store;
  Digest digest = *store.WriteBlob("hello world");
  EXPECT_EQ(digest, DigestOfBytes("hello world"));
  EXPECT_EQ(*store.ReadBlob(digest), "hello world");
  EXPECT_EQ(*store.ReadBlob(digest, 6), "world");
  EXPECT_EQ(*store.ReadBlob(digest, 2, 3), "llo");
  EXPECT_EQ(*store.ReadBlob(digest, 11), "");
  EXPECT_EQ(store.ReadBlob(digest, 12).status().code(), Code::kOutOfRange);
}

TEST(InMemoryStorageBlobs, DataThatDoesNotMatchTheExpectedDigestIsRefused) {
  InMemoryStorage store;
  StatusOr<Digest> written = store.WriteBlob("abc", DigestOfBytes("abd"));
  EXPECT_EQ(written.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(store.blob_count(), 0u);
  EXPECT_EQ(store.WriteBlob("abc", MakeDigest("nothex", 3)).status().code(),
            Code::kInvalidArgument);
}

TEST(InMemoryStorageBlobs, FindMissingListsAbsentBlobsButNeverTheEmptyOne) {
  InMemoryStorage store;
  Digest present = *store.WriteBlob("here");
  Digest absent = DigestOfBytes("not here");
  EXPECT_THAT(*store.FindMissing({present, absent, EmptyDigest()}), ElementsAre(absent));
  EXPECT_TRUE(*store.Contains(EmptyDigest()));
  EXPECT_FALSE(*store.Contains(absent));
  EXPECT_EQ(store.ReadBlob(absent).status().code(), Code::kNotFound);
  EXPECT_EQ(*store.ReadBlob(EmptyDigest()), "");
}

TEST(InMemoryStorageBlobs, FdAndPathVariantsMoveTheSameBytes) {
  TempDir dir;
  InMemoryStorage store;
  WriteFile(dir.path() + "/in", "from a file");
  Digest from_path = *store.WriteBlobFromPath(dir.path() + "/in", false, std::nullopt);
  EXPECT_EQ(from_path, DigestOfBytes("from a file"));
  EXPECT_EQ(access((dir.path() + "/in").c_str(), F_OK), 0);

  UniqueFd in(open((dir.path() + "/in").c_str(), O_RDONLY));
  EXPECT_EQ(*store.WriteBlobFromFd(in.get(), from_path), from_path);

  ASSERT_TRUE(store.ReadBlobToPath(from_path, dir.path() + "/out", true).ok());
  struct stat info {};
  ASSERT_EQ(stat((dir.path() + "/out").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0755u);
  EXPECT_EQ(ReadFile(dir.path() + "/out"), "from a file");
  EXPECT_EQ(store.ReadBlobToPath(from_path, dir.path() + "/out", false).code(),
            Code::kAlreadyExists);

  UniqueFd out(open((dir.path() + "/copy").c_str(), O_WRONLY | O_CREAT, 0644));
  ASSERT_TRUE(store.ReadBlobToFd(from_path, out.get()).ok());
  EXPECT_EQ(ReadFile(dir.path() + "/copy"), "from a file");
}

TEST(InMemoryStorageBlobs, MovingASourceFileTakesItAway) {
  TempDir dir;
  InMemoryStorage store;
  WriteFile(dir.path() + "/stdout", "output");
  ASSERT_TRUE(store.WriteBlobFromPath(dir.path() + "/stdout", true, std::nullopt).ok());
  EXPECT_NE(access((dir.path() + "/stdout").c_str(), F_OK), 0);
}

TEST(InMemoryStorageTrees, CaptureGivesCanonicalDirectoriesAndStageRecreatesTheFiles) {
  TempDir source, target;
  MakeSampleTree(source.path());
  InMemoryStorage store;
  StatusOr<CapturedTree> captured = store.CaptureTree(source.path(), CaptureOptions{true});
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  Directory root = *store.ReadMessage<Directory>(captured->root);
  EXPECT_TRUE(ValidateDirectory(root).ok());
  ASSERT_EQ(root.directories_size(), 2);
  EXPECT_EQ(root.directories(0).name(), "bin");
  EXPECT_EQ(root.symlinks(0).target(), "bin/tool");
  ASSERT_TRUE(captured->tree.has_value());
  Tree tree = *store.ReadMessage<Tree>(*captured->tree);
  EXPECT_EQ(DigestOfMessage(tree.root()), captured->root);
  EXPECT_EQ(tree.children_size(), 3);  // bin, data, data/empty

  ASSERT_TRUE(store.StageTree(captured->root, target.path(), {}).ok());
  EXPECT_EQ(ReadFile(target.path() + "/bin/tool"), "#!/bin/sh\necho hi\n");
  EXPECT_EQ(access((target.path() + "/bin/tool").c_str(), X_OK), 0);
  EXPECT_NE(access((target.path() + "/data/note").c_str(), X_OK), 0);
  char link[64] = {};
  ASSERT_GT(readlink((target.path() + "/link").c_str(), link, sizeof link - 1), 0);
  EXPECT_STREQ(link, "bin/tool");
  EXPECT_EQ(store.CaptureTree(target.path(), {})->root, captured->root);
}

TEST(InMemoryStorageTrees, CaptureGivesTheSameRootDigestAsTheRealCasLocalPlugin) {
  TempDir source, cache;
  MakeSampleTree(source.path());
  auto real = LoadedStore::Open(CAIRN_CAS_LOCAL_PLUGIN, "path: " + cache.path() + "/cas\n");
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  StatusOr<CapturedTree> expected = (*real)->storage().CaptureTree(source.path(), {});
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  InMemoryStorage store;
  EXPECT_EQ(store.CaptureTree(source.path(), {})->root, expected->root);
}

TEST(InMemoryStorageTrees, StagingATreeWithAMissingFileNamesTheFile) {
  TempDir target;
  InMemoryStorage store;
  Directory root;
  FileNode* file = root.add_files();
  file->set_name("lost");
  *file->mutable_digest() = DigestOfBytes("never stored");
  Digest digest = *store.WriteMessage(root);
  Status staged = store.StageTree(digest, target.path(), {});
  EXPECT_EQ(staged.code(), Code::kFailedPrecondition);
  EXPECT_THAT(staged.message(), HasSubstr("lost"));
}

TEST(InMemoryStorageTrees, HostileNamesAreRefusedAndNothingIsWrittenOutsideTheTarget) {
  TempDir target;
  InMemoryStorage store;
  Directory root;
  SymlinkNode* link = root.add_symlinks();
  link->set_name("..");
  link->set_target("/etc");
  Status staged = store.StageTree(*store.WriteMessage(root), target.path(), {});
  EXPECT_EQ(staged.code(), Code::kInvalidArgument);
}

TEST(InMemoryStorageActionCache, EachInstanceKeepsItsOwnResults) {
  InMemoryStorage store;
  Digest action = DigestOfBytes("action");
  ActionResult result;
  result.set_exit_code(3);
  ASSERT_TRUE(store.UpdateActionResult("main", action, result).ok());
  EXPECT_EQ(store.GetActionResult("main", action)->exit_code(), 3);
  EXPECT_EQ(store.GetActionResult("", action).status().code(), Code::kNotFound);
  EXPECT_EQ(store.GetActionResult("other", action).status().code(), Code::kNotFound);
}

TEST(InMemoryStorageActionCache, AStoreWithoutInstancesRefusesNamedOnes) {
  InMemoryStorage store(StorageCapabilities{});
  Digest action = DigestOfBytes("action");
  EXPECT_EQ(store.UpdateActionResult("main", action, {}).code(), Code::kUnimplemented);
  EXPECT_TRUE(store.UpdateActionResult("", action, {}).ok());
}

TEST(InMemoryStorageReferences, ReferencesAreSetReplacedAndCounted) {
  InMemoryStorage store;
  EXPECT_EQ(store.GetReference("artifacts/p/e/k").status().code(), Code::kNotFound);
  ASSERT_TRUE(store.SetReference("artifacts/p/e/k", DigestOfBytes("1")).ok());
  ASSERT_TRUE(store.SetReference("artifacts/p/e/k", DigestOfBytes("2")).ok());
  EXPECT_EQ(*store.GetReference("artifacts/p/e/k"), DigestOfBytes("2"));
  StorageStats stats = *store.Stats();
  EXPECT_EQ(stats.reference_count, 1u);
  EXPECT_EQ(stats.object_count, 0u);
}

TEST(InMemoryStorageHooks, CallsAreCountedAndInjectedFailuresComeFirstInOrder) {
  InMemoryStorage store;
  Digest digest = *store.WriteBlob("x");
  store.FailNext(StorageOp::kReadBlob, 1, Unavailable("first"));
  store.FailNext(StorageOp::kReadBlob, 1, DataLoss("second"));
  EXPECT_EQ(store.ReadBlob(digest).status().code(), Code::kUnavailable);
  EXPECT_EQ(store.ReadBlob(digest).status().code(), Code::kDataLoss);
  EXPECT_EQ(*store.ReadBlob(digest), "x");
  EXPECT_EQ(store.Count(StorageOp::kReadBlob), 3u);
  EXPECT_EQ(store.Count(StorageOp::kWriteBlob), 1u);
  EXPECT_EQ(store.Count(StorageOp::kStats), 0u);
}

TEST(InMemoryStorageHooks, ADeletedBlobIsMissingAsIfEvicted) {
  InMemoryStorage store;
  Digest digest = *store.WriteBlob("evict me");
  EXPECT_TRUE(store.DeleteBlob(digest));
  EXPECT_FALSE(store.DeleteBlob(digest));
  EXPECT_THAT(*store.FindMissing({digest}), ElementsAre(digest));
}

TEST(InMemoryStorageMaintenance, VerifyFindsACorruptBlobAndRepairRemovesIt) {
  InMemoryStorage store;
  Digest good = *store.WriteBlob("good");
  Digest bad = *store.WriteBlob("bad");
  ASSERT_TRUE(store.CorruptBlob(bad, "rotten"));
  VerifyReport report = *store.Verify(false);
  EXPECT_EQ(report.problems, 1u);
  EXPECT_THAT(report.lines, HasSubstr(DigestToString(bad)));
  EXPECT_EQ(store.Verify(true)->problems, 1u);
  EXPECT_EQ(store.Verify(false)->problems, 0u);
  EXPECT_TRUE(*store.Contains(good));
  EXPECT_FALSE(*store.Contains(bad));
}

TEST(InMemoryStorageMaintenance, GarbageCollectionEvictsTheLeastRecentlyUsedFirst) {
  InMemoryStorage store;
  Digest old_blob = *store.WriteBlob("0123456789");
  Digest used = *store.WriteBlob("abcdefghij");
  Digest recent = *store.WriteBlob("ABCDEFGHIJ");
  ASSERT_TRUE(store.ReadBlob(old_blob).ok());  // now `used` is the oldest
  EXPECT_EQ(*store.CollectGarbage(20), 10u);
  EXPECT_THAT(*store.FindMissing({old_blob, used, recent}), ElementsAre(used));
  EXPECT_EQ(*store.CollectGarbage(0), 0u);
}

TEST(InMemoryStorageThreads, ConcurrentWritersAndReadersSeeEveryBlob) {
  InMemoryStorage store;
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < 200; ++i) {
        std::string data = std::to_string(t) + "/" + std::to_string(i);
        Digest digest = *store.WriteBlob(data);
        EXPECT_EQ(*store.ReadBlob(digest), data);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(store.blob_count(), 800u);
  EXPECT_EQ(store.Count(StorageOp::kWriteBlob), 800u);
}

}  // namespace
}  // namespace cairn::testing
