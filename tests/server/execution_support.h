// What the tests of Execute share: a busybox input root, actions that run
// `sh -c SCRIPT` in it, and reading an Execute or WaitExecution stream.
// The actions run in the real bwrap sandbox, so tests using them skip
// (SKIP_UNLESS_EXECUTABLE) where that cannot work.
#ifndef CAIRN_TESTS_SERVER_EXECUTION_SUPPORT_H
#define CAIRN_TESTS_SERVER_EXECUTION_SUPPORT_H

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server_fixture.h"

namespace cairn::server {

using google::longrunning::Operation;
using Stage = reapi::ExecutionStage::Value;

inline constexpr char kBusybox[] = "/usr/bin/busybox";
inline const char* const kApplets[] = {"cat", "echo", "nc", "sh", "sleep"};

// Why the actions of these tests cannot run here, or "".
inline std::string WhyNotExecutable() {
  if (geteuid() != 0) return "the execution tests need root (bwrap); CI runs as root";
  if (access("/usr/bin/bwrap", X_OK) != 0) return "bwrap is not installed (/usr/bin/bwrap)";
  if (access(kBusybox, X_OK) != 0) return "busybox-static is not installed (/usr/bin/busybox)";
  return "";
}

#define SKIP_UNLESS_EXECUTABLE()                   \
  do {                                             \
    std::string why_not = WhyNotExecutable();      \
    if (!why_not.empty()) GTEST_SKIP() << why_not; \
  } while (false)

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::unique_ptr<grpc::ClientContext> Deadline(int seconds = 60) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return context;
}

