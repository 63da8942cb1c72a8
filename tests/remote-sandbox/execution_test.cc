// The remote sandbox against a real cairn-server: the same ActionResult as
// the local bwrap sandbox, outputs in the host's store, the action cache
// used (and bypassed) as REAPI says, failures with the codes a caller acts
// on, and the options that choose the endpoints.
#include <algorithm>
#include <mutex>

#include "cairn/plugin.h"
#include "remote_sandbox_fixture.h"

namespace cairn::testing {
namespace {

using server::kNoSandbox;
using server::ParseListenAddress;
using server::ServerConfig;

// Writes a file, a directory with a nested directory, stdout and stderr.
const ShellAction kRichAction{
    "mkdir -p out/dir/nested && echo file-content > out.txt && printf 'a\\n' > out/dir/a && "
    "printf 'b' > out/dir/nested/b && echo to-stdout && echo to-stderr >&2",
    {"out", "out.txt"}};

// Every file below the Tree `tree_digest` (in the local store), by path,
// with its content.
std::map<std::string, std::string> FilesOfTree(Storage& local, const Digest& tree_digest) {
  std::map<std::string, std::string> files;
  StatusOr<reapi::Tree> tree = local.ReadMessage<reapi::Tree>(tree_digest);
  if (!tree.ok()) {
    files["<tree>"] = tree.status().ToString();
    return files;
  }
  std::map<Digest, reapi::Directory> children;
  for (const reapi::Directory& child : tree->children()) children[DigestOfMessage(child)] = child;
  std::function<void(const reapi::Directory&, const std::string&)> walk =
      [&](const reapi::Directory& directory, const std::string& prefix) {
        for (const auto& file : directory.files()) {
          StatusOr<std::string> bytes = local.ReadBlob(file.digest());
          files[prefix + file.name()] = bytes.ok() ? *bytes : bytes.status().ToString();
        }
        for (const auto& node : directory.directories()) {
          auto child = children.find(node.digest());
          if (child == children.end()) {
            files[prefix + node.name() + "/<missing>"] = "";
            continue;
          }
          walk(child->second, prefix + node.name() + "/");
        }
      };
  walk(tree->root(), "");
  return files;
}

class RemoteExecutionTest : public RemoteSandboxTest {
 protected:
  // Starts the server with its metrics endpoint and `adjust` applied.
  void StartWithMetrics(const std::function<void(ServerConfig&)>& adjust = {}) {
    StartServer([&](ServerConfig& config) {
      config.metrics_listen = "127.0.0.1:0";
      if (adjust) adjust(config);
    });
  }

  std::unique_ptr<Sandbox> Remote(const std::string& extra = "") {
    StatusOr<std::unique_ptr<Sandbox>> sandbox = CreateRemote(RemoteOptions(ServerUrl(), extra));
    EXPECT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    return sandbox.ok() ? std::move(sandbox).value() : nullptr;
  }

  Action MustMake(const ShellAction& shell) {
    StatusOr<Action> action = MakeShellAction(shell);
    EXPECT_TRUE(action.ok()) << action.status().ToString();
    return action.ok() ? *action : Action();
  }

