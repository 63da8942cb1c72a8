// cairn/sandbox.h — where an Action runs, as a C++ interface.
//
// A sandbox has one job: execute a REAPI Action whose Command and input root
// are in CAS and return an ActionResult whose outputs are in CAS (see
// buildbox's Runner and Buildbarn's runner.proto). SandboxClient
// (cairn/sandbox_client.h) drives a sandbox plugin through the C ABI;
// plugins written in C++ implement this interface and export it with
// cairn/plugin_support.h.
#ifndef CAIRN_SANDBOX_H
#define CAIRN_SANDBOX_H

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "cairn/status.h"

namespace cairn {

using Action = build::bazel::remote::execution::v2::Action;
using Command = build::bazel::remote::execution::v2::Command;
using Platform = build::bazel::remote::execution::v2::Platform;

struct SandboxCapabilities {
  Platform platform;   // the properties honoured, e.g. OSFamily=linux, ISA=x86-64
  uint32_t flags = 0;  // CAIRN_SANDBOX_*
};

// Where an execution has got to (CAIRN_EXECUTE_STAGE_*).
enum class ExecuteStage : int32_t {
  kCacheCheck = 1,
  kUploading = 2,
  kQueued = 3,
  kExecuting = 4,
  kFetching = 5,
  kCompleted = 6,
};
std::string ExecuteStageName(ExecuteStage stage);  // "queued", "executing", ...

struct ExecuteProgress {
  ExecuteStage stage = ExecuteStage::kExecuting;
  std::string operation_name;  // may be empty
  std::string message;         // may be empty
};

struct ExecuteOptions {
  bool inline_stdout = false;
  bool inline_stderr = false;
  bool skip_cache_lookup = false;
  int live_output_fd = -1;  // also copy stdout/stderr here as produced
  // ABI 1.1. Polled with the host's cancellation: true once this one
  // execution should stop. May be empty.
  std::function<bool()> is_cancelled;
  // ABI 1.1. Called on the executing thread as stages change. May be empty.
  std::function<void(const ExecuteProgress&)> progress;
};

// The status says whether the action completed (OK even for a non-zero exit
// code); `result` is set on OK and may hold a partial result on
// DEADLINE_EXCEEDED or CANCELLED.
struct ExecuteOutcome {
  Status status;
  std::optional<build::bazel::remote::execution::v2::ActionResult> result;
  // ABI 1.1 (cairn_execute_report).
  bool cached_result = false;  // served from a cache; nothing ran
  std::string operation_name;  // the last operation name, when there was one
  std::string message;         // e.g. ExecuteResponse.message
};

struct InteractiveOptions {
  int stdin_fd = 0;
  int stdout_fd = 1;
  int stderr_fd = 2;
};

class Sandbox {
 public:
  virtual ~Sandbox() = default;
  virtual StatusOr<SandboxCapabilities> Capabilities() = 0;
  virtual ExecuteOutcome Execute(const Action& action, const ExecuteOptions& options) = 0;
  // Returns the command's exit code. UNIMPLEMENTED where not supported.
  virtual StatusOr<int> RunInteractive(const Action& action, const InteractiveOptions& options) = 0;
};

}  // namespace cairn

#endif  // CAIRN_SANDBOX_H
