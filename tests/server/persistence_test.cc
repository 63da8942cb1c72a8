// What the server stores outlives it: CAS blobs and action cache entries
// survive a clean restart on the same cache directory, and a `kill -9` of
// a real cairn-server process in the middle of uploads loses only what was
// not yet committed — never a blob that reads back wrong.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "server_fixture.h"
#include "server_process.h"

namespace cairn::server {
namespace {

// `size` bytes, different for every `seed`.
std::string Blob(int seed, size_t size) {
  std::string data(size, '\0');
  uint32_t state = 2166136261u ^ static_cast<uint32_t>(seed);
  for (char& c : data) {
    state = state * 16777619u + 12345u;
    c = static_cast<char>(state >> 24);
  }
  return data;
}

// Which of `digests` the server lists as missing.
std::vector<std::string> Missing(reapi::ContentAddressableStorage::Stub& cas,
                                 const std::vector<Digest>& digests) {
  reapi::FindMissingBlobsRequest request;
  for (const Digest& digest : digests) *request.add_blob_digests() = digest;
  reapi::FindMissingBlobsResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status status = cas.FindMissingBlobs(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<std::string> missing;
  for (const Digest& digest : response.missing_blob_digests()) missing.push_back(digest.hash());
  return missing;
}

// The blob `digest` as the server reads it back; NOT_FOUND as "".
StatusOr<std::string> ReadBack(reapi::ContentAddressableStorage::Stub& cas, const Digest& digest) {
  reapi::BatchReadBlobsRequest request;
  *request.add_digests() = digest;
  reapi::BatchReadBlobsResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status status = cas.BatchReadBlobs(&context, request, &response);
  if (!status.ok()) return Internal("BatchReadBlobs: " + status.error_message());
  if (response.responses_size() != 1) return Internal("not one answer");
  if (response.responses(0).status().code() != 0) {
    return Status(static_cast<Code>(response.responses(0).status().code()),
                  response.responses(0).status().message());
  }
  return response.responses(0).data();
}

TEST_F(ServerTest, BlobsAndActionResultsSurviveARestartOnTheSameCacheDir) {
  auto adjust = [](ServerConfig& config) { config.sandbox.plugin = kNoSandbox; };
  StartServer(adjust);
  const std::string output = "the action's stdout";
  Digest blob = Upload(Blob(1, 100000));
  Digest stdout_digest = Upload(output);
  reapi::UpdateActionResultRequest update;
  *update.mutable_action_digest() = DigestOfBytes("an action");
  update.mutable_action_result()->set_exit_code(3);
  *update.mutable_action_result()->mutable_stdout_digest() = stdout_digest;
  reapi::ActionResult stored;
  ASSERT_TRUE(action_cache_->UpdateActionResult(Context().get(), update, &stored).ok());

  StopServer();
  StartServer(adjust);

  EXPECT_TRUE(Missing(*cas_, {blob, stdout_digest}).empty());
  StatusOr<std::string> data = ReadBack(*cas_, blob);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_TRUE(*data == Blob(1, 100000));
  reapi::GetActionResultRequest lookup;
  *lookup.mutable_action_digest() = update.action_digest();
  lookup.set_inline_stdout(true);
  reapi::ActionResult result;
  grpc::Status status = action_cache_->GetActionResult(Context().get(), lookup, &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(result.exit_code(), 3);
  EXPECT_EQ(result.stdout_raw(), output);
}

class KilledServerTest : public ServerTest {
 protected:
  void SetUp() override {
    config_file_ = dir_.Write("server.yaml",
                              "listen: [grpc://127.0.0.1:0]\n"
                              "cache-dir: " +
                                  dir_.path() +
                                  "/cache\n"
                                  "sandbox: {plugin: none}\n"
                                  "plugin-paths: [" +
                                  CAIRN_PLUGIN_DIR + "]\n");
    log_file_ = dir_.path() + "/server.log";
  }

  void StartProcess() {
    process_ = std::make_unique<ServerProcess>();
    ASSERT_TRUE(process_->Start(config_file_, log_file_));
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(process_->port()),
                                   grpc::InsecureChannelCredentials());
    cas_ = reapi::ContentAddressableStorage::NewStub(channel_);
    bytestream_ = google::bytestream::ByteStream::NewStub(channel_);
  }

  std::string config_file_;
  std::string log_file_;
  std::unique_ptr<ServerProcess> process_;
};

TEST_F(KilledServerTest, AKillDuringBatchUploadsKeepsEveryCommittedBlobIntact) {
  StartProcess();
  constexpr size_t kSize = 512 * 1024;
  std::mutex mutex;
  std::vector<int> committed;  // seeds whose upload the server acknowledged
  int in_flight = -1;          // the seed being uploaded when the server died
  std::atomic<bool> stop{false};
  std::thread uploader([&] {
    for (int seed = 0; !stop; ++seed) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        in_flight = seed;
      }
      reapi::BatchUpdateBlobsRequest request;
      auto* blob = request.add_requests();
      std::string data = Blob(seed, kSize);
      *blob->mutable_digest() = DigestOfBytes(data);
      blob->set_data(data);
      reapi::BatchUpdateBlobsResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      grpc::Status status = cas_->BatchUpdateBlobs(&context, request, &response);
      if (!status.ok()) return;  // the server is gone
      if (response.responses(0).status().code() != 0) return;
      std::lock_guard<std::mutex> lock(mutex);
      committed.push_back(seed);
    }
  });
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (committed.size() >= 8) break;
    }
    if (std::chrono::steady_clock::now() > give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int killed = process_->Kill(SIGKILL);
  stop = true;
  uploader.join();
  ASSERT_TRUE(WIFSIGNALED(killed) && WTERMSIG(killed) == SIGKILL) << killed;
  ASSERT_GE(committed.size(), 8u) << "the uploads did not get going";

  StartProcess();
  std::vector<Digest> digests;
  for (int seed : committed) digests.push_back(DigestOfBytes(Blob(seed, kSize)));
  EXPECT_TRUE(Missing(*cas_, digests).empty());
  for (int seed : committed) {
    StatusOr<std::string> data = ReadBack(*cas_, DigestOfBytes(Blob(seed, kSize)));
    ASSERT_TRUE(data.ok()) << seed << ": " << data.status().ToString();
    EXPECT_TRUE(*data == Blob(seed, kSize)) << "blob " << seed << " reads back wrong";
  }
  // The blob in flight is either missing or whole (it may have been
  // committed just before the reply was lost); never a torn blob.
  const std::string interrupted = Blob(in_flight, kSize);
  const Digest interrupted_digest = DigestOfBytes(interrupted);
  StatusOr<std::string> partial = ReadBack(*cas_, interrupted_digest);
  if (partial.ok()) {
    EXPECT_TRUE(*partial == interrupted) << "the interrupted blob reads back torn";
  } else {
    EXPECT_EQ(partial.status().code(), Code::kNotFound) << partial.status().ToString();
    EXPECT_EQ(Missing(*cas_, {interrupted_digest}).size(), 1u);
  }
  // And it can be uploaded afresh.
  Upload(interrupted);
  EXPECT_TRUE(Missing(*cas_, {interrupted_digest}).empty());
  process_->Kill(SIGTERM);
}

TEST_F(KilledServerTest, AKillDuringAByteStreamUploadLeavesTheBlobMissingAndUploadable) {
  StartProcess();
  const std::string earlier = Blob(100, 300000);
  Upload(earlier);
  const std::string data = Blob(101, 4 << 20);
  const Digest digest = DigestOfBytes(data);
  const std::string resource = "uploads/0b0c1d2e-3f40-4152-8364-758697a8b9ca/blobs/" +
                               digest.hash() + "/" + std::to_string(digest.size_bytes());
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    google::bytestream::WriteResponse response;
    auto writer = bytestream_->Write(&context, &response);
    constexpr size_t kChunk = 64 * 1024;
    for (size_t offset = 0; offset < data.size() / 2; offset += kChunk) {
      google::bytestream::WriteRequest request;
      if (offset == 0) request.set_resource_name(resource);
      request.set_write_offset(static_cast<int64_t>(offset));
      request.set_data(data.substr(offset, kChunk));
      if (!writer->Write(request)) break;
    }
    // The server has what was sent so far; it is killed before the rest.
    // (Until ByteStream is written the stream fails at once: UNIMPLEMENTED.)
    process_->Kill(SIGKILL);
    grpc::Status status = writer->Finish();
    if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      GTEST_SKIP() << "ByteStream Write is not implemented yet";
    }
    EXPECT_FALSE(status.ok());
  }
  StartProcess();
  std::vector<std::string> missing = Missing(*cas_, {DigestOfBytes(earlier), digest});
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], digest.hash());
  StatusOr<std::string> read = ReadBack(*cas_, DigestOfBytes(earlier));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(*read == earlier);

  // A fresh upload of the interrupted blob, in one go.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  google::bytestream::WriteResponse response;
  auto writer = bytestream_->Write(&context, &response);
  constexpr size_t kChunk = 1 << 20;
  for (size_t offset = 0; offset < data.size(); offset += kChunk) {
    google::bytestream::WriteRequest request;
    if (offset == 0) request.set_resource_name(resource);
    request.set_write_offset(static_cast<int64_t>(offset));
    request.set_data(data.substr(offset, kChunk));
    request.set_finish_write(offset + kChunk >= data.size());
    ASSERT_TRUE(writer->Write(request));
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.committed_size(), static_cast<int64_t>(data.size()));
  EXPECT_TRUE(Missing(*cas_, {digest}).empty());
  process_->Kill(SIGTERM);
}

}  // namespace
}  // namespace cairn::server
