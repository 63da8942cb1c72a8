// cas-remote, the real plugin (cairn-cas-remote.so loaded by a Runtime as
// the host loads it) against the real cairn-server in-process on
// 127.0.0.1: every storage operation of the ABI ends up on the server, and
// the local blob cache stays within its bound.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "cairn/directory_rules.h"
#include "cairn/remote_client/cas_client.h"
#include "cairn/remote_client/remote_connection.h"
#include "cairn/runtime/plugin_registry.h"
#include "cairn/runtime/runtime.h"
#include "cairn/unique_fd.h"
#include "server_fixture.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
namespace reapi = build::bazel::remote::execution::v2;

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 generator(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(generator());
  return bytes;
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0) << path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

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

class CasRemoteTest : public server::ServerTest {
 protected:
  void SetUp() override { StartServer(); }

  std::string Url() const { return "grpc://127.0.0.1:" + std::to_string(server_->port()); }

  // A store opened the way the host opens one; each with its own cache
  // unless `cache` names one.
  std::shared_ptr<Storage> OpenStore(const std::string& extra_options = "",
                                     const std::string& url = "",
                                     const std::string& shared_cache = "") {
    std::string cache = shared_cache.empty()
                            ? dir_.path() + "/client-cache-" + std::to_string(runtimes_.size())
                            : shared_cache;
    RuntimeOptions options;
    options.storage.plugin = "cas-remote";
    options.storage.options_yaml = "url: " + (url.empty() ? Url() : url) +
                                   "\n"
                                   "cache-path: " +
                                   cache +
                                   "\n"
                                   "connection-config: {request-timeout: 30, retry-limit: 1, "
                                   "retry-delay: 50}\n" +
                                   extra_options;
    runtimes_.push_back(std::make_unique<Runtime>(
        options, std::make_shared<PluginRegistry>(PluginRegistry::Discover({CAIRN_PLUGIN_DIR}))));
    StatusOr<std::shared_ptr<Storage>> store = runtimes_.back()->OpenStorage();
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? *store : nullptr;
  }

  // Whether the server's CAS holds the blob (asked directly, not through
  // the plugin).
  bool ServerHas(const Digest& digest) {
    reapi::FindMissingBlobsRequest request;
    *request.add_blob_digests() = digest;
    reapi::FindMissingBlobsResponse response;
    grpc::Status status = cas_->FindMissingBlobs(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return status.ok() && response.missing_blob_digests_size() == 0;
  }

  std::vector<std::unique_ptr<Runtime>> runtimes_;
};

TEST_F(CasRemoteTest, ASmallBlobWrittenByOneClientIsReadByAnother) {
  std::shared_ptr<Storage> writer = OpenStore();
  ASSERT_NE(writer, nullptr);
  StatusOr<Digest> written = writer->WriteBlob("hello, server", std::nullopt);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(*written, DigestOfBytes("hello, server"));
  EXPECT_TRUE(ServerHas(*written));

  std::shared_ptr<Storage> reader = OpenStore();
  ASSERT_NE(reader, nullptr);
  StatusOr<std::string> read = reader->ReadBlob(*written, 0, 0);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, "hello, server");
  StatusOr<std::string> part = reader->ReadBlob(*written, 7, 3);
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  EXPECT_EQ(*part, "ser");
  EXPECT_EQ(reader->ReadBlob(*written, 100, 0).status().code(), Code::kOutOfRange);
}

