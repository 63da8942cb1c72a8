#include "cairn/sandbox_common/action_spec.h"

#include <algorithm>

#include "cairn/action_validator.h"

namespace cairn {
namespace {

// The store as the validator sees it when the input root is staged on
// disk: every file is present (the staged root holds it), everything else
// is the store's answer.
class StagedFilesStorage : public Storage {
 public:
  explicit StagedFilesStorage(Storage& store) : store_(store) {}

  StatusOr<std::vector<Digest>> FindMissing(const std::vector<Digest>&) override {
    return std::vector<Digest>();
  }
  StatusOr<bool> Contains(const Digest& digest) override { return store_.Contains(digest); }
  StatusOr<std::string> ReadBlob(const Digest& digest, uint64_t offset, uint64_t limit) override {
    return store_.ReadBlob(digest, offset, limit);
  }
  StatusOr<Digest> WriteBlob(std::string_view data,
                             const std::optional<Digest>& expected) override {
    return store_.WriteBlob(data, expected);
  }
  Status ReadBlobToFd(const Digest& digest, int fd) override {
    return store_.ReadBlobToFd(digest, fd);
  }
  StatusOr<Digest> WriteBlobFromFd(int fd, const std::optional<Digest>& expected) override {
    return store_.WriteBlobFromFd(fd, expected);
  }
  Status ReadBlobToPath(const Digest& digest, const std::string& path, bool executable) override {
    return store_.ReadBlobToPath(digest, path, executable);
  }
  StatusOr<Digest> WriteBlobFromPath(const std::string& path, bool move_source,
                                     const std::optional<Digest>& expected) override {
    return store_.WriteBlobFromPath(path, move_source, expected);
  }
  Status StageTree(const Digest& root, const std::string& path,
                   const StageOptions& options) override {
    return store_.StageTree(root, path, options);
  }
  StatusOr<CapturedTree> CaptureTree(const std::string& path,
                                     const CaptureOptions& options) override {
    return store_.CaptureTree(path, options);
  }
  StatusOr<ActionResult> GetActionResult(const std::string& instance,
                                         const Digest& action) override {
    return store_.GetActionResult(instance, action);
  }
  Status UpdateActionResult(const std::string& instance, const Digest& action,
                            const ActionResult& result) override {
    return store_.UpdateActionResult(instance, action, result);
  }
  StatusOr<Digest> GetReference(const std::string& name) override {
    return store_.GetReference(name);
  }
  Status SetReference(const std::string& name, const Digest& digest) override {
    return store_.SetReference(name, digest);
  }
  StatusOr<VerifyReport> Verify(bool repair) override { return store_.Verify(repair); }
  StatusOr<uint64_t> CollectGarbage(uint64_t target_bytes) override {
    return store_.CollectGarbage(target_bytes);
  }
  StatusOr<StorageStats> Stats() override { return store_.Stats(); }

 private:
  Storage& store_;
};

// Whether the Action's root is staged on disk, judged from its Command's
// working directory as it stands (the lookup only; validation follows).
bool RootStaged(Storage& cas, const Action& action,
                const std::function<bool(const Action&, const Command&)>& input_root_staged) {
  if (!input_root_staged) return false;
  StatusOr<Command> command = cas.ReadMessage<Command>(action.command_digest());
  return command.ok() && input_root_staged(action, *command);
}

}  // namespace

std::optional<std::string> ActionSpec::Env(const std::string& name) const {
  for (const auto& [key, value] : environment) {
    if (key == name) return value;
  }
  return std::nullopt;
}

StatusOr<ActionSpec> LoadActionSpec(
    Storage& cas, const Action& action, const SandboxCapabilities& capabilities,
    const std::string& sandbox,
    const std::function<bool(const Action& action, const Command& command)>& input_root_staged) {
  // The input root is the sandbox's "/", so an absolute symlink in it stays
  // inside the sandbox. A sandbox keys nothing by the Action's digest, so
  // lists in another order than the REAPI's are accepted (and sorted here).
  ActionValidatorOptions options;
  options.allow_absolute_symlinks = true;
  options.order = OrderRule::kAcceptUnsorted;
  StagedFilesStorage staged_files(cas);
  Storage& store = RootStaged(cas, action, input_root_staged) ? staged_files : cas;
  CAIRN_ASSIGN_OR_RETURN(ValidatedAction valid, ActionValidator(store, options).Validate(action));

  ActionSpec spec;
  spec.input_root = action.input_root_digest();
  const Command& command = valid.command;
  spec.arguments.assign(command.arguments().begin(), command.arguments().end());
  for (const auto& variable : command.environment_variables()) {
    spec.environment.emplace_back(variable.name(), variable.value());
  }
  std::sort(spec.environment.begin(), spec.environment.end());
  spec.working_directory = command.working_directory();
  spec.output_paths = std::move(valid.output_paths);
  if (action.has_timeout()) {
    auto total = std::chrono::seconds(action.timeout().seconds()) +
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::nanoseconds(action.timeout().nanos()));
    if (total.count() > 0) spec.timeout = total;
  }
  CAIRN_ASSIGN_OR_RETURN(spec.platform, CheckPlatform(valid.platform, capabilities, sandbox));
  return spec;
}

}  // namespace cairn