  // The server's received payload bytes and action cache hits.
  std::pair<long long, long long> UploadsAndHits() {
    std::string page = ScrapeMetrics(server_->metrics_address());
    return {MetricSample(page, "cairn_server_received_bytes_total"),
            MetricSample(page, "cairn_server_action_cache_lookups_total{result=\"hit\"}")};
  }
};

TEST_F(RemoteExecutionTest, AnActionGivesTheSameResultAsTheLocalSandboxWithOutputsInTheStore) {
  StartServer();
  Action action = MustMake(kRichAction);
  StatusOr<std::unique_ptr<Sandbox>> local_sandbox = CreateLocal();
  ASSERT_TRUE(local_sandbox.ok()) << local_sandbox.status().ToString();
  ExecuteOutcome local_run = (*local_sandbox)->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(local_run.status.ok()) << local_run.status.ToString();
  ASSERT_TRUE(local_run.result.has_value());

  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  ExecuteOutcome remote_run = remote->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(remote_run.status.ok()) << remote_run.status.ToString();
  ASSERT_TRUE(remote_run.result.has_value());
  EXPECT_FALSE(remote_run.cached_result);
  EXPECT_FALSE(remote_run.operation_name.empty());

  const reapi::ActionResult& expected = *local_run.result;
  const reapi::ActionResult& got = *remote_run.result;
  EXPECT_EQ(got.exit_code(), 0);
  EXPECT_EQ(got.exit_code(), expected.exit_code());
  ASSERT_EQ(got.output_files_size(), 1);
  ASSERT_EQ(expected.output_files_size(), 1);
  EXPECT_EQ(got.output_files(0).path(), "out.txt");
  EXPECT_EQ(got.output_files(0).path(), expected.output_files(0).path());
  EXPECT_EQ(got.output_files(0).digest(), expected.output_files(0).digest());
  EXPECT_EQ(got.output_files(0).is_executable(), expected.output_files(0).is_executable());
  ASSERT_EQ(got.output_directories_size(), 1);
  ASSERT_EQ(expected.output_directories_size(), 1);
  EXPECT_EQ(got.output_directories(0).path(), "out");
  EXPECT_EQ(got.output_directories(0).tree_digest(), expected.output_directories(0).tree_digest());
  // The fetched result names its root Directory, as a local one may.
  ASSERT_TRUE(got.output_directories(0).has_root_directory_digest());
  if (expected.output_directories(0).has_root_directory_digest()) {
    EXPECT_EQ(got.output_directories(0).root_directory_digest(),
              expected.output_directories(0).root_directory_digest());
  }
  EXPECT_EQ(got.stdout_digest(), expected.stdout_digest());
  EXPECT_EQ(got.stderr_digest(), expected.stderr_digest());

  // Everything is readable from the host's store, which ran nothing of
  // this itself but the comparison: read through the remote result.
  EXPECT_EQ(ReadLocal(got.output_files(0).digest()), "file-content\n");
  EXPECT_EQ(ReadLocal(got.stdout_digest()), "to-stdout\n");
  EXPECT_EQ(ReadLocal(got.stderr_digest()), "to-stderr\n");
  std::map<std::string, std::string> expected_files = {{"dir/a", "a\n"}, {"dir/nested/b", "b"}};
  EXPECT_EQ(FilesOfTree(local(), got.output_directories(0).tree_digest()), expected_files);
  StatusOr<bool> root_present = local().Contains(got.output_directories(0).root_directory_digest());
  EXPECT_TRUE(root_present.ok() && *root_present);
}

TEST_F(RemoteExecutionTest, OutputsComeIntoAStoreThatNeverHadThem) {
  // The comparison above ran locally first, so its outputs were already
  // in the store; here only the remote run can have put them there.
  StartServer();
  Action action = MustMake(kRichAction);
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  ExecuteOutcome run = remote->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_TRUE(run.result.has_value());
  ASSERT_EQ(run.result->output_files_size(), 1);
  EXPECT_EQ(ReadLocal(run.result->output_files(0).digest()), "file-content\n");
  EXPECT_EQ(ReadLocal(run.result->stdout_digest()), "to-stdout\n");
  EXPECT_EQ(ReadLocal(run.result->stderr_digest()), "to-stderr\n");
  ASSERT_EQ(run.result->output_directories_size(), 1);
  std::map<std::string, std::string> expected_files = {{"dir/a", "a\n"}, {"dir/nested/b", "b"}};
  EXPECT_EQ(FilesOfTree(local(), run.result->output_directories(0).tree_digest()), expected_files);
}

TEST_F(RemoteExecutionTest, InlineOutputIsFilledWhenAsked) {
  StartServer();
  Action action = MustMake(ShellAction{"echo inline-out; echo inline-err >&2"});
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  ExecuteOptions options;
  options.inline_stdout = true;
  options.inline_stderr = true;
  ExecuteOutcome run = remote->Execute(action, options);
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_TRUE(run.result.has_value());
  EXPECT_EQ(run.result->stdout_raw(), "inline-out\n");
  EXPECT_EQ(run.result->stderr_raw(), "inline-err\n");
}

TEST_F(RemoteExecutionTest, ASecondRunIsACacheHitThatUploadsNothing) {
  StartWithMetrics();
  Action action = MustMake(kRichAction);
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  ExecuteOutcome first = remote->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  ASSERT_TRUE(first.result.has_value());
  EXPECT_FALSE(first.cached_result);
  auto [uploaded_before, hits_before] = UploadsAndHits();
  // The first run uploaded its inputs (busybox at least).
  EXPECT_GT(uploaded_before, 0);

  std::vector<ExecuteStage> stages;
  ExecuteOptions options;
  options.progress = [&](const ExecuteProgress& progress) { stages.push_back(progress.stage); };
  ExecuteOutcome second = remote->Execute(action, options);
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  ASSERT_TRUE(second.result.has_value());
  EXPECT_TRUE(second.cached_result);
  EXPECT_EQ(second.result->stdout_digest(), first.result->stdout_digest());
  ASSERT_EQ(second.result->output_files_size(), 1);
  EXPECT_EQ(second.result->output_files(0).digest(), first.result->output_files(0).digest());
  EXPECT_EQ(std::count(stages.begin(), stages.end(), ExecuteStage::kUploading), 0);

  auto [uploaded_after, hits_after] = UploadsAndHits();
  EXPECT_EQ(uploaded_after, uploaded_before) << "the cached run sent blobs to the server";
  EXPECT_EQ(hits_after, hits_before + 1);
}

TEST_F(RemoteExecutionTest, ADoNotCacheActionIsExecutedEachTime) {
  StartWithMetrics();
  ShellAction shell = kRichAction;
  shell.do_not_cache = true;
  Action action = MustMake(shell);
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  ExecuteOutcome first = remote->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  ExecuteOutcome second = remote->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  EXPECT_FALSE(first.cached_result);
  EXPECT_FALSE(second.cached_result);
  // Two operations on the server, and no cache hit anywhere.
  EXPECT_FALSE(first.operation_name.empty());
  EXPECT_FALSE(second.operation_name.empty());
  EXPECT_NE(first.operation_name, second.operation_name);
  EXPECT_EQ(UploadsAndHits().second, 0);
  ASSERT_TRUE(second.result.has_value());
  EXPECT_EQ(ReadLocal(second.result->stdout_digest()), "to-stdout\n");
}

TEST_F(RemoteExecutionTest, ANonZeroExitCodeIsAnOkStatusWithTheExitCode) {
  StartServer();
  Action action = MustMake(ShellAction{"echo before failing; exit 3"});
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  ExecuteOutcome run = remote->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_TRUE(run.result.has_value());
  EXPECT_EQ(run.result->exit_code(), 3);
  EXPECT_EQ(ReadLocal(run.result->stdout_digest()), "before failing\n");
}

TEST_F(RemoteExecutionTest, AnActionWhoseTimeoutExpiresIsDeadlineExceeded) {
  StartServer();
  ShellAction shell{"echo started; sleep 60"};
  shell.timeout_seconds = 1;
  Action action = MustMake(shell);
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  ExecuteOutcome run = remote->Execute(action, ExecuteOptions{});
  EXPECT_EQ(run.status.code(), Code::kDeadlineExceeded) << run.status.ToString();
  EXPECT_NE(run.status.message().find("timeout"), std::string::npos) << run.status.ToString();
}

TEST_F(RemoteExecutionTest, ACachedResultWhoseBlobTheServerLostIsExecutedAgain) {
  StartServer();
  Action action = MustMake(kRichAction);
  Digest output;
  {
    std::unique_ptr<Sandbox> remote = Remote();
    ASSERT_NE(remote, nullptr);
    ExecuteOutcome first = remote->Execute(action, ExecuteOptions{});
    ASSERT_TRUE(first.status.ok()) << first.status.ToString();
    ASSERT_TRUE(first.result.has_value());
    ASSERT_EQ(first.result->output_files_size(), 1);
    output = first.result->output_files(0).digest();
    ExecuteOutcome cached = remote->Execute(action, ExecuteOptions{});
    ASSERT_TRUE(cached.status.ok()) << cached.status.ToString();
    EXPECT_TRUE(cached.cached_result);
  }
  // The server loses the output file, as an eviction would (stopped
  // meanwhile, like the server's own test of this); the host's copy goes
  // too, so the result must come from the server again.
  StopServer();
  ASSERT_EQ(::unlink(ObjectPath(ServerStore(), output).c_str()), 0)
      << ObjectPath(ServerStore(), output);
  ASSERT_EQ(::unlink(ObjectPath(ClientDir() + "/store", output).c_str()), 0)
      << ObjectPath(ClientDir() + "/store", output);
  StartServer();

  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  ExecuteOutcome again = remote->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  EXPECT_FALSE(again.cached_result);
  ASSERT_TRUE(again.result.has_value());
  ASSERT_EQ(again.result->output_files_size(), 1);
  EXPECT_EQ(again.result->output_files(0).digest(), output);
  EXPECT_EQ(ReadLocal(output), "file-content\n");
  EXPECT_TRUE(std::filesystem::exists(ObjectPath(ServerStore(), output)));
}

TEST_F(RemoteExecutionTest, APlatformPropertyNotPassedIsRefusedBeforeAnyCall) {
  // Nothing listens at the URL: a call would be UNAVAILABLE, not this.
  const std::string nowhere = "grpc://127.0.0.1:" + std::to_string(FreePort());
  ShellAction shell{"true"};
  shell.platform = {{"Color", "blue"}};
  Action action = MustMake(shell);
  StatusOr<std::unique_ptr<Sandbox>> remote = CreateRemote(RemoteOptions(nowhere));
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  ExecuteOutcome run = (*remote)->Execute(action, ExecuteOptions{});
  EXPECT_EQ(run.status.code(), Code::kInvalidArgument) << run.status.ToString();
  EXPECT_NE(run.status.message().find("'Color'"), std::string::npos) << run.status.ToString();
  EXPECT_NE(run.status.message().find("platform-properties"), std::string::npos)
      << run.status.ToString();
  EXPECT_FALSE(run.result.has_value());

  // Named in platform-properties, the property is passed: the call is
  // made (and fails, nothing listening).
  remote = CreateRemote(RemoteOptions(nowhere, "platform-properties: [Color]\n"));
  ASSERT_TRUE(remote.ok()) << remote.status().ToString();
  run = (*remote)->Execute(action, ExecuteOptions{});
  EXPECT_EQ(run.status.code(), Code::kUnavailable) << run.status.ToString();
}

TEST_F(RemoteExecutionTest, AServerThatDoesNotExecuteIsRefusedNamingExecEnabled) {
  StartServer([](ServerConfig& config) { config.sandbox.plugin = kNoSandbox; });
  Action action = MustMake(ShellAction{"true"});
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  ExecuteOutcome run = remote->Execute(action, ExecuteOptions{});
  EXPECT_EQ(run.status.code(), Code::kFailedPrecondition) << run.status.ToString();
  EXPECT_NE(run.status.message().find("exec_enabled"), std::string::npos) << run.status.ToString();
  EXPECT_NE(run.status.message().find(ServerUrl()), std::string::npos) << run.status.ToString();
}

TEST_F(RemoteExecutionTest, BadOptionsFailAtCreationNamingTheOption) {
  struct Case {
    std::string options;
    std::string named;
  };
  const std::string url = "grpc://127.0.0.1:1";
  const std::vector<Case> cases = {
      {"url: " + url + "\ncolour: red\n", "colour"},
      {"url: ftp://127.0.0.1:1\n", "ftp://127.0.0.1:1"},
      {"instance-name: main\n", "url"},
      {"url: " + url + "\nconnection-config:\n  retry-limit: many\n", "retry-limit"},
      {"url: " + url + "\nstorage-service:\n  url: " + url + "\n  shade: dark\n", "shade"},
      {"url: " + url + "\nexecution-timeout: -5\n", "execution-timeout"},
      {"url: grpcs://127.0.0.1:1\nserver-cert: " + dir_.path() + "/no-such-ca.pem\n",
       "no-such-ca.pem"},
  };
  for (const Case& bad : cases) {
    SCOPED_TRACE(bad.options);
    StatusOr<std::unique_ptr<Sandbox>> remote = CreateRemote(bad.options);
    ASSERT_FALSE(remote.ok());
    EXPECT_NE(remote.status().code(), Code::kOk);
    EXPECT_NE(remote.status().message().find(bad.named), std::string::npos)
        << remote.status().ToString();
  }
}

TEST_F(RemoteExecutionTest, UploadsGoToTheStorageServiceAndExecutionToTheUrl) {
  // One server on TCP and a Unix socket; the execution token may not
  // write, so the inputs can only arrive through the storage-service
  // endpoint, with its own token.
  const std::string socket = dir_.path() + "/server.sock";
  const std::string tokens = dir_.Write("tokens.yaml",
                                        "tokens:\n"
                                        "  - token: executor\n"
                                        "    permissions: [read, execute]\n"
                                        "  - token: writer\n"
                                        "    permissions: [read, write]\n");
  const std::string executor = dir_.Write("executor.token", "executor\n");
  const std::string writer = dir_.Write("writer.token", "writer\n");
  StartServer([&](ServerConfig& config) {
    config.listen.push_back(*ParseListenAddress("unix:" + socket, {}));
    config.tokens_file = tokens;
  });
  Action action = MustMake(kRichAction);

  // Without the storage service, uploading is refused.
  StatusOr<std::unique_ptr<Sandbox>> alone =
      CreateRemote(RemoteOptions(ServerUrl(), "access-token: " + executor + "\n"));
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  ExecuteOutcome refused = (*alone)->Execute(action, ExecuteOptions{});
  EXPECT_EQ(refused.status.code(), Code::kPermissionDenied) << refused.status.ToString();

  StatusOr<std::unique_ptr<Sandbox>> split =
      CreateRemote(RemoteOptions(ServerUrl(), "access-token: " + executor +
                                                  "\n"
                                                  "storage-service:\n"
                                                  "  url: unix:" +
                                                  socket +
                                                  "\n"
                                                  "  access-token: " +
                                                  writer + "\n" + QuickConnection("  ")));
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  ExecuteOutcome run = (*split)->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  ASSERT_TRUE(run.result.has_value());
  EXPECT_FALSE(run.cached_result);
  ASSERT_EQ(run.result->output_files_size(), 1);
  EXPECT_EQ(ReadLocal(run.result->output_files(0).digest()), "file-content\n");
}

TEST_F(RemoteExecutionTest, TheActionCacheServiceIsAskedInsteadOfTheExecutionServer) {
  StartServer();
  // A second server, storing only: its action cache holds a result for
  // the Action that the executing server never produced.
  ServerConfig second_config = DefaultConfig();
  second_config.cache_dir = dir_.path() + "/second-cache";
  second_config.sandbox.plugin = kNoSandbox;
  ASSERT_TRUE(server::FinishServerConfig(&second_config, false).ok());
  StatusOr<std::unique_ptr<server::Server>> second = server::Server::Start(second_config);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const std::string second_url = "grpc://127.0.0.1:" + std::to_string((*second)->port());

  Action action = MustMake(ShellAction{"echo executed"});
  const std::string marker = "from the second server's action cache\n";
  // The blob is in both stores: the second server checks a result's blobs
  // before caching it; the plugin fetches it from the storage endpoint,
  // the executing server.
  Digest marker_digest = Upload(marker);
  auto channel = grpc::CreateChannel(second_url.substr(7), grpc::InsecureChannelCredentials());
  {
    auto second_cas = reapi::ContentAddressableStorage::NewStub(channel);
    reapi::BatchUpdateBlobsRequest request;
    auto* blob = request.add_requests();
    *blob->mutable_digest() = marker_digest;
    blob->set_data(marker);
    reapi::BatchUpdateBlobsResponse response;
    grpc::Status status = second_cas->BatchUpdateBlobs(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto second_cache = reapi::ActionCache::NewStub(channel);
    reapi::UpdateActionResultRequest update;
    *update.mutable_action_digest() = DigestOfBytes(action.SerializeAsString());
    update.mutable_action_result()->set_exit_code(0);
    *update.mutable_action_result()->mutable_stdout_digest() = marker_digest;
    reapi::ActionResult stored;
    status = second_cache->UpdateActionResult(Context().get(), update, &stored);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  std::unique_ptr<Sandbox> remote =
      Remote("action-cache-service:\n  url: " + second_url + "\n" + QuickConnection("  "));
  ASSERT_NE(remote, nullptr);
  ExecuteOutcome run = remote->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_TRUE(run.cached_result);
  ASSERT_TRUE(run.result.has_value());
  EXPECT_EQ(ReadLocal(run.result->stdout_digest()), marker);

  // The executing server alone has no such result: it executes.
  std::unique_ptr<Sandbox> direct = Remote();
  ASSERT_NE(direct, nullptr);
  ExecuteOutcome executed = direct->Execute(action, ExecuteOptions{});
  ASSERT_TRUE(executed.status.ok()) << executed.status.ToString();
  EXPECT_FALSE(executed.cached_result);
  ASSERT_TRUE(executed.result.has_value());
  EXPECT_EQ(ReadLocal(executed.result->stdout_digest()), "executed\n");
  (*second)->Shutdown(std::chrono::seconds(5));
}

TEST_F(RemoteExecutionTest, ACachedResultNamingBlobsTheStorageLacksIsAMiss) {
  // The action cache (second server) has a result whose stdout the
  // storage endpoint (the executing server) never had: a miss, executed.
  StartServer();
  ServerConfig second_config = DefaultConfig();
  second_config.cache_dir = dir_.path() + "/second-cache";
  second_config.sandbox.plugin = kNoSandbox;
  ASSERT_TRUE(server::FinishServerConfig(&second_config, false).ok());
  StatusOr<std::unique_ptr<server::Server>> second = server::Server::Start(second_config);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  const std::string second_url = "grpc://127.0.0.1:" + std::to_string((*second)->port());

  Action action = MustMake(ShellAction{"echo executed after all"});
  const std::string stale = "only the second server has this\n";
  auto channel = grpc::CreateChannel(second_url.substr(7), grpc::InsecureChannelCredentials());
  {
    auto second_cas = reapi::ContentAddressableStorage::NewStub(channel);
    reapi::BatchUpdateBlobsRequest request;
    auto* blob = request.add_requests();
    *blob->mutable_digest() = DigestOfBytes(stale);
    blob->set_data(stale);
    reapi::BatchUpdateBlobsResponse response;
    grpc::Status status = second_cas->BatchUpdateBlobs(Context().get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto second_cache = reapi::ActionCache::NewStub(channel);
    reapi::UpdateActionResultRequest update;
    *update.mutable_action_digest() = DigestOfBytes(action.SerializeAsString());
    *update.mutable_action_result()->mutable_stdout_digest() = DigestOfBytes(stale);
    reapi::ActionResult stored;
    status = second_cache->UpdateActionResult(Context().get(), update, &stored);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  std::unique_ptr<Sandbox> remote =
      Remote("action-cache-service:\n  url: " + second_url + "\n" + QuickConnection("  "));
  ASSERT_NE(remote, nullptr);
  std::vector<ExecuteProgress> reports;
  ExecuteOptions options;
  options.progress = [&](const ExecuteProgress& progress) { reports.push_back(progress); };
  ExecuteOutcome run = remote->Execute(action, options);
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();
  EXPECT_FALSE(run.cached_result);
  ASSERT_TRUE(run.result.has_value());
  EXPECT_EQ(ReadLocal(run.result->stdout_digest()), "executed after all\n");
  bool said_why = std::any_of(reports.begin(), reports.end(), [](const ExecuteProgress& report) {
    return report.message.find("no longer has") != std::string::npos;
  });
  EXPECT_TRUE(said_why) << "no report said the cached result's blobs were gone";
  (*second)->Shutdown(std::chrono::seconds(5));
}

TEST_F(RemoteExecutionTest, RunInteractiveIsUnimplemented) {
  StartServer();
  Action action = MustMake(ShellAction{"true"});
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  StatusOr<int> exit_code = remote->RunInteractive(action, InteractiveOptions{});
  EXPECT_EQ(exit_code.status().code(), Code::kUnimplemented) << exit_code.status().ToString();
}

TEST_F(RemoteExecutionTest, CapabilitiesSayRemoteAndListThePassedProperties) {
  StartServer();
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  StatusOr<SandboxCapabilities> capabilities = remote->Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
  EXPECT_NE(capabilities->flags & CAIRN_SANDBOX_REMOTE, 0u);
  std::vector<std::string> names;
  for (const auto& property : capabilities->platform.properties()) {
    names.push_back(property.name());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"ISA", "OSFamily"}));

  remote = Remote("platform-properties: [OSFamily, container-image]\n");
  ASSERT_NE(remote, nullptr);
  capabilities = remote->Capabilities();
  ASSERT_TRUE(capabilities.ok()) << capabilities.status().ToString();
  names.clear();
  for (const auto& property : capabilities->platform.properties()) {
    names.push_back(property.name());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"OSFamily", "container-image"}));
}

TEST_F(RemoteExecutionTest, ProgressReportsTheStagesInOrderWithTheOperationName) {
  StartServer();
  Action action = MustMake(kRichAction);
  std::unique_ptr<Sandbox> remote = Remote();
  ASSERT_NE(remote, nullptr);
  std::mutex mutex;
  std::vector<ExecuteProgress> reports;
  ExecuteOptions options;
  options.progress = [&](const ExecuteProgress& progress) {
    std::lock_guard<std::mutex> lock(mutex);
    reports.push_back(progress);
  };
  ExecuteOutcome run = remote->Execute(action, options);
  ASSERT_TRUE(run.status.ok()) << run.status.ToString();

  std::string seen;
  for (const ExecuteProgress& report : reports) seen += ExecuteStageName(report.stage) + " ";
  auto first = [&](std::initializer_list<ExecuteStage> stages) {
    auto found = std::find_if(reports.begin(), reports.end(), [&](const ExecuteProgress& report) {
      return std::find(stages.begin(), stages.end(), report.stage) != stages.end();
    });
    return found == reports.end() ? -1 : static_cast<int>(found - reports.begin());
  };
  int uploading = first({ExecuteStage::kUploading});
  int running = first({ExecuteStage::kQueued, ExecuteStage::kExecuting});
  int fetching = first({ExecuteStage::kFetching});
  ASSERT_GE(uploading, 0) << seen;
  EXPECT_GT(running, uploading) << seen;
  EXPECT_GT(fetching, running) << seen;
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back().stage, ExecuteStage::kCompleted) << seen;
  bool named = std::any_of(reports.begin(), reports.end(), [&](const ExecuteProgress& report) {
    return report.operation_name == run.operation_name;
  });
  EXPECT_TRUE(named) << "no report named the operation " << run.operation_name << "; " << seen;
  EXPECT_FALSE(run.operation_name.empty());
}

}  // namespace
}  // namespace cairn::testing
