#include "remote_sandbox.h"

#include <vector>

#include "cairn/merkle.h"
#include "cairn/plugin_options.h"
#include "cairn/plugin_support.h"
#include "cairn/remote_client/action_outputs.h"
#include "cairn/status_details.h"

namespace cairn {

namespace reapi = build::bazel::remote::execution::v2;
using remote_client::RemoteConnection;
using remote_client::RemoteConnectionOptions;

namespace {

// How long past its own timeout an Action may take, queueing and
// recoveries included, when no execution-timeout is configured.
constexpr std::chrono::seconds kTimeoutAllowance{600};
// Output read back into ActionResult.stdout_raw / stderr_raw at most, when
// the caller asks for it inline.
constexpr int64_t kMaxInlineBytes = 1 << 20;

const remote_client::ToolIdentity& Tool() {
  static const remote_client::ToolIdentity kTool{"cairn", CAIRN_VERSION};
  return kTool;
}

// An endpoint from its options. A service section is read on its own, as
// the configuration reads it: what it leaves out takes the defaults, not
// the execution endpoint's values.
StatusOr<std::shared_ptr<RemoteConnection>> Connect(PluginOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(RemoteConnectionOptions read,
                         remote_client::ReadConnectionOptions(options));
  return RemoteConnection::Create(read, Tool());
}

StatusOr<std::shared_ptr<RemoteConnection>> ConnectService(
    PluginOptions& options, const std::string& key,
    const std::shared_ptr<RemoteConnection>& fallback) {
  CAIRN_ASSIGN_OR_RETURN(std::optional<PluginOptions> section, options.GetSection(key));
  if (!section.has_value()) return fallback;
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<RemoteConnection> connection, Connect(*section));
  CAIRN_RETURN_IF_ERROR(section->Finish());
  return connection;
}

// What a remote ExecuteResponse.status means to the caller, named by the
// endpoint.
Status ResponseStatus(const reapi::ExecuteResponse& response, const std::string& url) {
  Status status = FromRpcStatus(response.status());
  if (status.ok()) return status;
  std::string message = url + ": " + CodeName(status.code()) + ": ";
  if (status.code() == Code::kDeadlineExceeded) message += "the action's timeout expired: ";
  return status.WithContext(message + "the remote execution failed");
}

// Reads a small output back into its inline field, as a local sandbox
// fills it when asked.
void Inline(Storage& local, const Digest& digest, std::string* raw) {
  if (!raw->empty() || digest.hash().empty() || digest.size_bytes() > kMaxInlineBytes) return;
  StatusOr<std::string> bytes = local.ReadBlob(digest);
  if (bytes.ok()) *raw = std::move(bytes).value();
}

}  // namespace

StatusOr<std::unique_ptr<Sandbox>> RemoteSandbox::Create(const HostServices& host,
                                                         std::string_view options_yaml) {
  CAIRN_ASSIGN_OR_RETURN(PluginOptions options, PluginOptions::Parse(options_yaml, "remote"));
  if (!options.Has("url")) {
    return InvalidArgument(
        "the remote sandbox needs a server: set `remote-execution: url: grpc://HOST:PORT` in "
        "the user configuration (or the remote sandbox's `url` option)");
  }
  Endpoints endpoints;
  CAIRN_ASSIGN_OR_RETURN(endpoints.execution, Connect(options));
  CAIRN_ASSIGN_OR_RETURN(endpoints.storage,
                         ConnectService(options, "storage-service", endpoints.execution));
  CAIRN_ASSIGN_OR_RETURN(endpoints.action_cache,
                         ConnectService(options, "action-cache-service", endpoints.execution));
  std::set<std::string> properties{"OSFamily", "ISA"};
  if (options.Has("platform-properties")) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> names,
                           options.GetStringList("platform-properties"));
    properties = std::set<std::string>(names.begin(), names.end());
  }
  CAIRN_ASSIGN_OR_RETURN(int64_t timeout, options.GetInt("execution-timeout", 0, 0, 7 * 86400));
  CAIRN_RETURN_IF_ERROR(options.Finish());
  return std::unique_ptr<Sandbox>(new RemoteSandbox(
      host, std::move(endpoints), std::move(properties), std::chrono::seconds(timeout)));
}

RemoteSandbox::RemoteSandbox(HostServices host, Endpoints endpoints,
                             std::set<std::string> platform_properties,
                             std::chrono::seconds execution_timeout)
    : host_(std::move(host)),
      endpoints_(std::move(endpoints)),
      platform_properties_(std::move(platform_properties)),
      execution_timeout_(execution_timeout),
      cas_(endpoints_.storage),
      action_cache_(endpoints_.action_cache),
      execution_(endpoints_.execution) {
  if (endpoints_.execution != endpoints_.storage) {
    execution_capabilities_ = std::make_unique<remote_client::CasClient>(endpoints_.execution);
  }
}