TEST_F(CasRemoteTest, ABlobLargerThanABatchRoundTripsByteForByte) {
  const std::string big = RandomBytes((5 << 20) + 3, 7);
  const Digest digest = DigestOfBytes(big);
  std::shared_ptr<Storage> writer = OpenStore();
  ASSERT_NE(writer, nullptr);
  StatusOr<Digest> written = writer->WriteBlob(big, digest);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_TRUE(ServerHas(digest));

  std::shared_ptr<Storage> reader = OpenStore();
  ASSERT_NE(reader, nullptr);
  StatusOr<std::string> read = reader->ReadBlob(digest, 0, 0);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read == big);
  std::string path = dir_.path() + "/big.out";
  Status to_path = reader->ReadBlobToPath(digest, path, /*executable=*/true);
  ASSERT_TRUE(to_path.ok()) << to_path.ToString();
  EXPECT_TRUE(ReadFile(path) == big);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_NE(info.st_mode & S_IXUSR, 0u);
  std::string fd_path = dir_.path() + "/big.fd";
  {
    UniqueFd fd(::open(fd_path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    ASSERT_TRUE(fd.valid());
    Status to_fd = reader->ReadBlobToFd(digest, fd.get());
    ASSERT_TRUE(to_fd.ok()) << to_fd.ToString();
  }
  EXPECT_TRUE(ReadFile(fd_path) == big);
}

TEST_F(CasRemoteTest, FilesAndDescriptorsAreUploadedAndChecked) {
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::string big = RandomBytes((4 << 20) + 100, 11);
  std::string path = dir_.path() + "/upload";
  WriteFile(path, big, 0644);
  StatusOr<Digest> from_path = store->WriteBlobFromPath(path, false, DigestOfBytes(big));
  ASSERT_TRUE(from_path.ok()) << from_path.status().ToString();
  EXPECT_TRUE(ServerHas(*from_path));
  EXPECT_TRUE(fs::exists(path));  // not moved

  std::string moved = dir_.path() + "/moved";
  WriteFile(moved, "taken by the store", 0644);
  StatusOr<Digest> from_move = store->WriteBlobFromPath(moved, true, std::nullopt);
  ASSERT_TRUE(from_move.ok()) << from_move.status().ToString();
  EXPECT_TRUE(ServerHas(*from_move));
  EXPECT_FALSE(fs::exists(moved));

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ASSERT_EQ(::write(pipe_fds[1], "through a pipe", 14), 14);
  ::close(pipe_fds[1]);
  StatusOr<Digest> from_fd = store->WriteBlobFromFd(pipe_fds[0], std::nullopt);
  ::close(pipe_fds[0]);
  ASSERT_TRUE(from_fd.ok()) << from_fd.status().ToString();
  EXPECT_EQ(*from_fd, DigestOfBytes("through a pipe"));
  EXPECT_TRUE(ServerHas(*from_fd));

  StatusOr<Digest> wrong = store->WriteBlob("these bytes", DigestOfBytes("other bytes"));
  EXPECT_EQ(wrong.status().code(), Code::kInvalidArgument) << wrong.status().ToString();
  EXPECT_FALSE(ServerHas(DigestOfBytes("these bytes")));
}

TEST_F(CasRemoteTest, AResumableUploadGathersItsPiecesAndReachesTheServerWhenFinished) {
  std::shared_ptr<Storage> writer = OpenStore();
  ASSERT_NE(writer, nullptr);
  const std::string data(3 * 1000 + 7, 'u');
  const Digest digest = DigestOfBytes(data);
  StatusOr<UploadStatus> first =
      writer->UploadWrite("upload-1", digest, 0, data.substr(0, 1000), false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->committed_size, 1000u);
  EXPECT_FALSE(first->complete);
  // A restarted client asks how far it got, and a write elsewhere is refused.
  StatusOr<UploadStatus> asked = writer->QueryUpload("upload-1", digest);
  ASSERT_TRUE(asked.ok()) << asked.status().ToString();
  EXPECT_EQ(asked->committed_size, 1000u);
  EXPECT_EQ(writer->UploadWrite("upload-1", digest, 5, "x", false).status().code(),
            Code::kInvalidArgument);
  StatusOr<UploadStatus> last =
      writer->UploadWrite("upload-1", digest, 1000, data.substr(1000), true);
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_TRUE(last->complete);
  std::shared_ptr<Storage> reader = OpenStore();
  ASSERT_NE(reader, nullptr);
  StatusOr<std::string> read = reader->ReadBlob(digest, 0, 0);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(*read, data);
  // A blob the server has completes at once.
  StatusOr<UploadStatus> again = reader->UploadWrite("upload-2", digest, 0, "", false);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->complete);
  EXPECT_EQ(again->committed_size, data.size());
}

