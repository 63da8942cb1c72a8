// What Execute refuses, against the real server: missing inputs (each one
// listed), malformed input trees, absolute symlinks on a host-tools
// instance, platform properties the sandbox cannot honour, instances
// without a sandbox, malformed action digests and unknown instances, and
// timeouts past the server's maximum. Each refusal names what was wrong.
#include <algorithm>
#include <string>
#include <vector>

#include "execution_support.h"
#include "server_fixture.h"

namespace cairn::server {
namespace {

TEST_F(ServerTest, AHostToolsInstanceRefusesAbsoluteSymlinksInTheInputRoot) {
  StartServer([](ServerConfig& config) {
    InstanceConfig plain;
    InstanceConfig bazel;
    bazel.name = "bazel";
    bazel.host_tools = true;
    config.instances = {plain, bazel};
  });
  reapi::Directory root;
  auto* link = root.add_symlinks();
  link->set_name("escape");
  link->set_target("/etc");
  Digest action = PutAction(*cas_, Put(*cas_, root.SerializeAsString()), Script("true"));
  // The blobs are per store, not per instance: the same action in "bazel".
  reapi::ExecuteRequest request = Request(action);
  request.set_instance_name("bazel");
  auto stream = OperationStream::Execute(*execution_, request);
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("escape"), std::string::npos) << status.error_message();

  // Control: the default instance, whose input root is the sandbox's "/",
  // accepts it (the action then fails for want of a shell, which is not
  // the point here).
  if (!WhyNotExecutable().empty()) return;
  Operation accepted = ExecuteToEnd(*execution_, Request(action));
  EXPECT_TRUE(accepted.done());
}

TEST_F(ServerTest, MissingInputsAreFailedPreconditionListingEveryMissingBlob) {
  StartServer();
  reapi::Directory absent_directory;
  absent_directory.add_files()->set_name("deep");
  Digest absent_directory_digest = DigestOfBytes(absent_directory.SerializeAsString());
  Digest first_file = DigestOfBytes("never uploaded 1");
  Digest second_file = DigestOfBytes("never uploaded 2");
  reapi::Directory root;
  auto* sub = root.add_directories();
  sub->set_name("absent");
  *sub->mutable_digest() = absent_directory_digest;
  auto* a = root.add_files();
  a->set_name("a");
  *a->mutable_digest() = first_file;
  auto* b = root.add_files();
  b->set_name("b");
  *b->mutable_digest() = second_file;
  Digest action = PutAction(*cas_, Put(*cas_, root.SerializeAsString()), Script("true"));

  auto stream = OperationStream::Execute(*execution_, Request(action));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  std::vector<Digest> expected = {absent_directory_digest, first_file, second_file};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(MissingBlobsOf(status), expected);

  // The Action itself missing is reported the same way.
  Digest absent_action = DigestOfBytes("not an uploaded action");
  stream = OperationStream::Execute(*execution_, Request(absent_action));
  status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(MissingBlobsOf(status), std::vector<Digest>{absent_action});
}

TEST_F(ServerTest, AnUnsortedDirectoryIsInvalidArgumentNamingTheField) {
  StartServer();
  reapi::Directory root;
  auto* b = root.add_files();
  b->set_name("b");
  *b->mutable_digest() = Put(*cas_, "B");
  auto* a = root.add_files();
  a->set_name("a");
  *a->mutable_digest() = Put(*cas_, "A");
  Digest action = PutAction(*cas_, Put(*cas_, root.SerializeAsString()), Script("true"));

  auto stream = OperationStream::Execute(*execution_, Request(action));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  std::string field = BadRequestFieldOf(status);
  EXPECT_EQ(field.rfind("input_root", 0), 0u)
      << "field: " << field << "; " << status.error_message();
}

TEST_F(ServerTest, DuplicateOrIllegalNamesInTheInputTreeAreInvalidArgumentAndRunNothing) {
  StartServer();
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"a name given twice", {"a", "a"}},
      {"an empty name", {""}},
      {"'.'", {"."}},
      {"'..'", {".."}},
      {"a name with '/'", {"a/b"}},
      {"a name with NUL", {std::string("a\0b", 3)}},
  };
  for (const auto& [what, names] : cases) {
    SCOPED_TRACE(what);
    reapi::Directory root;
    for (const std::string& name : names) {
      auto* file = root.add_files();
      file->set_name(name);
      *file->mutable_digest() = Put(*cas_, "content");
    }
    Digest action = PutAction(*cas_, Put(*cas_, root.SerializeAsString()), Script("true"));
    auto stream = OperationStream::Execute(*execution_, Request(action));
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find("input_root"), std::string::npos)
        << status.error_message();
    EXPECT_TRUE(stream->seen().empty()) << "no operation may start";
  }
}

TEST_F(ServerTest, APlatformPropertyTheSandboxCannotHonourIsFailedPreconditionNamingIt) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer();
  Digest root = PutBusyboxRoot(*cas_);
  for (const auto& property :
       std::vector<std::pair<std::string, std::string>>{{"OSFamily", "windows"}, {"gpu", "yes"}}) {
    ActionSpec spec = Script("true");
    spec.platform = {property};
    auto stream = OperationStream::Execute(*execution_, Request(PutAction(*cas_, root, spec)));
    grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << property.first;
    EXPECT_NE(status.error_message().find(property.first + "='" + property.second + "'"),
              std::string::npos)
        << status.error_message();
  }
}

TEST_F(ServerTest, AnInstanceWithoutASandboxRefusesToExecute) {
  StartServer([](ServerConfig& config) { config.sandbox.plugin = kNoSandbox; });
  auto stream = OperationStream::Execute(*execution_, Request(DigestOfBytes("any action")));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  EXPECT_NE(status.error_message().find("sandbox"), std::string::npos) << status.error_message();
}

TEST_F(ServerTest, AMalformedActionDigestOrUnknownInstanceIsTheCallsOwnError) {
  StartServer();
  reapi::ExecuteRequest request;
  request.mutable_action_digest()->set_hash("not-hex");
  request.mutable_action_digest()->set_size_bytes(3);
  auto stream = OperationStream::Execute(*execution_, request);
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("action_digest"), std::string::npos)
      << status.error_message();

  request = Request(DigestOfBytes("x"));
  request.set_instance_name("nope");
  stream = OperationStream::Execute(*execution_, request);
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServerTest, ATimeoutPastTheServersMaximumIsRefusedAndNoneGetsTheDefault) {
  SKIP_UNLESS_EXECUTABLE();
  StartServer([](ServerConfig& config) {
    config.limits.max_action_timeout_s = 60;
    config.limits.default_action_timeout_s = 1;
  });
  Digest root = PutBusyboxRoot(*cas_);
  ActionSpec too_long = Script("true");
  too_long.timeout_seconds = 61;
  auto stream = OperationStream::Execute(*execution_, Request(PutAction(*cas_, root, too_long)));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("action.timeout"), std::string::npos)
      << status.error_message();

  // No timeout: the default of one second stops a command that sleeps.
  Operation done = ExecuteToEnd(*execution_, Request(PutAction(*cas_, root, Script("sleep 30"))));
  EXPECT_EQ(ResponseOf(done).status().code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

}  // namespace
}  // namespace cairn::server
