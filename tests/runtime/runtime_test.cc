// The Runtime wiring real plugins together: which sandbox gets which
// options, which sandbox is local, and the ABI 1.1 execute plumbing (status
// details, progress, per-call cancellation, the report) through a plugin
// built with cairn/plugin_support.h (echo_plugin.cc).
#include "cairn/runtime/runtime.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>

#include "cairn/abi.h"
#include "cairn/merkle.h"
#include "cairn/runtime/config.h"
#include "cairn/status_details.h"
#include "cairn/storage_ops.h"
#include "test_files.h"

namespace cairn {
namespace {

class RuntimeTest : public ::testing::Test {
 protected:
  RuntimeOptions Options() {
    RuntimeOptions options;
    options.scratch_dir = dir_.path() + "/scratch";
    options.storage.plugin = "cas-local";
    options.storage.options_yaml = "path: " + dir_.path() + "/cas\n";
    options.build_sandbox.plugin = "echo-a";
    return options;
  }

  Runtime& Start(RuntimeOptions options) {
    runtime_ = std::make_unique<Runtime>(std::move(options), registry_);
    return *runtime_;
  }

  // An Action whose Command's argv[0] is `verb`, stored in the runtime's CAS.
  Action MakeAction(const std::string& verb) {
    StatusOr<std::shared_ptr<Storage>> cas = runtime_->OpenStorage();
    EXPECT_TRUE(cas.ok()) << cas.status().ToString();
    Command command;
    command.add_arguments(verb);
    Action action;
    *action.mutable_command_digest() = *(*cas)->WriteMessage(command);
    *action.mutable_input_root_digest() = *(*cas)->WriteMessage(Directory());
    return action;
  }

  std::string OptionsSeenBy(StatusOr<std::shared_ptr<Sandbox>> sandbox) {
    EXPECT_TRUE(sandbox.ok()) << sandbox.status().ToString();
    if (!sandbox.ok()) return "";
    ExecuteOutcome outcome = (*sandbox)->Execute(MakeAction("options"), ExecuteOptions());
    EXPECT_TRUE(outcome.status.ok()) << outcome.status.ToString();
    return outcome.result ? outcome.result->stdout_raw() : "";
  }