TEST_F(CasRemoteTest, AnUploadWhoseBytesAreNotTheDigestIsRefusedAndForgotten) {
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  const Digest digest = DigestOfBytes("the real bytes");
  StatusOr<UploadStatus> wrong = store->UploadWrite("bad", digest, 0, "the fake bytes", true);
  EXPECT_EQ(wrong.status().code(), Code::kInvalidArgument) << wrong.status().ToString();
  StatusOr<UploadStatus> after = store->QueryUpload("bad", digest);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->committed_size, 0u);
  EXPECT_FALSE(after->complete);
  ASSERT_TRUE(store->UploadWrite("aborted", digest, 0, "the", false).ok());
  EXPECT_TRUE(store->AbortUpload("aborted").ok());
  EXPECT_EQ(store->QueryUpload("aborted", digest)->committed_size, 0u);
}

TEST_F(CasRemoteTest, AServerWhoseStoreIsCasRemoteKeepsWhatItReceivesOnTheOtherServer) {
  // A second cairn-server in front of the first, its store cas-remote.
  server::ServerConfig front_config = DefaultConfig();
  front_config.cache_dir = dir_.path() + "/front-cache";
  front_config.storage = {"cas-remote", "url: " + Url() + "\n", {}, {}};
  front_config.sandbox.plugin = server::kNoSandbox;
  Status finished = server::FinishServerConfig(&front_config, false);
  ASSERT_TRUE(finished.ok()) << finished.ToString();
  StatusOr<std::unique_ptr<server::Server>> front = server::Server::Start(front_config);
  ASSERT_TRUE(front.ok()) << front.status().ToString();

  // A blob too large for a batch: ByteStream Write to the front server,
  // which writes it through the store's resumable uploads.
  RuntimeOptions local_options;
  local_options.storage = {"cas-local", "path: " + dir_.path() + "/local-store\n", {}, {}};
  Runtime local_runtime(local_options, std::make_shared<PluginRegistry>(
                                           PluginRegistry::Discover({CAIRN_PLUGIN_DIR})));
  StatusOr<std::shared_ptr<Storage>> local = local_runtime.OpenStorage();
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  std::string big(5 << 20, '\0');
  std::mt19937 random(7);
  for (char& byte : big) byte = static_cast<char>(random());
  StatusOr<Digest> digest = (*local)->WriteBlob(big, std::nullopt);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  remote_client::RemoteConnectionOptions connection_options;
  connection_options.url = "grpc://127.0.0.1:" + std::to_string((*front)->port());
  connection_options.request_timeout_s = 30;
  StatusOr<std::shared_ptr<remote_client::RemoteConnection>> connection =
      remote_client::RemoteConnection::Create(connection_options, {"cairn", "test"});
  ASSERT_TRUE(connection.ok()) << connection.status().ToString();
  remote_client::CasClient front_cas(*connection);
  Status written = front_cas.WriteStream(*digest, **local);
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_TRUE(ServerHas(*digest));
  (*front)->Shutdown(std::chrono::seconds(5));
}

TEST_F(CasRemoteTest, FindMissingAndContainsAskTheServer) {
  Digest present = Upload("on the server already");
  Digest absent = DigestOfBytes("never uploaded");
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  StatusOr<std::vector<Digest>> missing = store->FindMissing({present, absent});
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(*missing, std::vector<Digest>{absent});
  EXPECT_TRUE(*store->Contains(present));
  EXPECT_FALSE(*store->Contains(absent));
  EXPECT_EQ(store->ReadBlob(absent, 0, 0).status().code(), Code::kNotFound);
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

TEST_F(CasRemoteTest, ActionResultsRoundTripThroughTheServersActionCache) {
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  reapi::Command command;
  command.add_arguments("/bin/true");
  StatusOr<Digest> command_digest = store->WriteMessage(command);
  ASSERT_TRUE(command_digest.ok()) << command_digest.status().ToString();
  reapi::Action action;
  *action.mutable_command_digest() = *command_digest;
  *action.mutable_input_root_digest() = UploadMessage(Directory());
  StatusOr<Digest> action_digest = store->WriteMessage(action);
  ASSERT_TRUE(action_digest.ok()) << action_digest.status().ToString();

  EXPECT_EQ(store->GetActionResult("", *action_digest).status().code(), Code::kNotFound);
  ActionResult result;
  result.set_exit_code(3);
  *result.mutable_stdout_digest() = Upload("output");
  Status updated = store->UpdateActionResult("", *action_digest, result);
  ASSERT_TRUE(updated.ok()) << updated.ToString();

  std::shared_ptr<Storage> other = OpenStore();
  ASSERT_NE(other, nullptr);
  StatusOr<ActionResult> found = other->GetActionResult("", *action_digest);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->exit_code(), 3);
  EXPECT_EQ(found->stdout_digest(), DigestOfBytes("output"));
}

