// FaultProxy between the generated stubs and the real cairn-server
// in-process: what passes through unchanged, and each fault.
#include "fault_proxy.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>

#include <future>
#include <map>
#include <mutex>
#include <random>

#include "execution_support.h"

namespace cairn::server {
namespace {

using testing_support::FaultProxy;
namespace bytestream = google::bytestream;

constexpr char kGetCapabilities[] = "/build.bazel.remote.execution.v2.Capabilities/GetCapabilities";
constexpr char kFindMissingBlobs[] =
    "/build.bazel.remote.execution.v2.ContentAddressableStorage/FindMissingBlobs";
constexpr char kExecute[] = "/build.bazel.remote.execution.v2.Execution/Execute";
constexpr char kRead[] = "/google.bytestream.ByteStream/Read";
constexpr char kWrite[] = "/google.bytestream.ByteStream/Write";
constexpr size_t kMiB = 1 << 20;

std::string Noise(size_t size) {
  std::mt19937 generator(7);
  std::string data(size, '\0');
  for (char& byte : data) byte = static_cast<char>(generator());
  return data;
}

std::string ReadName(const Digest& digest) {
  return "blobs/" + digest.hash() + "/" + std::to_string(digest.size_bytes());
}

struct ReadOutcome {
  grpc::Status status;
  std::string data;
  int messages = 0;
};

// A backend that answers every message of any method with the same bytes,
// remembers the request metadata it saw, and ends the call with binary
// trailing metadata and an error carrying details: what cairn-server alone
// cannot show (a bidi call, binary metadata both ways).
class EchoBackend : public grpc::CallbackGenericService {
 public:
  static constexpr char kTrailer[] = "x-echo-trailer-bin";
  static const std::string& TrailerValue() {
    static const std::string kValue("\0\xfftrailer", 9);
    return kValue;
  }
  static grpc::Status EndStatus() {
    return grpc::Status(grpc::StatusCode::ABORTED, "the echo ends", std::string("\x08\x0a", 2));
  }

  EchoBackend() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(this);
    server_ = builder.BuildAndStart();
  }
  ~EchoBackend() override { server_->Shutdown(std::chrono::system_clock::now()); }

  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string MetadataSeen(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    return metadata_[key];
  }

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [key, value] : context->client_metadata()) {
        metadata_[std::string(key.data(), key.size())] = std::string(value.data(), value.size());
      }
    }
    return new Echo(context);
  }

 private:
  class Echo : public grpc::ServerGenericBidiReactor {
   public:
    explicit Echo(grpc::GenericCallbackServerContext* context) : context_(context) {
      context_->AddInitialMetadata("x-echo-initial", "hello");
      StartRead(&message_);
    }
    void OnReadDone(bool ok) override {
      if (ok) {
        StartWrite(&message_);
      } else {
        context_->AddTrailingMetadata(kTrailer, TrailerValue());
        Finish(EndStatus());
      }
    }
    void OnWriteDone(bool ok) override {
      if (ok) {
        StartRead(&message_);
      } else {
        Finish(grpc::Status::CANCELLED);
      }
    }
    void OnDone() override { delete this; }

   private:
    grpc::GenericCallbackServerContext* context_;
    grpc::ByteBuffer message_;
  };

  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mutex_;
  std::map<std::string, std::string> metadata_;
};

grpc::ByteBuffer BufferOf(const std::string& text) {
  grpc::Slice slice(text);
  return grpc::ByteBuffer(&slice, 1);
}

