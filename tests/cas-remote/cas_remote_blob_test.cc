// cas-remote's blobs against the real cairn-server: written by one client
// and read by another, larger than a batch, from files and descriptors,
// resumable uploads, wrong bytes refused, FindMissing and Contains asked of
// the server, a server whose own store is cas-remote, and what a client
// reports when the server is down or its options are wrong.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "cairn/remote_client/cas_client.h"
#include "cairn/remote_client/remote_connection.h"
#include "cairn/unique_fd.h"
#include "cas_remote_support.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

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