TEST_F(CasRemoteTest, ActionResultsGoToTheInstanceNamedOrElseTheEndpoints) {
  StopServer();
  StartServer([](server::ServerConfig& config) {
    server::InstanceConfig other;
    other.name = "team/other";
    config.instances = {server::InstanceConfig{}, other};
  });
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  Digest action = DigestOfBytes("an action of the other team");
  ActionResult result;
  result.set_exit_code(7);
  Status updated = store->UpdateActionResult("team/other", action, result);
  ASSERT_TRUE(updated.ok()) << updated.ToString();
  StatusOr<ActionResult> found = store->GetActionResult("team/other", action);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->exit_code(), 7);
  EXPECT_EQ(store->GetActionResult("", action).status().code(), Code::kNotFound);
  // "" is the endpoint's instance.
  std::shared_ptr<Storage> other_team = OpenStore("instance-name: team/other\n");
  ASSERT_NE(other_team, nullptr);
  StatusOr<ActionResult> from_endpoint = other_team->GetActionResult("", action);
  ASSERT_TRUE(from_endpoint.ok()) << from_endpoint.status().ToString();
  EXPECT_EQ(from_endpoint->exit_code(), 7);
}

TEST_F(CasRemoteTest, ReferencesAndAssetsLiveInTheServersRemoteAsset) {
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  StatusOr<Digest> blob = store->WriteBlob("referenced", std::nullopt);
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  EXPECT_EQ(store->GetReference("project/main").status().code(), Code::kNotFound);
  Status set = store->SetReference("project/main", *blob);
  ASSERT_TRUE(set.ok()) << set.ToString();
  std::shared_ptr<Storage> other = OpenStore();
  ASSERT_NE(other, nullptr);
  StatusOr<Digest> got = other->GetReference("project/main");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, *blob);
  // What the reference names must be on the server.
  Status dangling = store->SetReference("dangling", DigestOfBytes("not uploaded"));
  EXPECT_EQ(dangling.code(), Code::kFailedPrecondition) << dangling.ToString();

  // Assets pass through as they are: what the artifact cache uses.
  AssetPushRequest push;
  push.add_uris("cairn-artifact:project/hello.bst");
  auto* qualifier = push.add_qualifiers();
  qualifier->set_name("cache-key");
  qualifier->set_value("0123");
  *push.mutable_blob_digest() = *blob;
  Status pushed = store->PushAsset(AssetKind::kBlob, push);
  ASSERT_TRUE(pushed.ok()) << pushed.ToString();
  AssetFetchRequest fetch;
  fetch.add_uris("cairn-artifact:project/hello.bst");
  *fetch.add_qualifiers() = *qualifier;
  StatusOr<AssetFetchResponse> fetched = other->FetchAsset(AssetKind::kBlob, fetch);
  ASSERT_TRUE(fetched.ok()) << fetched.status().ToString();
  EXPECT_EQ(fetched->blob_digest(), *blob);
  fetch.mutable_qualifiers(0)->set_value("4567");
  EXPECT_EQ(other->FetchAsset(AssetKind::kBlob, fetch).status().code(), Code::kNotFound);

  // A directory asset names a tree root, through PushDirectory and
  // FetchDirectory.
  Directory tree;
  FileNode* file = tree.add_files();
  file->set_name("referenced");
  *file->mutable_digest() = *blob;
  Digest root = UploadMessage(tree);
  AssetPushRequest push_tree;
  push_tree.add_uris("urn:example:tree");
  *push_tree.mutable_blob_digest() = root;
  Status pushed_tree = store->PushAsset(AssetKind::kDirectory, push_tree);
  ASSERT_TRUE(pushed_tree.ok()) << pushed_tree.ToString();
  AssetFetchRequest fetch_tree;
  fetch_tree.add_uris("urn:example:tree");
  StatusOr<AssetFetchResponse> fetched_tree = other->FetchAsset(AssetKind::kDirectory, fetch_tree);
  ASSERT_TRUE(fetched_tree.ok()) << fetched_tree.status().ToString();
  EXPECT_EQ(fetched_tree->blob_digest(), root);
  EXPECT_EQ(other->FetchAsset(AssetKind::kBlob, fetch_tree).status().code(), Code::kNotFound);
}