  TempDir dir_;
  std::shared_ptr<PluginRegistry> registry_ = std::make_shared<PluginRegistry>(
      PluginRegistry::Discover({CAIRN_ECHO_DIR, CAIRN_TEST_PLUGIN_DIR}));
  std::unique_ptr<Runtime> runtime_;
};

TEST_F(RuntimeTest, EverySandboxGetsItsOwnConfiguredOptionsHoweverItIsChosen) {
  RuntimeOptions options = Options();
  options.sandbox_options["echo-a"].options_yaml = "greeting: a";
  options.sandbox_options["echo-b"].options_yaml = "greeting: b";
  Runtime& runtime = Start(options);
  EXPECT_EQ(OptionsSeenBy(runtime.BuildSandbox()), "greeting: a");
  EXPECT_EQ(OptionsSeenBy(runtime.OpenSandbox("echo-b")), "greeting: b");
}

TEST_F(RuntimeTest, OptionsGivenWithTheChoiceWinOverThePluginsEntry) {
  RuntimeOptions options = Options();
  options.build_sandbox.options_yaml = "greeting: chosen";
  options.sandbox_options["echo-a"].options_yaml = "greeting: by name";
  Runtime& runtime = Start(options);
  EXPECT_EQ(OptionsSeenBy(runtime.BuildSandbox()), "greeting: chosen");
}

TEST_F(RuntimeTest, CreateSandboxMakesPrivateInstancesWithExactlyTheGivenOptions) {
  RuntimeOptions options = Options();
  options.sandbox_options["echo-a"].options_yaml = "greeting: configured";
  Runtime& runtime = Start(options);
  PluginChoice one{"echo-a", "greeting: one", {}, {}};
  PluginChoice two{"echo-a", "greeting: two", {}, {}};
  StatusOr<std::unique_ptr<Sandbox>> first = runtime.CreateSandbox(one);
  StatusOr<std::unique_ptr<Sandbox>> second = runtime.CreateSandbox(two);
  ASSERT_TRUE(first.ok() && second.ok()) << first.status().ToString();
  EXPECT_EQ(OptionsSeenBy(std::shared_ptr<Sandbox>(std::move(*first))), "greeting: one");
  EXPECT_EQ(OptionsSeenBy(std::shared_ptr<Sandbox>(std::move(*second))), "greeting: two");
  EXPECT_EQ(OptionsSeenBy(runtime.BuildSandbox()), "greeting: configured");
}

TEST_F(RuntimeTest, TheLocalSandboxIsTheBuildSandboxWhenThatRunsHere) {
  Runtime& runtime = Start(Options());
  StatusOr<std::shared_ptr<Sandbox>> build = runtime.BuildSandbox();
  StatusOr<std::shared_ptr<Sandbox>> local = runtime.LocalSandbox();
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(runtime.LocalSandboxName(), "echo-a");
  EXPECT_EQ(build->get(), local->get());
}

TEST_F(RuntimeTest, TheLocalSandboxIsBwrapWhenTheBuildSandboxIsRemote) {
  RuntimeOptions options = Options();
  options.build_sandbox.plugin = "remote";
  Runtime& runtime = Start(options);
  StatusOr<std::shared_ptr<Sandbox>> local = runtime.LocalSandbox();
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ(runtime.LocalSandboxName(), kDefaultLocalSandbox);
  StatusOr<SandboxCapabilities> capabilities = (*local)->Capabilities();
  ASSERT_TRUE(capabilities.ok());
  EXPECT_EQ(capabilities->flags & CAIRN_SANDBOX_REMOTE, 0u);
}

TEST_F(RuntimeTest, AConfiguredLocalSandboxIsUsedForLocalWork) {
  RuntimeOptions options = Options();
  options.local_sandbox.plugin = "echo-b";
  options.local_sandbox.options_yaml = "greeting: local";
  Runtime& runtime = Start(options);
  EXPECT_EQ(OptionsSeenBy(runtime.LocalSandbox()), "greeting: local");
  EXPECT_EQ(runtime.LocalSandboxName(), "echo-b");
}

TEST_F(RuntimeTest, AnUnknownSandboxIsAPluginErrorListingTheLoadedOnes) {
  Runtime& runtime = Start(Options());
  Status status = runtime.OpenSandbox("nonesuch").status();
  EXPECT_EQ(status.code(), Code::kNotFound);
  EXPECT_EQ(ErrorReason(status), kReasonPlugin);
  EXPECT_NE(status.message().find("echo-b"), std::string::npos) << status.message();
}

TEST_F(RuntimeTest, APreconditionFailureMadeInAPluginReachesTheHostWithItsViolations) {
  Runtime& runtime = Start(Options());
  Action action = MakeAction("missing");
  ExecuteOutcome outcome = (*runtime.BuildSandbox())->Execute(action, ExecuteOptions());
  EXPECT_EQ(outcome.status.code(), Code::kFailedPrecondition);
  EXPECT_NE(outcome.status.message().find("inputs are missing"), std::string::npos);
  std::vector<Digest> missing = MissingBlobs(outcome.status);
  ASSERT_EQ(missing.size(), 2u) << outcome.status.ToString();
  EXPECT_EQ(missing[0], action.input_root_digest());
  EXPECT_EQ(missing[1], action.command_digest());
}

TEST_F(RuntimeTest, ProgressAndTheReportCrossTheAbi) {
  Runtime& runtime = Start(Options());
  std::vector<ExecuteProgress> seen;
  ExecuteOptions options;
  options.progress = [&](const ExecuteProgress& progress) { seen.push_back(progress); };
  ExecuteOutcome outcome = (*runtime.BuildSandbox())->Execute(MakeAction("progress"), options);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].stage, ExecuteStage::kCacheCheck);
  EXPECT_EQ(seen[1].stage, ExecuteStage::kQueued);
  EXPECT_EQ(seen[2].stage, ExecuteStage::kExecuting);
  EXPECT_EQ(seen[2].operation_name, "operations/echo-1");
  EXPECT_TRUE(outcome.cached_result);
  EXPECT_EQ(outcome.operation_name, "operations/echo-1");
  EXPECT_EQ(outcome.message, "served from the echo cache");
}

