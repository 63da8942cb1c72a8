// Bearer tokens (auth.h): who may read, write and execute on which
// instance, and the tokens file re-read while the server runs.
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "server_fixture.h"

namespace cairn::server {
namespace {

constexpr char kTokens[] = R"(tokens:
  - token: reader
    permissions: [read]
  - token: writer
    permissions: [read, write]
  - token: everything
    permissions: [read, write, execute]
  - token: bazel-writer
    permissions: [read, write]
    instances: [bazel]
  - token: executor
    permissions: [execute]
)";

class AuthTest : public ServerTest {
 protected:
  void StartWithTokens(const std::string& text = kTokens) {
    tokens_file_ = dir_.Write("tokens.yaml", text);
    StartServer([this](ServerConfig& config) {
      config.tokens_file = tokens_file_;
      InstanceConfig plain;
      InstanceConfig bazel;
      bazel.name = "bazel";
      config.instances = {plain, bazel};
    });
  }

  // A context with a deadline carrying `authorization` ("" = none).
  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    auto context = Context();
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
    return context;
  }

  grpc::Status FindMissing(const std::unique_ptr<grpc::ClientContext>& context,
                           const std::string& instance = "") {
    reapi::FindMissingBlobsRequest request;
    request.set_instance_name(instance);
    *request.add_blob_digests() = DigestOfBytes("a blob");
    reapi::FindMissingBlobsResponse response;
    return cas_->FindMissingBlobs(context.get(), request, &response);
  }

  grpc::Status BatchUpdate(const std::unique_ptr<grpc::ClientContext>& context,
                           const std::string& instance = "") {
    reapi::BatchUpdateBlobsRequest request;
    request.set_instance_name(instance);
    auto* blob = request.add_requests();
    *blob->mutable_digest() = DigestOfBytes("a blob");
    blob->set_data("a blob");
    reapi::BatchUpdateBlobsResponse response;
    return cas_->BatchUpdateBlobs(context.get(), request, &response);
  }

  grpc::Status UpdateActionResult(const std::unique_ptr<grpc::ClientContext>& context) {
    reapi::UpdateActionResultRequest request;
    *request.mutable_action_digest() = DigestOfBytes("an action");
    request.mutable_action_result()->set_exit_code(0);
    reapi::ActionResult response;
    return action_cache_->UpdateActionResult(context.get(), request, &response);
  }

  grpc::Status Capabilities(const std::unique_ptr<grpc::ClientContext>& context,
                            reapi::ServerCapabilities* response, const std::string& instance = "") {
    reapi::GetCapabilitiesRequest request;
    request.set_instance_name(instance);
    return capabilities_->GetCapabilities(context.get(), request, response);
  }

  // Rewrites the tokens file with a modification time other than the one
  // before, so the change shows even within one timestamp tick.
  void RewriteTokens(const std::string& text) {
    struct stat before {};
    ASSERT_EQ(::stat(tokens_file_.c_str(), &before), 0);
    dir_.Write("tokens.yaml.new", text);
    ASSERT_EQ(std::rename((dir_.path() + "/tokens.yaml.new").c_str(), tokens_file_.c_str()), 0);
    timespec times[2] = {{before.st_mtim.tv_sec + 10, 0}, {before.st_mtim.tv_sec + 10, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, tokens_file_.c_str(), times, 0), 0);
  }

