// A sandbox plugin written with Cairn's C++ helpers (cairn/plugin_support.h)
// that shows a test what crossed the ABI. Built several times under
// different names (CAIRN_ECHO_NAME); CAIRN_ECHO_REMOTE makes it claim to
// execute remotely. What it does depends on the Command's argv[0], read
// from the host's CAS:
//   options      succeeds with stdout_raw = the options it was created with
//   missing      fails FAILED_PRECONDITION with a PreconditionFailure naming
//                the Action's input root and Command as missing blobs
//   progress     reports the stages cache-check, queued, executing, then a
//                cache hit with an operation name and a message
//   wait-cancel  polls per-call cancellation (at most 10 s), then CANCELLED
#include <chrono>
#include <thread>

#include "cairn/plugin_support.h"
#include "cairn/status_details.h"

namespace {

class EchoSandbox : public cairn::Sandbox {
 public:
  static cairn::StatusOr<std::unique_ptr<cairn::Sandbox>> Create(const cairn::HostServices& host,
                                                                 std::string_view options) {
    return std::unique_ptr<cairn::Sandbox>(new EchoSandbox(host, std::string(options)));
  }

  cairn::StatusOr<cairn::SandboxCapabilities> Capabilities() override {
    cairn::SandboxCapabilities capabilities;
#ifdef CAIRN_ECHO_REMOTE
    capabilities.flags = CAIRN_SANDBOX_REMOTE;
#endif
    return capabilities;
  }

  cairn::ExecuteOutcome Execute(const cairn::Action& action,
                                const cairn::ExecuteOptions& options) override {
    cairn::ExecuteOutcome outcome;
    if (host_.cas() == nullptr) {
      outcome.status = cairn::FailedPrecondition("echo: no host CAS");
      return outcome;
    }
    cairn::StatusOr<cairn::Command> command =
        host_.cas()->ReadMessage<cairn::Command>(action.command_digest());
    if (!command.ok() || command->arguments_size() == 0) {
      outcome.status = cairn::InvalidArgument("echo: no Command in the host CAS");
      return outcome;
    }
    const std::string& verb = command->arguments(0);
    if (verb == "options") {
      outcome.result.emplace().set_stdout_raw(options_);
    } else if (verb == "missing") {
      outcome.status = cairn::MissingBlobsError(
          "echo: inputs are missing", {action.input_root_digest(), action.command_digest()});
    } else if (verb == "progress") {
      for (cairn::ExecuteStage stage :
           {cairn::ExecuteStage::kCacheCheck, cairn::ExecuteStage::kQueued,
            cairn::ExecuteStage::kExecuting}) {
        if (options.progress) options.progress({stage, "operations/echo-1", "stage"});
      }
      outcome.result.emplace();
      outcome.cached_result = true;
      outcome.operation_name = "operations/echo-1";
      outcome.message = "served from the echo cache";
    } else if (verb == "wait-cancel") {
      auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!(options.is_cancelled && options.is_cancelled()) &&
             std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      outcome.status = cairn::Cancelled("echo: cancelled by the caller");
    } else {
      outcome.status = cairn::InvalidArgument("echo: unknown verb " + verb);
    }
    return outcome;
  }

  cairn::StatusOr<int> RunInteractive(const cairn::Action&,
                                      const cairn::InteractiveOptions&) override {
    return cairn::Unimplemented("echo: no interactive runs");
  }

 private:
  EchoSandbox(cairn::HostServices host, std::string options)
      : host_(std::move(host)), options_(std::move(options)) {}
  cairn::HostServices host_;
  std::string options_;
};

}  // namespace

CAIRN_DEFINE_SANDBOX_PLUGIN(EchoSandbox, CAIRN_ECHO_NAME, "0.1.0", "shows what crossed the ABI")