TEST_F(RuntimeTest, CancellingOneExecutionStopsItAndNoOther) {
  Runtime& runtime = Start(Options());
  std::atomic<int> polls{0};
  ExecuteOptions cancelled;
  cancelled.is_cancelled = [&]() { return ++polls >= 3; };
  ExecuteOutcome outcome = (*runtime.BuildSandbox())->Execute(MakeAction("wait-cancel"), cancelled);
  EXPECT_EQ(outcome.status.code(), Code::kCancelled);
  EXPECT_EQ(polls.load(), 3);
  // The next execution of the same sandbox is not affected.
  ExecuteOutcome next = (*runtime.BuildSandbox())->Execute(MakeAction("options"), ExecuteOptions());
  EXPECT_TRUE(next.status.ok()) << next.status.ToString();
}

// A plugin talking to a host of ABI 1.0 must not write the 1.1 `details`
// field of a cairn_error: that host's struct does not have it.
TEST_F(RuntimeTest, APluginWritesErrorDetailsOnlyForAHostThatHasTheField) {
  Runtime& runtime = Start(Options());
  Action action = MakeAction("missing");
  std::string wire = action.SerializeAsString();
  void* library = dlopen((std::string(CAIRN_ECHO_DIR) + "/echo-a.so").c_str(), RTLD_NOW);
  ASSERT_NE(library, nullptr) << dlerror();
  auto entry = reinterpret_cast<cairn_plugin_entry_fn>(dlsym(library, CAIRN_PLUGIN_ENTRY_SYMBOL));
  std::shared_ptr<Storage> cas = *runtime.OpenStorage();
  for (uint32_t host_minor : {0u, 1u}) {
    const auto* vtable = static_cast<const cairn_sandbox_vtable*>(
        entry(CAIRN_ABI_VERSION_MAJOR, host_minor)->vtable);
    cairn_host_services host{};
    host.struct_size = sizeof(host);
    host.abi_major = CAIRN_ABI_VERSION_MAJOR;
    host.abi_minor = host_minor;
    host.cas = MakeStorageOps(ErrorDetails::kWrite);
    host.cas_store = cas.get();
    void* sandbox = nullptr;
    cairn_error error{};
    ASSERT_EQ(vtable->create(&host, "", 0, &sandbox, &error), CAIRN_CODE_OK);
    cairn_execute_options options{};
    options.struct_size = sizeof(options);
    options.live_output_fd = -1;
    cairn_buffer result{};
    int32_t code = vtable->execute(sandbox, BytesOf(wire), &options, &result, &error);
    EXPECT_EQ(code, CAIRN_CODE_FAILED_PRECONDITION);
    EXPECT_GT(error.message.size, 0u);
    if (host_minor == 0) {
      EXPECT_EQ(error.details.data, nullptr) << "details written for a 1.0 host";
    } else {
      EXPECT_GT(error.details.size, 0u) << "no details for a 1.1 host";
    }
    ReleaseAbiError(&error);
    cairn_buffer_release(&result);
    vtable->destroy(sandbox);
  }
  // Left loaded: protobuf descriptors registered through it must outlive
  // the process's static destructors.
}

TEST_F(RuntimeTest, RemoteExecutionFromTheConfigurationReachesTheRemotePluginAsItsOptions) {
  std::string token = dir_.Write("token", "secret\n");
  std::string user = dir_.Write("config.yaml",
                                "remote-execution:\n"
                                "  url: grpc://127.0.0.1:8980\n"
                                "  instance-name: main\n"
                                "  access-token: token\n"
                                "sandboxes:\n"
                                "  remote:\n"
                                "    extra: kept\n");
  ConfigSources sources;
  sources.project_dir = dir_.path();
  sources.user_config_file = user;
  ConfigOverrides flags;
  flags.sandbox = "remote";
  flags.cache_dir = dir_.path() + "/cache";
  StatusOr<Config> config = LoadConfig(sources, flags);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  Runtime& runtime = Start(RuntimeOptionsFor(*config, nullptr));
  std::string seen = OptionsSeenBy(runtime.BuildSandbox());
  EXPECT_NE(seen.find("url: grpc://127.0.0.1:8980"), std::string::npos) << seen;
  EXPECT_NE(seen.find("instance-name: main"), std::string::npos) << seen;
  EXPECT_NE(seen.find("access-token: " + token), std::string::npos) << seen;
  EXPECT_NE(seen.find("extra: kept"), std::string::npos) << seen;
  EXPECT_NE(seen.find("retry-limit: 4"), std::string::npos) << seen;
}

}  // namespace
}  // namespace cairn