std::string TextOf(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string text;
  for (const grpc::Slice& slice : slices) {
    text.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return text;
}

// Waits for the operation just started on `queue`; false when it failed
// or took more than a few seconds.
bool Await(grpc::CompletionQueue& queue, void* tag) {
  void* got = nullptr;
  bool ok = false;
  auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  if (queue.AsyncNext(&got, &ok, deadline) != grpc::CompletionQueue::GOT_EVENT) return false;
  EXPECT_EQ(got, tag);
  return ok;
}

// The fixture's stubs talk to the proxy; `direct_` talks to the server.
class FaultProxyTest : public ServerTest {
 protected:
  void StartProxy(const std::function<void(ServerConfig&)>& adjust = {}) {
    StartServer(adjust);
    direct_cas_ = std::move(cas_);
    proxy_ = std::make_unique<FaultProxy>("127.0.0.1:" + std::to_string(server_->port()));
    channel_ = grpc::CreateChannel(proxy_->target(), grpc::InsecureChannelCredentials());
    capabilities_ = reapi::Capabilities::NewStub(channel_);
    cas_ = reapi::ContentAddressableStorage::NewStub(channel_);
    execution_ = reapi::Execution::NewStub(channel_);
    bytestream_ = bytestream::ByteStream::NewStub(channel_);
  }

  void TearDown() override {
    // The proxy goes before the server, as its calls may be in flight to it.
    proxy_.reset();
  }

  ReadOutcome Read(const Digest& digest) {
    bytestream::ReadRequest request;
    request.set_resource_name(ReadName(digest));
    auto context = Context(10);
    auto reader = bytestream_->Read(context.get(), request);
    ReadOutcome outcome;
    bytestream::ReadResponse response;
    while (reader->Read(&response)) {
      outcome.data += response.data();
      ++outcome.messages;
    }
    outcome.status = reader->Finish();
    return outcome;
  }

  grpc::Status FindMissing(grpc::ClientContext* context, const std::vector<Digest>& digests,
                           std::vector<Digest>* missing) {
    reapi::FindMissingBlobsRequest request;
    for (const Digest& digest : digests) *request.add_blob_digests() = digest;
    reapi::FindMissingBlobsResponse response;
    grpc::Status status = cas_->FindMissingBlobs(context, request, &response);
    missing->assign(response.missing_blob_digests().begin(), response.missing_blob_digests().end());
    return status;
  }

  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<reapi::ContentAddressableStorage::Stub> direct_cas_;
};

TEST_F(FaultProxyTest, UnaryCallsReachTheServerAndAreCounted) {
  StartProxy();
  reapi::GetCapabilitiesRequest request;
  reapi::ServerCapabilities capabilities;
  grpc::Status status = capabilities_->GetCapabilities(Context(5).get(), request, &capabilities);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(capabilities.has_cache_capabilities());

  Digest present = Upload("present");
  Digest absent = DigestOfBytes("absent");
  std::vector<Digest> missing;
  status = FindMissing(Context(5).get(), {present, absent}, &missing);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(missing, std::vector<Digest>{absent});

  EXPECT_EQ(proxy_->Calls(kGetCapabilities), 1);
  EXPECT_EQ(proxy_->Calls(kFindMissingBlobs), 1);
  EXPECT_EQ(proxy_->Calls("/build.bazel.remote.execution.v2.ContentAddressableStorage/"
                          "BatchUpdateBlobs"),
            1);
  EXPECT_EQ(proxy_->Calls(kExecute), 0);
  proxy_->ResetCounts();
  EXPECT_EQ(proxy_->Calls(kFindMissingBlobs), 0);
}

TEST_F(FaultProxyTest, AServerStreamArrivesWholeInSeveralMessages) {
  StartProxy();
  std::string data = Noise(3 * kMiB + 17);
  Digest digest = Upload(data);
  ReadOutcome outcome = Read(digest);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_GT(outcome.messages, 1);
  EXPECT_TRUE(outcome.data == data) << outcome.data.size() << " bytes of " << data.size();
}

TEST_F(FaultProxyTest, AClientStreamIsWrittenThrough) {
  StartProxy();
  std::string data = Noise(kMiB + 5);
  Digest digest = DigestOfBytes(data);
  auto context = Context(10);
  bytestream::WriteResponse response;
  auto writer = bytestream_->Write(context.get(), &response);
  constexpr size_t kChunk = 256 * 1024;
  for (size_t offset = 0; offset < data.size(); offset += kChunk) {
    bytestream::WriteRequest request;
    if (offset == 0) {
      request.set_resource_name("uploads/0b6e4c36-2f11-4a5e-9d0c-3e8f7a1b2c4d/" + ReadName(digest));
    }
    request.set_write_offset(static_cast<int64_t>(offset));
    request.set_data(data.substr(offset, kChunk));
    request.set_finish_write(offset + kChunk >= data.size());
    ASSERT_TRUE(writer->Write(request));
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.committed_size(), static_cast<int64_t>(data.size()));
  EXPECT_EQ(Get(*direct_cas_, digest), data);
  EXPECT_EQ(proxy_->Calls(kWrite), 1);
}

TEST_F(FaultProxyTest, ErrorDetailsOfTheServerReachTheClient) {
  StartProxy();
  Digest absent_file = DigestOfBytes("never uploaded");
  reapi::Directory root;
  auto* file = root.add_files();
  file->set_name("a");
  *file->mutable_digest() = absent_file;
  Digest action =
      PutAction(*direct_cas_, Put(*direct_cas_, root.SerializeAsString()), Script("true"));
  auto context = Context(10);
  auto reader = execution_->Execute(context.get(), Request(action));
  Operation operation;
  while (reader->Read(&operation)) {
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_EQ(MissingBlobsOf(status), std::vector<Digest>{absent_file});
}

TEST_F(FaultProxyTest, FailNextAnswersWithoutTheServerThenForwardsAgain) {
  StartProxy();
  proxy_->FailNext(kFindMissingBlobs, 2, grpc::StatusCode::RESOURCE_EXHAUSTED, "try later");
  Digest absent = DigestOfBytes("absent");
  std::vector<Digest> missing;
  for (int attempt = 0; attempt < 2; ++attempt) {
    grpc::Status status = FindMissing(Context(5).get(), {absent}, &missing);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << attempt;
    EXPECT_EQ(status.error_message(), "try later");
  }
  grpc::Status status = FindMissing(Context(5).get(), {absent}, &missing);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(missing, std::vector<Digest>{absent});
  EXPECT_EQ(proxy_->Calls(kFindMissingBlobs), 3);
}

TEST_F(FaultProxyTest, DropStreamAfterCutsAReadAfterItsFirstMessages) {
  StartProxy();
  std::string data = Noise(3 * kMiB);
  Digest digest = Upload(data);
  proxy_->DropStreamAfter(kRead, 1);

  ReadOutcome dropped = Read(digest);
  EXPECT_EQ(dropped.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(dropped.status.error_message(), FaultProxy::kDroppedMessage);
  EXPECT_EQ(dropped.messages, 1);
  EXPECT_LT(dropped.data.size(), data.size());

  ReadOutcome again = Read(digest);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_TRUE(again.data == data);
  EXPECT_EQ(proxy_->Calls(kRead), 2);
}

// The fault the remote sandbox must survive: an Execute stream lost after
// its first Operation, the action going on, WaitExecution finding it.
TEST_F(FaultProxyTest, AnExecuteDroppedMidStreamCanBeFollowedWithWaitExecution) {
  SKIP_UNLESS_EXECUTABLE();
  StartProxy();
  Digest action = PutAction(*direct_cas_, PutBusyboxRoot(*direct_cas_), Script("echo done"));
  proxy_->DropStreamAfter(kExecute, 1);

  std::vector<Operation> seen;
  auto context = Context(20);
  auto execute = execution_->Execute(context.get(), Request(action));
  Operation operation;
  while (execute->Read(&operation)) seen.push_back(operation);
  grpc::Status status = execute->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].done());

  reapi::WaitExecutionRequest request;
  request.set_name(seen[0].name());
  auto wait_context = Context(20);
  auto wait = execution_->WaitExecution(wait_context.get(), request);
  Operation last;
  while (wait->Read(&operation)) last = operation;
  status = wait->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  reapi::ExecuteResponse response = ResponseOf(last);
  EXPECT_EQ(response.result().exit_code(), 0);
  EXPECT_EQ(Get(*direct_cas_, response.result().stdout_digest()), "done\n");
  EXPECT_EQ(proxy_->Calls("/build.bazel.remote.execution.v2.Execution/WaitExecution"), 1);
}

TEST_F(FaultProxyTest, BeforeForwardRunsOnceBeforeTheCallReachesTheServer) {
  StartProxy();
  Digest blob = DigestOfBytes("uploaded by the hook");
  int runs = 0;
  proxy_->BeforeForward(kFindMissingBlobs, [&] {
    ++runs;
    Put(*direct_cas_, "uploaded by the hook");
  });
  std::vector<Digest> missing;
  grpc::Status status = FindMissing(Context(5).get(), {blob}, &missing);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(missing.empty());
  status = FindMissing(Context(5).get(), {blob}, &missing);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(runs, 1);
}

TEST_F(FaultProxyTest, TheAuthorizationHeaderReachesTheServer) {
  std::string tokens = dir_.Write("tokens.yaml", R"(tokens:
  - token: reader
    permissions: [read]
)");
  StartProxy([&](ServerConfig& config) { config.tokens_file = tokens; });
  std::vector<Digest> missing;
  grpc::Status status = FindMissing(Context(5).get(), {DigestOfBytes("x")}, &missing);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();

  auto context = Context(5);
  context->AddMetadata("authorization", "Bearer reader");
  status = FindMissing(context.get(), {DigestOfBytes("x")}, &missing);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(FaultProxyTest, SetBackendSendsNewCallsElsewhere) {
  StartProxy();
  proxy_->SetBackend("127.0.0.1:1");  // nothing listens on port 1
  std::vector<Digest> missing;
  grpc::Status status = FindMissing(Context(5).get(), {DigestOfBytes("x")}, &missing);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();

  proxy_->SetBackend("127.0.0.1:" + std::to_string(server_->port()));
  status = FindMissing(Context(5).get(), {DigestOfBytes("x")}, &missing);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(FaultProxyTest, ShutdownEndsACallInFlight) {
  StartProxy();
  std::promise<void> arrived;
  proxy_->BeforeForward(kWrite, [&] { arrived.set_value(); });
  // A Write left unfinished: only the proxy's shutdown can end it.
  std::string data = "the first half";
  auto context = Context(10);
  bytestream::WriteResponse response;
  auto writer = bytestream_->Write(context.get(), &response);
  bytestream::WriteRequest request;
  request.set_resource_name("uploads/6d1f0a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b/" +
                            ReadName(DigestOfBytes(data + " and the second")));
  request.set_data(data);
  ASSERT_TRUE(writer->Write(request));
  ASSERT_EQ(arrived.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  proxy_->Shutdown();
  grpc::Status status = writer->Finish();
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << "Shutdown hung the call";
  EXPECT_EQ(proxy_->Calls(kWrite), 1);
}

TEST(FaultProxyEchoTest, ABidiCallPingPongsWithBinaryMetadataBothWays) {
  EchoBackend backend;
  FaultProxy proxy(backend.target());
  auto channel = grpc::CreateChannel(proxy.target(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  const std::string request_metadata("\n\005bazel\0", 8);
  context.AddMetadata("build.bazel.remote.execution.v2.requestmetadata-bin", request_metadata);
  context.AddMetadata("authorization", "Bearer echo");
  auto call = stub.PrepareCall(&context, "/cairn.test.Echo/Chat", &queue);
  int tag = 0;
  call->StartCall(&tag);
  ASSERT_TRUE(Await(queue, &tag));

  // Each answer must come back before the client sends the next message or
  // half-closes: the proxy may not wait for the end of either stream.
  for (const std::string& text : {std::string("one"), std::string(2 * kMiB, 'x')}) {
    call->Write(BufferOf(text), &tag);
    ASSERT_TRUE(Await(queue, &tag));
    grpc::ByteBuffer answer;
    call->Read(&answer, &tag);
    ASSERT_TRUE(Await(queue, &tag));
    EXPECT_TRUE(TextOf(answer) == text) << text.size();
  }
  auto initial = context.GetServerInitialMetadata().find("x-echo-initial");
  ASSERT_NE(initial, context.GetServerInitialMetadata().end());
  EXPECT_EQ(std::string(initial->second.data(), initial->second.size()), "hello");
  call->WritesDone(&tag);
  ASSERT_TRUE(Await(queue, &tag));
  grpc::Status status;
  call->Finish(&status, &tag);
  ASSERT_TRUE(Await(queue, &tag));

  EXPECT_EQ(status.error_code(), EchoBackend::EndStatus().error_code());
  EXPECT_EQ(status.error_message(), EchoBackend::EndStatus().error_message());
  EXPECT_EQ(status.error_details(), EchoBackend::EndStatus().error_details());
  auto trailer = context.GetServerTrailingMetadata().find(EchoBackend::kTrailer);
  ASSERT_NE(trailer, context.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(trailer->second.data(), trailer->second.size()),
            EchoBackend::TrailerValue());
  EXPECT_EQ(backend.MetadataSeen("build.bazel.remote.execution.v2.requestmetadata-bin"),
            request_metadata);
  EXPECT_EQ(backend.MetadataSeen("authorization"), "Bearer echo");
  EXPECT_EQ(proxy.Calls("/cairn.test.Echo/Chat"), 1);
  queue.Shutdown();
}

}  // namespace
}  // namespace cairn::server