inline Digest Put(reapi::ContentAddressableStorage::Stub& cas, const std::string& data) {
  reapi::BatchUpdateBlobsRequest request;
  auto* blob = request.add_requests();
  *blob->mutable_digest() = DigestOfBytes(data);
  blob->set_data(data);
  reapi::BatchUpdateBlobsResponse response;
  grpc::Status status = cas.BatchUpdateBlobs(Deadline().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return DigestOfBytes(data);
}

inline std::string Get(reapi::ContentAddressableStorage::Stub& cas, const Digest& digest) {
  reapi::BatchReadBlobsRequest request;
  *request.add_digests() = digest;
  reapi::BatchReadBlobsResponse response;
  grpc::Status status = cas.BatchReadBlobs(Deadline().get(), request, &response);
  if (!status.ok()) return "<" + status.error_message() + ">";
  if (response.responses(0).status().code() != 0) {
    return "<" + response.responses(0).status().message() + ">";
  }
  return response.responses(0).data();
}

// bin/busybox with links for the applets the actions use.
inline Digest PutBusyboxRoot(reapi::ContentAddressableStorage::Stub& cas) {
  reapi::Directory bin;
  auto* busybox = bin.add_files();
  busybox->set_name("busybox");
  *busybox->mutable_digest() = Put(cas, ReadWholeFile(kBusybox));
  busybox->set_is_executable(true);
  for (const char* applet : kApplets) {
    auto* link = bin.add_symlinks();
    link->set_name(applet);
    link->set_target("busybox");
  }
  reapi::Directory root;
  auto* bin_node = root.add_directories();
  bin_node->set_name("bin");
  *bin_node->mutable_digest() = Put(cas, bin.SerializeAsString());
  return Put(cas, root.SerializeAsString());
}

struct ActionSpec {
  std::string script;  // run by sh -c
  int timeout_seconds = 0;
  bool do_not_cache = false;
  std::vector<std::pair<std::string, std::string>> platform;  // sorted by name
};

inline ActionSpec Script(const std::string& script) {
  ActionSpec spec;
  spec.script = script;
  return spec;
}

inline Digest PutAction(reapi::ContentAddressableStorage::Stub& cas, const Digest& root,
                        const ActionSpec& spec) {
  reapi::Command command;
  command.add_arguments("sh");
  command.add_arguments("-c");
  command.add_arguments(spec.script);
  auto* path = command.add_environment_variables();
  path->set_name("PATH");
  path->set_value("/bin");
  reapi::Action action;
  *action.mutable_command_digest() = Put(cas, command.SerializeAsString());
  *action.mutable_input_root_digest() = root;
  if (spec.timeout_seconds > 0) action.mutable_timeout()->set_seconds(spec.timeout_seconds);
  action.set_do_not_cache(spec.do_not_cache);
  for (const auto& [name, value] : spec.platform) {
    auto* property = action.mutable_platform()->add_properties();
    property->set_name(name);
    property->set_value(value);
  }
  return Put(cas, action.SerializeAsString());
}

inline Stage StageOf(const Operation& operation) {
  reapi::ExecuteOperationMetadata metadata;
  if (!operation.metadata().UnpackTo(&metadata)) return reapi::ExecutionStage::UNKNOWN;
  return metadata.stage();
}

inline reapi::ExecuteResponse ResponseOf(const Operation& operation) {
  reapi::ExecuteResponse response;
  EXPECT_TRUE(operation.done());
  EXPECT_FALSE(operation.has_error()) << "REAPI servers must not set Operation.error";
  EXPECT_TRUE(operation.response().UnpackTo(&response));
  return response;
}

// One Execute or WaitExecution call being read.
class OperationStream {
 public:
  static std::unique_ptr<OperationStream> Execute(reapi::Execution::Stub& stub,
                                                  const reapi::ExecuteRequest& request) {
    auto stream = std::unique_ptr<OperationStream>(new OperationStream);
    stream->reader_ = stub.Execute(stream->context_.get(), request);
    return stream;
  }
  static std::unique_ptr<OperationStream> Wait(reapi::Execution::Stub& stub,
                                               const std::string& name) {
    auto stream = std::unique_ptr<OperationStream>(new OperationStream);
    reapi::WaitExecutionRequest request;
    request.set_name(name);
    stream->reader_ = stub.WaitExecution(stream->context_.get(), request);
    return stream;
  }

  // A call left unfinished (a failed assertion) is cancelled, not leaked.
  ~OperationStream() {
    if (finished_) return;
    context_->TryCancel();
    Finish();
  }

  // Reads until an Operation in `stage` (or a done one); false when the
  // stream ended first.
  bool ReadUntil(Stage stage) {
    Operation operation;
    while (reader_->Read(&operation)) {
      seen_.push_back(operation);
      if (StageOf(operation) == stage || operation.done()) return true;
    }
    return false;
  }
  // Reads to the end; the call's status.
  grpc::Status Finish() {
    Operation operation;
    while (reader_->Read(&operation)) seen_.push_back(operation);
    finished_ = true;
    return reader_->Finish();
  }
  void Cancel() { context_->TryCancel(); }

  const std::vector<Operation>& seen() const { return seen_; }
  std::vector<Stage> stages() const {
    std::vector<Stage> stages;
    for (const Operation& operation : seen_) stages.push_back(StageOf(operation));
    return stages;
  }
  const Operation& last() const { return seen_.back(); }

 private:
  OperationStream() : context_(Deadline(120)) {}
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<Operation>> reader_;
  std::vector<Operation> seen_;
  bool finished_ = false;
};

inline reapi::ExecuteRequest Request(const Digest& action, bool skip_cache_lookup = false) {
  reapi::ExecuteRequest request;
  *request.mutable_action_digest() = action;
  request.set_skip_cache_lookup(skip_cache_lookup);
  return request;
}

// Runs one Execute to its end; the last Operation (name "" when none came).
inline Operation ExecuteToEnd(reapi::Execution::Stub& stub, const reapi::ExecuteRequest& request,
                              std::vector<Stage>* stages = nullptr) {
  auto stream = OperationStream::Execute(stub, request);
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  if (stages != nullptr) *stages = stream->stages();
  return stream->seen().empty() ? Operation() : stream->last();
}

}  // namespace cairn::server

#endif  // CAIRN_TESTS_SERVER_EXECUTION_SUPPORT_H