TEST_F(CasRemoteTest, VerifyAndGarbageCollectionAreTheServersBusiness) {
  std::shared_ptr<Storage> store = OpenStore();
  ASSERT_NE(store, nullptr);
  StatusOr<VerifyReport> verified = store->Verify(false);
  EXPECT_EQ(verified.status().code(), Code::kUnimplemented);
  EXPECT_NE(verified.status().message().find("server's business"), std::string::npos)
      << verified.status().message();
  StatusOr<uint64_t> collected = store->CollectGarbage(0);
  EXPECT_EQ(collected.status().code(), Code::kUnimplemented);
  EXPECT_NE(collected.status().message().find("server's business"), std::string::npos)
      << collected.status().message();
  StatusOr<StorageCapabilities> capabilities = store->Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
  EXPECT_NE(capabilities->flags & CAIRN_STORAGE_REMOTE, 0u);
  EXPECT_NE(capabilities->flags & CAIRN_STORAGE_ASSETS, 0u);
}

TEST_F(CasRemoteTest, TheLocalCacheStaysWithinItsSizeAndEvictedBlobsAreFetchedAgain) {
  std::vector<std::string> blobs;
  std::vector<Digest> digests;
  for (uint32_t i = 0; i < 6; ++i) {
    blobs.push_back(RandomBytes(1 << 20, 100 + i));
    digests.push_back(Upload(blobs.back()));
  }
  std::shared_ptr<Storage> store = OpenStore("cache-size: 3M\n");
  ASSERT_NE(store, nullptr);
  const std::string cache =
      runtimes_.size() > 0 ? dir_.path() + "/client-cache-" + std::to_string(runtimes_.size() - 1)
                           : "";
  auto bytes_on_disk = [&] {
    uint64_t total = 0;
    for (const auto& entry : fs::recursive_directory_iterator(cache + "/objects")) {
      if (entry.is_regular_file()) total += entry.file_size();
    }
    return total;
  };
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < blobs.size(); ++i) {
      StatusOr<std::string> read = store->ReadBlob(digests[i], 0, 0);
      ASSERT_TRUE(read.ok()) << "blob " << i << ": " << read.status().ToString();
      EXPECT_TRUE(*read == blobs[i]) << "blob " << i;
      StatusOr<StorageStats> stats = store->Stats();
      ASSERT_TRUE(stats.ok());
      EXPECT_LE(stats->total_bytes, 3u << 20);
      EXPECT_EQ(stats->quota_bytes, 3u << 20);
      EXPECT_LE(bytes_on_disk(), 3u << 20);
    }
  }
  StatusOr<StorageStats> stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->total_bytes, 3u << 20);  // the last three
}

TEST_F(CasRemoteTest, ABlobLargerThanTheWholeCacheIsStillReadAndNotKept) {
  const std::string big = RandomBytes((2 << 20) + 5, 17);
  Digest digest = DigestOfBytes(big);
  std::shared_ptr<Storage> writer = OpenStore();
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->WriteBlob(big, digest).ok());
  std::shared_ptr<Storage> store = OpenStore("cache-size: 1M\n");
  ASSERT_NE(store, nullptr);
  StatusOr<std::string> read = store->ReadBlob(digest, 0, 0);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read == big);
  std::string path = dir_.path() + "/big";
  Status to_path = store->ReadBlobToPath(digest, path, false);
  ASSERT_TRUE(to_path.ok()) << to_path.ToString();
  EXPECT_TRUE(ReadFile(path) == big);
  StatusOr<StorageStats> stats = store->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_LE(stats->total_bytes, 1u << 20);
}

