#include "cairn/sandbox_client.h"

#include "cairn/abi.h"

namespace cairn {

StatusOr<std::unique_ptr<SandboxClient>> SandboxClient::Create(const cairn_sandbox_vtable* vtable,
                                                               const cairn_host_services* host,
                                                               const std::string& options,
                                                               std::string name) {
  void* instance = nullptr;
  CAIRN_RETURN_IF_ERROR(CallPlugin(name + ": create", [&](cairn_error* error) {
    return vtable->create(host, options.c_str(), options.size(), &instance, error);
  }));
  if (instance == nullptr) {
    return Internal(name + ": create returned OK but no sandbox instance");
  }
  return std::unique_ptr<SandboxClient>(new SandboxClient(vtable, instance, std::move(name)));
}

SandboxClient::~SandboxClient() {
  try {
    vtable_->destroy(instance_);
  } catch (...) {
    // A plugin that throws from destroy must not take the host down; there
    // is nobody left to report to.
  }
}

StatusOr<SandboxCapabilities> SandboxClient::Capabilities() {
  OwnedBuffer platform;
  SandboxCapabilities capabilities;
  CAIRN_RETURN_IF_ERROR(CallPlugin(name_ + ": capabilities", [&](cairn_error* error) {
    return vtable_->capabilities(instance_, platform.get(), &capabilities.flags, error);
  }));
  if (!capabilities.platform.ParseFromString(platform.Take())) {
    return Internal(name_ + ": capabilities returned a malformed Platform");
  }
  return capabilities;
}

namespace {

// Trampolines from the C callbacks of cairn_execute_options to the
// caller's ExecuteOptions (the `context`). A callback that throws must not
// unwind through the plugin.
int32_t ExecutionCancelled(void* context) {
  try {
    const auto* options = static_cast<const ExecuteOptions*>(context);
    return options->is_cancelled && options->is_cancelled() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

void ExecutionProgress(void* context, const cairn_execute_progress* raw) {
  try {
    const auto* options = static_cast<const ExecuteOptions*>(context);
    if (!options->progress || raw == nullptr) return;
    ExecuteProgress progress;
    progress.stage = static_cast<ExecuteStage>(raw->stage);
    if (raw->operation_name != nullptr) progress.operation_name = raw->operation_name;
    if (raw->message != nullptr) progress.message = raw->message;
    options->progress(progress);
  } catch (...) {
  }
}

}  // namespace

ExecuteOutcome SandboxClient::Execute(const Action& action, const ExecuteOptions& options) {
  std::string wire = action.SerializeAsString();
  cairn_execute_report report{};
  report.struct_size = sizeof(report);
  cairn_execute_options raw{};
  raw.struct_size = sizeof(raw);
  raw.flags = (options.inline_stdout ? CAIRN_EXECUTE_INLINE_STDOUT : 0u) |
              (options.inline_stderr ? CAIRN_EXECUTE_INLINE_STDERR : 0u) |
              (options.skip_cache_lookup ? CAIRN_EXECUTE_SKIP_CACHE_LOOKUP : 0u);
  raw.live_output_fd = options.live_output_fd;
  raw.context = const_cast<ExecuteOptions*>(&options);
  raw.is_cancelled = options.is_cancelled ? &ExecutionCancelled : nullptr;
  raw.progress = options.progress ? &ExecutionProgress : nullptr;
  raw.report = &report;
  OwnedBuffer result;
  ExecuteOutcome outcome;
  outcome.status = CallPlugin(name_ + ": execute", [&](cairn_error* error) {
    return vtable_->execute(instance_, BytesOf(wire), &raw, result.get(), error);
  });
  outcome.cached_result = report.cached_result != 0;
  outcome.operation_name = TakeBuffer(&report.operation_name);
  outcome.message = TakeBuffer(&report.message);
  std::string result_wire = result.Take();
  if (!result_wire.empty() || outcome.status.ok()) {
    build::bazel::remote::execution::v2::ActionResult parsed;
    if (!parsed.ParseFromString(result_wire)) {
      outcome.status = Internal(name_ + ": execute returned a malformed ActionResult");
      return outcome;
    }
    outcome.result = std::move(parsed);
  }
  return outcome;
}

StatusOr<int> SandboxClient::RunInteractive(const Action& action,
                                            const InteractiveOptions& options) {
  if (vtable_->run_interactive == nullptr) {
    return Unimplemented(name_ + " does not support interactive runs");
  }
  std::string wire = action.SerializeAsString();
  cairn_interactive_options raw{};
  raw.struct_size = sizeof(raw);
  raw.stdin_fd = options.stdin_fd;
  raw.stdout_fd = options.stdout_fd;
  raw.stderr_fd = options.stderr_fd;
  int32_t exit_code = -1;
  CAIRN_RETURN_IF_ERROR(CallPlugin(name_ + ": run_interactive", [&](cairn_error* error) {
    return vtable_->run_interactive(instance_, BytesOf(wire), &raw, &exit_code, error);
  }));
  return static_cast<int>(exit_code);
}

}  // namespace cairn