StatusOr<SandboxCapabilities> RemoteSandbox::Capabilities() {
  // The properties passed through; their values are the server's business.
  SandboxCapabilities capabilities;
  for (const std::string& name : platform_properties_) {
    capabilities.platform.add_properties()->set_name(name);
  }
  capabilities.flags = CAIRN_SANDBOX_REMOTE;
  return capabilities;
}

StatusOr<int> RemoteSandbox::RunInteractive(const Action&, const InteractiveOptions&) {
  return Unimplemented(
      "the remote sandbox cannot run anything interactively (REAPI has no terminal); "
      "`cairn shell` and checkout integration use the local sandbox");
}

Status RemoteSandbox::CheckExecutionEndpoint() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (execution_checked_.has_value()) return *execution_checked_;
  StatusOr<remote_client::RemoteCapabilities> capabilities =
      execution_capabilities_ ? execution_capabilities_->Capabilities() : cas_.Capabilities();
  Status checked = capabilities.status();
  const RemoteConnectionOptions& options = endpoints_.execution->options();
  if (capabilities.ok() && !capabilities->exec_enabled) {
    checked = FailedPrecondition("remote " + options.url + " (instance \"" + options.instance_name +
                                 "\") does not execute actions (its capabilities say "
                                 "exec_enabled: false); point remote-execution at an "
                                 "execution service");
  }
  // A transient failure is not remembered: the next Action asks again.
  if (checked.ok() || checked.code() == Code::kFailedPrecondition) execution_checked_ = checked;
  return checked;
}

Status RemoteSandbox::CheckPlatform(const Action& action) const {
  for (const auto& property : action.platform().properties()) {
    if (platform_properties_.count(property.name()) == 0) {
      std::string passed;
      for (const std::string& name : platform_properties_) {
        passed += (passed.empty() ? "" : ", ") + name;
      }
      return InvalidArgument("platform property '" + property.name() +
                             "' is not passed to the remote server (the remote sandbox passes " +
                             (passed.empty() ? "none" : passed) +
                             "; add it to its platform-properties option)");
    }
  }
  return Status::Ok();
}

void RemoteSandbox::Report(const ExecuteOptions& options, ExecuteStage stage,
                           const std::string& operation, const std::string& message) const {
  std::string line = "remote: " + ExecuteStageName(stage);
  if (!operation.empty()) line += " (" + operation + ")";
  if (!message.empty()) line += ": " + message;
  // Recoveries are worth the user's attention; stages only when asked.
  if (message.empty()) {
    host_.Debug(line);
  } else {
    host_.Info(line);
  }
  if (options.progress) options.progress(ExecuteProgress{stage, operation, message});
}

StatusOr<std::optional<ActionResult>> RemoteSandbox::Lookup(const Digest& action,
                                                            const std::string& action_id,
                                                            const ExecuteOptions& options,
                                                            Storage& local) {
  auto cancelled = [&] {
    return host_.IsCancelled() || (options.is_cancelled && options.is_cancelled());
  };
  Report(options, ExecuteStage::kCacheCheck, "", "");
  CAIRN_ASSIGN_OR_RETURN(std::optional<ActionResult> cached,
                         action_cache_.Get(action, action_id, cancelled));
  if (!cached.has_value()) return cached;
  Report(options, ExecuteStage::kFetching, "", "");
  Status fetched = remote_client::FetchActionOutputs(cas_, &*cached, local);
  if (fetched.code() == Code::kNotFound) {
    Report(options, ExecuteStage::kCacheCheck, "",
           "the cached result names blobs the server no longer has (" + fetched.message() +
               "); executing again");
    return std::optional<ActionResult>();
  }
  CAIRN_RETURN_IF_ERROR(fetched);
  return cached;
}

ExecuteOutcome RemoteSandbox::Execute(const Action& action, const ExecuteOptions& options) {
  Storage* local = host_.cas();
  if (local == nullptr) {
    ExecuteOutcome outcome;
    outcome.status = FailedPrecondition("the remote sandbox needs the host's store");
    return outcome;
  }
  ExecuteOutcome outcome = Run(action, options, *local);
  if (outcome.result.has_value()) {
    ActionResult& result = *outcome.result;
    if (options.inline_stdout) Inline(*local, result.stdout_digest(), result.mutable_stdout_raw());
    if (options.inline_stderr) Inline(*local, result.stderr_digest(), result.mutable_stderr_raw());
    // REAPI gives output after the fact; a live log gets it then.
    if (options.live_output_fd >= 0) {
      for (const Digest& digest : {result.stdout_digest(), result.stderr_digest()}) {
        if (digest.size_bytes() > 0) (void)local->ReadBlobToFd(digest, options.live_output_fd);
      }
    }
  }
  return outcome;
}