TEST_F(CasRemoteTest, ClientsSharingACacheDirectoryReadWhatTheOtherEvicted) {
  std::vector<std::string> blobs;
  std::vector<Digest> digests;
  for (uint32_t i = 0; i < 4; ++i) {
    blobs.push_back(RandomBytes(1 << 20, 200 + i));
    digests.push_back(Upload(blobs.back()));
  }
  Directory directory;
  FileNode* file = directory.add_files();
  file->set_name("first");
  *file->mutable_digest() = digests[0];
  Digest root = UploadMessage(directory);
  const std::string shared = dir_.path() + "/shared-cache";
  std::shared_ptr<Storage> first = OpenStore("cache-size: 2M\n", "", shared);
  std::shared_ptr<Storage> second = OpenStore("cache-size: 2M\n", "", shared);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  // The first client caches blob 0 and the tree; the second evicts them.
  ASSERT_TRUE(first->ReadBlob(digests[0], 0, 0).ok());
  ASSERT_TRUE(first->ReadBlob(root, 0, 0).ok());
  for (size_t i = 0; i < digests.size(); ++i) {
    StatusOr<std::string> read = second->ReadBlob(digests[i], 0, 0);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
  }
  ASSERT_TRUE(second->ReadBlob(root, 0, 0).ok());
  ASSERT_FALSE(
      fs::exists(shared + "/objects/" + digests[0].hash().substr(0, 2) + "/" + digests[0].hash()));
  StatusOr<std::string> again = first->ReadBlob(digests[0], 0, 0);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(*again == blobs[0]);
  std::string target = dir_.path() + "/staged";
  fs::create_directories(target);
  Status staged = first->StageTree(root, target, StageOptions{true});
  ASSERT_TRUE(staged.ok()) << staged.ToString();
  EXPECT_TRUE(ReadFile(target + "/first") == blobs[0]);
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

TEST_F(CasRemoteTest, AServerThatIsDownIsUnavailableNamingItsUrl) {
  std::string url = Url();
  StopServer();
  std::shared_ptr<Storage> store = OpenStore("", url);
  ASSERT_NE(store, nullptr);
  StatusOr<std::string> read = store->ReadBlob(DigestOfBytes("anything"), 0, 0);
  EXPECT_EQ(read.status().code(), Code::kUnavailable) << read.status().ToString();
  EXPECT_NE(read.status().message().find(url), std::string::npos) << read.status().message();
  Status written = store->WriteBlob("anything", std::nullopt).status();
  EXPECT_EQ(written.code(), Code::kUnavailable) << written.ToString();
  EXPECT_NE(written.message().find(url), std::string::npos) << written.message();
}

TEST_F(CasRemoteTest, MissingOrBadOptionsAreNamed) {
  RuntimeOptions options;
  options.storage.plugin = "cas-remote";
  options.storage.options_yaml = "cache-size: 1G\n";
  Runtime runtime(options,
                  std::make_shared<PluginRegistry>(PluginRegistry::Discover({CAIRN_PLUGIN_DIR})));
  StatusOr<std::shared_ptr<Storage>> store = runtime.OpenStorage();
  EXPECT_EQ(store.status().code(), Code::kInvalidArgument);
  EXPECT_NE(store.status().message().find("url"), std::string::npos) << store.status().message();

  options.storage.options_yaml = "url: " + Url() + "\ncache-size: lots\n";
  Runtime bad_size(options,
                   std::make_shared<PluginRegistry>(PluginRegistry::Discover({CAIRN_PLUGIN_DIR})));
  store = bad_size.OpenStorage();
  EXPECT_EQ(store.status().code(), Code::kInvalidArgument);
  EXPECT_NE(store.status().message().find("cache-size"), std::string::npos)
      << store.status().message();
}

}  // namespace
}  // namespace cairn
