// Sixteen clients at once, each on its own connection, uploading blobs
// some of which overlap and executing actions some of which are the same:
// every upload lands, every client gets the right result, and the actions
// all clients share agree on one answer.
#include <thread>

#include "execution_support.h"
#include "server_fixture.h"

namespace cairn::server {
namespace {

constexpr int kClients = 16;
constexpr int kSharedActions = 4;

struct ClientOutcome {
  std::string failure;  // "" when everything went as expected
  std::string shared_stdout;
  std::string own_stdout;
};

// Writes `data` with ByteStream in 64 KiB pieces.
grpc::Status WriteWithByteStream(google::bytestream::ByteStream::Stub& stub,
                                 const std::string& data, const std::string& uuid) {
  Digest digest = DigestOfBytes(data);
  auto context = Deadline(60);
  google::bytestream::WriteResponse response;
  auto writer = stub.Write(context.get(), &response);
  const size_t chunk = 64 * 1024;
  for (size_t offset = 0; offset < data.size() || offset == 0; offset += chunk) {
    google::bytestream::WriteRequest request;
    if (offset == 0) {
      request.set_resource_name("uploads/" + uuid + "/blobs/" + digest.hash() + "/" +
                                std::to_string(digest.size_bytes()));
    }
    request.set_write_offset(static_cast<int64_t>(offset));
    request.set_data(data.substr(offset, chunk));
    request.set_finish_write(offset + chunk >= data.size());
    if (!writer->Write(request)) break;
    if (data.empty()) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

TEST_F(ServerTest, SixteenClientsUploadingAndExecutingOverlappingWorkAllSucceed) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer([](ServerConfig& config) { config.executions = 4; });
  Digest root = PutBusyboxRoot(*cas_);
  std::vector<Digest> shared_actions;
  for (int i = 0; i < kSharedActions; ++i) {
    shared_actions.push_back(PutAction(*cas_, root, Script("echo shared " + std::to_string(i))));
  }
  std::string target = "127.0.0.1:" + std::to_string(server_->port());
  std::vector<ClientOutcome> outcomes(kClients);
  std::vector<std::thread> clients;
  for (int id = 0; id < kClients; ++id) {
    clients.emplace_back([&, id] {
      ClientOutcome& outcome = outcomes[id];
      // A channel of its own: arguments that differ keep gRPC from sharing
      // one connection between the clients.
      grpc::ChannelArguments arguments;
      arguments.SetInt("cairn.test.client", id);
      auto channel =
          grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments);
      auto cas = reapi::ContentAddressableStorage::NewStub(channel);
      auto bytestream = google::bytestream::ByteStream::NewStub(channel);
      auto execution = reapi::Execution::NewStub(channel);
      // A large blob every client uploads at once (the same bytes), one of
      // its own, and small shared ones by batch.
      std::string shared_large(3 << 20, 's');
      std::string own_large(1 << 20, static_cast<char>('a' + id % 26));
      own_large += std::to_string(id);
      grpc::Status written = WriteWithByteStream(*bytestream, shared_large,
                                                 "client-" + std::to_string(id) + "-shared");
      if (!written.ok()) outcome.failure = "shared write: " + written.error_message();
      written = WriteWithByteStream(*bytestream, own_large, "client-" + std::to_string(id));
      if (!written.ok()) outcome.failure = "own write: " + written.error_message();
      for (int small = 0; small < 8; ++small) Put(*cas, "small blob " + std::to_string(small));

      Digest own_action = PutAction(*cas, root, Script("echo client " + std::to_string(id)));
      Operation shared = ExecuteToEnd(*execution, Request(shared_actions[id % kSharedActions]));
      Operation own = ExecuteToEnd(*execution, Request(own_action));
      reapi::ExecuteResponse shared_response = ResponseOf(shared);
      reapi::ExecuteResponse own_response = ResponseOf(own);
      if (shared_response.status().code() != 0 || own_response.status().code() != 0) {
        outcome.failure =
            "execute: " + shared_response.status().message() + own_response.status().message();
        return;
      }
      outcome.shared_stdout = Get(*cas, shared_response.result().stdout_digest());
      outcome.own_stdout = Get(*cas, own_response.result().stdout_digest());
    });
  }
  for (std::thread& client : clients) client.join();

  std::vector<Digest> uploaded = {DigestOfBytes(std::string(3 << 20, 's'))};
  for (int id = 0; id < kClients; ++id) {
    SCOPED_TRACE("client " + std::to_string(id));
    const ClientOutcome& outcome = outcomes[id];
    EXPECT_EQ(outcome.failure, "");
    EXPECT_EQ(outcome.shared_stdout, "shared " + std::to_string(id % kSharedActions) + "\n");
    EXPECT_EQ(outcome.own_stdout, "client " + std::to_string(id) + "\n");
    std::string own_large(1 << 20, static_cast<char>('a' + id % 26));
    uploaded.push_back(DigestOfBytes(own_large + std::to_string(id)));
  }
  reapi::FindMissingBlobsRequest request;
  for (const Digest& digest : uploaded) *request.add_blob_digests() = digest;
  reapi::FindMissingBlobsResponse response;
  ASSERT_TRUE(cas_->FindMissingBlobs(Context().get(), request, &response).ok());
  EXPECT_EQ(response.missing_blob_digests_size(), 0);
}

}  // namespace
}  // namespace cairn::server