ExecuteOutcome RemoteSandbox::Run(const Action& action, const ExecuteOptions& options,
                                  Storage& local) {
  ExecuteOutcome outcome;
  auto fail = [&](Status status) {
    outcome.status = std::move(status);
    return outcome;
  };
  if (Status platform = CheckPlatform(action); !platform.ok()) return fail(platform);
  StatusOr<Digest> action_digest = local.WriteBlob(action.SerializeAsString());
  if (!action_digest.ok()) return fail(action_digest.status().WithContext("storing the Action"));
  const std::string action_id = action_digest->hash();
  // Every call made for this Action (uploads, downloads) names it.
  remote_client::ActionScope scope(action_id);
  if (Status checked = CheckExecutionEndpoint(); !checked.ok()) return fail(checked);

  bool skip_cache_lookup = options.skip_cache_lookup || action.do_not_cache();
  if (!skip_cache_lookup) {
    StatusOr<std::optional<ActionResult>> cached =
        Lookup(*action_digest, action_id, options, local);
    if (!cached.ok()) return fail(cached.status());
    if (cached->has_value()) {
      outcome.result = std::move(**cached);
      outcome.cached_result = true;
      Report(options, ExecuteStage::kCompleted, "", "");
      return outcome;
    }
  }

  Report(options, ExecuteStage::kUploading, "", "");
  StatusOr<CollectedTree> tree = CollectTree(local, action.input_root_digest());
  if (!tree.ok()) return fail(tree.status().WithContext("reading the Action's input root"));
  std::vector<Digest> inputs = tree->AllDigests();
  inputs.push_back(action.command_digest());
  inputs.push_back(*action_digest);
  if (Status uploaded = cas_.Upload(inputs, local); !uploaded.ok()) return fail(uploaded);

  reapi::ExecuteRequest request;
  *request.mutable_action_digest() = *action_digest;
  request.set_skip_cache_lookup(skip_cache_lookup);
  request.set_digest_function(reapi::DigestFunction::SHA256);
  remote_client::ExecutionCallbacks callbacks;
  callbacks.is_cancelled = [&] {
    return host_.IsCancelled() || (options.is_cancelled && options.is_cancelled());
  };
  callbacks.progress = [&](const ExecuteProgress& progress) {
    Report(options, progress.stage, progress.operation_name, progress.message);
  };
  callbacks.upload_missing = [&](const std::vector<Digest>& missing) {
    return cas_.Upload(missing, local);
  };
  std::optional<std::chrono::system_clock::time_point> deadline;
  if (execution_timeout_.count() > 0) {
    deadline = std::chrono::system_clock::now() + execution_timeout_;
  } else if (action.has_timeout() && action.timeout().seconds() > 0) {
    deadline = std::chrono::system_clock::now() + std::chrono::seconds(action.timeout().seconds()) +
               kTimeoutAllowance;
  }
  StatusOr<remote_client::ExecutionOutcome> executed =
      execution_.Execute(request, action_id, callbacks, deadline);
  if (!executed.ok()) return fail(executed.status());
  reapi::ExecuteResponse& response = executed->response;
  outcome.operation_name = executed->operation_name;
  outcome.message = response.message();
  outcome.cached_result = response.cached_result();
  Status status = ResponseStatus(response, endpoints_.execution->options().url);
  if (response.has_result()) {
    Report(options, ExecuteStage::kFetching, outcome.operation_name, "");
    Status fetched = remote_client::FetchActionOutputs(cas_, response.mutable_result(), local);
    if (!fetched.ok()) return fail(fetched.WithContext("fetching the outputs"));
    outcome.result = std::move(*response.mutable_result());
  } else if (status.ok()) {
    return fail(Internal(endpoints_.execution->options().url +
                         " completed the operation without an ActionResult"));
  }
  Report(options, ExecuteStage::kCompleted, outcome.operation_name, "");
  outcome.status = status;
  return outcome;
}

}  // namespace cairn

CAIRN_DEFINE_SANDBOX_PLUGIN(cairn::RemoteSandbox, "remote", "1.0.0",
                            "Runs actions on a REAPI remote execution server")