  // Polls FindMissingBlobs as `token` until it answers `code`, for up to
  // ten seconds (the file is checked at most once a second).
  bool WaitForCode(const std::string& token, grpc::StatusCode code) {
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < give_up) {
      if (FindMissing(As(token)).error_code() == code) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string tokens_file_;
};

TEST_F(AuthTest, ACallWithoutATokenIsUnauthenticated) {
  StartWithTokens();
  grpc::Status status = FindMissing(As(""));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  EXPECT_NE(status.error_message().find("Bearer"), std::string::npos) << status.error_message();
  reapi::ServerCapabilities capabilities;
  EXPECT_EQ(Capabilities(As(""), &capabilities).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, AnUnknownTokenIsUnauthenticated) {
  StartWithTokens();
  EXPECT_EQ(FindMissing(As("stranger")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto basic = Context();
  basic->AddMetadata("authorization", "Basic cmVhZGVy");
  EXPECT_EQ(FindMissing(basic).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  reapi::ServerCapabilities capabilities;
  EXPECT_EQ(Capabilities(As("stranger"), &capabilities).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, AReadOnlyTokenReadsButCannotWrite) {
  StartWithTokens();
  grpc::Status status = FindMissing(As("reader"));
  EXPECT_TRUE(status.ok()) << status.error_message();
  status = BatchUpdate(As("reader"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_NE(status.error_message().find("'write'"), std::string::npos) << status.error_message();
  status = UpdateActionResult(As("reader"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  // Reading the action cache is allowed: the answer is just "not there".
  reapi::GetActionResultRequest request;
  *request.mutable_action_digest() = DigestOfBytes("an action");
  reapi::ActionResult result;
  status = action_cache_->GetActionResult(As("reader").get(), request, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
}

TEST_F(AuthTest, TheBearerSchemeIsCaseInsensitiveButTheTokenIsNot) {
  StartWithTokens();
  auto lower = Context();
  lower->AddMetadata("authorization", "bearer reader");
  grpc::Status status = FindMissing(lower);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(FindMissing(As("READER")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, AWriterTokenWrites) {
  StartWithTokens();
  grpc::Status status = BatchUpdate(As("writer"));
  EXPECT_TRUE(status.ok()) << status.error_message();
  status = UpdateActionResult(As("writer"));
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(AuthTest, ExecuteNeedsTheExecutePermission) {
  StartWithTokens();
  for (const char* token : {"reader", "writer"}) {
    SCOPED_TRACE(token);
    reapi::ExecuteRequest request;
    *request.mutable_action_digest() = DigestOfBytes("an action");
    auto context = As(token);
    auto reader = execution_->Execute(context.get(), request);
    google::longrunning::Operation operation;
    while (reader->Read(&operation)) {
    }
    grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
    EXPECT_NE(status.error_message().find("'execute'"), std::string::npos)
        << status.error_message();
  }
}

TEST_F(AuthTest, ByteStreamReadsNeedReadAndWritesNeedWrite) {
  StartWithTokens();
  const std::string data = "streamed";
  const Digest digest = DigestOfBytes(data);
  const std::string blob = digest.hash() + "/" + std::to_string(digest.size_bytes());
  auto write = [&](const std::string& token) {
    auto context = As(token);
    google::bytestream::WriteResponse response;
    auto writer = bytestream_->Write(context.get(), &response);
    google::bytestream::WriteRequest request;
    request.set_resource_name("uploads/6a4f1c1e-2b3d-4e5f-8a9b-0c1d2e3f4a5b/blobs/" + blob);
    request.set_data(data);
    request.set_finish_write(true);
    writer->Write(request);
    writer->WritesDone();
    return writer->Finish();
  };
  auto read = [&](const std::string& token) {
    auto context = As(token);
    google::bytestream::ReadRequest request;
    request.set_resource_name("blobs/" + blob);
    auto reader = bytestream_->Read(context.get(), request);
    google::bytestream::ReadResponse response;
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  };
  grpc::Status status = write("reader");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  status = write("");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  status = write("writer");
  EXPECT_TRUE(status.ok()) << status.error_message();
  status = read("");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
  status = read("executor");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  status = read("reader");
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(AuthTest, ATokenForOneInstanceIsDeniedOnAnother) {
  StartWithTokens();
  grpc::Status status = BatchUpdate(As("bazel-writer"), "bazel");
  EXPECT_TRUE(status.ok()) << status.error_message();
  status = BatchUpdate(As("bazel-writer"), "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_NE(status.error_message().find("instance \"\""), std::string::npos)
      << status.error_message();
  EXPECT_EQ(FindMissing(As("bazel-writer"), "").error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Unrestricted tokens work on both.
  EXPECT_TRUE(BatchUpdate(As("writer"), "bazel").ok());
}

TEST_F(AuthTest, CapabilitiesOfferUpdatesOnlyToWritersAndExecutionOnlyToExecutors) {
  StartWithTokens();
  reapi::ServerCapabilities reader;
  ASSERT_TRUE(Capabilities(As("reader"), &reader).ok());
  EXPECT_FALSE(reader.cache_capabilities().action_cache_update_capabilities().update_enabled());
  EXPECT_FALSE(reader.execution_capabilities().exec_enabled());
  reapi::ServerCapabilities writer;
  ASSERT_TRUE(Capabilities(As("writer"), &writer).ok());
  EXPECT_TRUE(writer.cache_capabilities().action_cache_update_capabilities().update_enabled());
  EXPECT_FALSE(writer.execution_capabilities().exec_enabled());
  reapi::ServerCapabilities everything;
  ASSERT_TRUE(Capabilities(As("everything"), &everything).ok());
  EXPECT_TRUE(everything.cache_capabilities().action_cache_update_capabilities().update_enabled());
  EXPECT_TRUE(everything.execution_capabilities().exec_enabled());
  // bazel-writer may write on "bazel" only.
  reapi::ServerCapabilities bazel;
  ASSERT_TRUE(Capabilities(As("bazel-writer"), &bazel, "bazel").ok());
  EXPECT_TRUE(bazel.cache_capabilities().action_cache_update_capabilities().update_enabled());
}

// auth.h: "GetCapabilities needs any valid token" — an execute-only
// client (a pure executor) must still learn what the server offers.
// Disabled: capabilities_service.cc checks Permission::kRead instead.
TEST_F(AuthTest, AnyValidTokenMayAskForCapabilities) {
  StartWithTokens();
  reapi::ServerCapabilities executor;
  grpc::Status status = Capabilities(As("executor"), &executor);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(executor.cache_capabilities().action_cache_update_capabilities().update_enabled());
  EXPECT_TRUE(executor.execution_capabilities().exec_enabled());
}

TEST_F(AuthTest, TheTokensFileIsReReadWhenItChanges) {
  StartWithTokens();
  ASSERT_TRUE(FindMissing(As("reader")).ok());
  ASSERT_EQ(FindMissing(As("newcomer")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  RewriteTokens("tokens:\n  - token: newcomer\n    permissions: [read, write]\n");
  EXPECT_TRUE(WaitForCode("newcomer", grpc::StatusCode::OK));
  EXPECT_EQ(FindMissing(As("reader")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(BatchUpdate(As("newcomer")).ok());
}

TEST_F(AuthTest, AnInvalidEditKeepsTheTokensReadBefore) {
  StartWithTokens();
  ASSERT_TRUE(FindMissing(As("reader")).ok());
  RewriteTokens("tokens:\n  - token: intruder\n    permissions: [read, fly]\n");
  // The file is checked at most once a second; over three seconds of calls
  // it has surely been re-read, and no call may see the broken file.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) {
    grpc::Status reader = FindMissing(As("reader"));
    ASSERT_TRUE(reader.ok()) << reader.error_message();
    ASSERT_EQ(FindMissing(As("intruder")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // An emptied file (a half-done edit) is no more valid than a broken one.
  RewriteTokens("");
  until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) {
    grpc::Status reader = FindMissing(As("reader"));
    ASSERT_TRUE(reader.ok()) << reader.error_message();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // A good edit after the bad ones is picked up.
  RewriteTokens("tokens:\n  - token: fixed\n    permissions: [read]\n");
  EXPECT_TRUE(WaitForCode("fixed", grpc::StatusCode::OK));
  EXPECT_EQ(FindMissing(As("reader")).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTest, ABadTokensFileStopsTheServerFromStartingNamingThePlace) {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"tokens:\n  - token: a\n    permissions: [read, fly]\n", "tokens.yaml:3:"},
           {"tokens:\n  - permissions: [read]\n", "needs a non-empty 'token'"},
           {"tokens:\n  - token: a\n  - token: a\n", "listed twice"},
           {"tokens:\n  - token: \"a b\"\n", "without spaces"},
           {"tokns: []\n", "tokns"},
           {"", "no 'tokens'"}}) {
    SCOPED_TRACE(text);
    std::string file = dir_.Write("bad-tokens.yaml", text);
    ServerConfig config = DefaultConfig();
    config.tokens_file = file;
    config.sandbox.plugin = kNoSandbox;
    ASSERT_TRUE(FinishServerConfig(&config, false).ok());
    StatusOr<std::unique_ptr<Server>> server = Server::Start(config);
    ASSERT_FALSE(server.ok());
    EXPECT_NE(server.status().message().find(expected), std::string::npos)
        << server.status().message();
  }
  ServerConfig config = DefaultConfig();
  config.tokens_file = dir_.path() + "/missing-tokens.yaml";
  config.sandbox.plugin = kNoSandbox;
  ASSERT_TRUE(FinishServerConfig(&config, false).ok());
  StatusOr<std::unique_ptr<Server>> server = Server::Start(config);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("missing-tokens.yaml"), std::string::npos)
      << server.status().message();
}

TEST_F(AuthTest, WithoutATokensFileEveryoneMayDoEverything) {
  StartServer();
  EXPECT_TRUE(FindMissing(As("")).ok());
  EXPECT_TRUE(BatchUpdate(As("")).ok());
  EXPECT_TRUE(BatchUpdate(As("anything")).ok());
}

}  // namespace
}  // namespace cairn::server
