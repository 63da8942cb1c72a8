// cas-remote's trees against the real cairn-server: a captured tree staged
// back identically by another client (copied or hardlinked), a tree the
// server lacks or a hostile one refused before anything is staged, and the
// empty tree and blob needing nothing uploaded.
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>

#include "cairn/directory_rules.h"
#include "cas_remote_support.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

// What a directory holds, as far as a tree records it: per relative path,
// "file x|- CONTENT", "link TARGET" or "dir".
std::map<std::string, std::string> Describe(const std::string& root) {
  std::map<std::string, std::string> entries;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::string relative = fs::relative(entry.path(), root).string();
    struct stat info {};
    ::lstat(entry.path().c_str(), &info);
    if (S_ISLNK(info.st_mode)) {
      entries[relative] = "link " + fs::read_symlink(entry.path()).string();
    } else if (S_ISDIR(info.st_mode)) {
      entries[relative] = "dir";
    } else {
      entries[relative] = std::string("file ") + ((info.st_mode & S_IXUSR) ? "x " : "- ") +
                          ReadFile(entry.path().string());
    }
  }
  return entries;
}

TEST_F(CasRemoteTest, ACapturedTreeStagesBackIdenticallyFromAnotherClient) {
  std::string source = dir_.path() + "/source";
  WriteFile(source + "/README", "read me\n", 0644);
  WriteFile(source + "/bin/tool", "#!/bin/sh\necho tool\n", 0755);
  WriteFile(source + "/lib/deep/nested/data.bin", RandomBytes((4 << 20) + 1, 3), 0644);
  WriteFile(source + "/lib/empty-file", "", 0644);
  fs::create_directories(source + "/empty-dir");
  fs::create_symlink("../README", source + "/bin/readme-link");
  fs::create_symlink("/etc/hostname", source + "/absolute-link");

  std::shared_ptr<Storage> writer = OpenStore();
  ASSERT_NE(writer, nullptr);
  CaptureOptions capture_options;
  capture_options.store_tree = true;
  StatusOr<CapturedTree> captured = writer->CaptureTree(source, capture_options);
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_TRUE(ServerHas(captured->root));
  ASSERT_TRUE(captured->tree.has_value());
  EXPECT_TRUE(ServerHas(*captured->tree));

  // The digest any store gives: cas-local's, through the server's own store.
  RuntimeOptions local_options;
  local_options.storage = {"cas-local", "path: " + dir_.path() + "/local-store\n", {}, {}};
  Runtime local_runtime(local_options, std::make_shared<PluginRegistry>(
                                           PluginRegistry::Discover({CAIRN_PLUGIN_DIR})));
  StatusOr<std::shared_ptr<Storage>> local = local_runtime.OpenStorage();
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  StatusOr<CapturedTree> local_capture = (*local)->CaptureTree(source, capture_options);
  ASSERT_TRUE(local_capture.ok()) << local_capture.status().ToString();
  EXPECT_EQ(local_capture->root, captured->root);

  for (bool hardlinks : {false, true}) {
    std::shared_ptr<Storage> reader = OpenStore();
    ASSERT_NE(reader, nullptr);
    std::string target = dir_.path() + "/staged-" + std::to_string(hardlinks);
    fs::create_directories(target);
    StageOptions stage_options;
    stage_options.hardlinks = hardlinks;
    Status staged = reader->StageTree(captured->root, target, stage_options);
    ASSERT_TRUE(staged.ok()) << staged.ToString();
    EXPECT_EQ(Describe(target), Describe(source)) << "hardlinks " << hardlinks;
    struct stat info {};
    ASSERT_EQ(::lstat((target + "/bin/tool").c_str(), &info), 0);
    EXPECT_EQ(info.st_mtime, 1321009871);
    // Staging again over what is there refuses, naming the entry.
    Status again = reader->StageTree(captured->root, target, stage_options);
    EXPECT_EQ(again.code(), Code::kAlreadyExists) << again.ToString();
  }
}

TEST_F(CasRemoteTest, StagingATreeTheServerLacksIsNotFoundAndCreatesNothing) {
  Directory directory;
  FileNode* file = directory.add_files();
  file->set_name("gone");
  *file->mutable_digest() = DigestOfBytes("never uploaded either");
  Digest root = UploadMessage(directory);
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::string target = dir_.path() + "/target";
  fs::create_directories(target);
  Status staged = store->StageTree(root, target, StageOptions());
  EXPECT_EQ(staged.code(), Code::kNotFound) << staged.ToString();
  EXPECT_TRUE(fs::is_empty(target));
}

TEST_F(CasRemoteTest, AHostileTreeIsRefusedBeforeAnythingIsStaged) {
  Directory directory;
  FileNode* file = directory.add_files();
  file->set_name("../escape");
  *file->mutable_digest() = Upload("outside");
  Digest root = UploadMessage(directory);
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::string target = dir_.path() + "/target/inner";
  fs::create_directories(target);
  Status staged = store->StageTree(root, target, StageOptions());
  EXPECT_EQ(staged.code(), Code::kInvalidArgument) << staged.ToString();
  EXPECT_TRUE(fs::is_empty(target));
  EXPECT_FALSE(fs::exists(dir_.path() + "/target/escape"));
}

TEST_F(CasRemoteTest, TheEmptyTreeAndTheEmptyBlobNeedNothingUploaded) {
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  StatusOr<std::string> empty = store->ReadBlob(EmptyDigest(), 0, 0);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, "");
  std::string source = dir_.path() + "/empty-source";
  fs::create_directories(source);
  StatusOr<CapturedTree> captured = store->CaptureTree(source, CaptureOptions());
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_EQ(captured->root, DigestOfMessage(Directory()));
  std::string target = dir_.path() + "/empty-target";
  fs::create_directories(target);
  Status staged = OpenStore()->StageTree(captured->root, target, StageOptions());
  ASSERT_TRUE(staged.ok()) << staged.ToString();
  EXPECT_TRUE(fs::is_empty(target));
}

}  // namespace
}  // namespace cairn
