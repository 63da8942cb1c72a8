#include "cairn/action_validator.h"

#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "cairn/relative_path.h"
#include "cairn/status_details.h"

namespace cairn {
namespace {

constexpr char kInputRootField[] = "input_root";
// How many missing digests the message names; the PreconditionFailure
// lists them all.
constexpr size_t kMissingNamedInMessage = 8;

// The message stored under `digest`, nullopt when the store does not have
// it, or the store's error. A blob that does not parse is the client's
// fault (the store checked its hash), so it is reported on `field`.
template <typename Message>
StatusOr<std::optional<Message>> ReadIfPresent(Storage& storage, const Digest& digest,
                                               const std::string& field) {
  StatusOr<std::string> bytes = storage.ReadBlob(digest);
  if (!bytes.ok()) {
    if (bytes.status().code() == Code::kNotFound) return std::optional<Message>();
    return bytes.status().WithContext("reading " + field + " (" + DigestToString(digest) + ")");
  }
  Message message;
  if (!message.ParseFromString(*bytes)) {
    return BadRequestError(
        field, "blob " + DigestToString(digest) + " is not a valid " + message.GetTypeName());
  }
  return std::optional<Message>(std::move(message));
}

std::string MissingMessage(const std::vector<Digest>& missing, bool command_missing) {
  std::string message = std::to_string(missing.size()) + " blob(s) the Action needs " +
                        (command_missing ? "(its Command among them) " : "") +
                        "are not in the CAS: ";
  for (size_t i = 0; i < missing.size() && i < kMissingNamedInMessage; ++i) {
    message += (i == 0 ? "" : ", ") + DigestToString(missing[i]);
  }
  if (missing.size() > kMissingNamedInMessage) {
    message += ", and " + std::to_string(missing.size() - kMissingNamedInMessage) + " more";
  }
  return message;
}

}  // namespace

ActionValidator::ActionValidator(Storage& storage, ActionValidatorOptions options)
    : storage_(storage), options_(options) {}

StatusOr<ValidatedAction> ActionValidator::Validate(const Action& action) const {
  CAIRN_RETURN_IF_ERROR(ValidateActionMessage(action, options_.order));
  std::vector<Digest> missing;
  ValidatedAction valid;
  CAIRN_ASSIGN_OR_RETURN(
      std::optional<Command> command,
      ReadIfPresent<Command>(storage_, action.command_digest(), kFieldCommandDigest));
  if (command) {
    // The Command's own rules come before a walk of the tree, which costs more.
    CAIRN_ASSIGN_OR_RETURN(valid.output_paths, ValidateCommandMessage(*command, options_.order));
    CAIRN_ASSIGN_OR_RETURN(valid.platform, EffectivePlatform(action, *command));
    valid.command = std::move(*command);
  } else {
    missing.push_back(action.command_digest());
  }
  // Walked even when the Command is missing: the client learns of every
  // missing blob at once.
  if (!options_.input_root_known_valid) {
    CAIRN_RETURN_IF_ERROR(ValidateTree(action.input_root_digest(), kInputRootField, &missing));
  }
  if (!missing.empty()) return MissingBlobsError(MissingMessage(missing, !command), missing);
  return valid;
}

Status ActionValidator::ValidateTree(const Digest& root, const std::string& field,
                                     std::vector<Digest>* missing) const {
  DirectoryRules rules;
  rules.allow_absolute_symlinks = options_.allow_absolute_symlinks;
  rules.field_prefix = field;

  struct Pending {
    std::string path;
    Digest digest;
    size_t depth;
  };
  // A Directory shared by several places is read and checked once, but
  // walked again at each new depth so that the depth limit holds for every
  // path (and a hostile DAG costs at most kMaxTreeDepth walks per digest).
  std::unordered_map<Digest, std::optional<Directory>, DigestHash, DigestEqual> directories;
  std::set<std::pair<Digest, size_t>> walked;
  std::unordered_set<Digest, DigestHash, DigestEqual> seen_files;
  std::vector<Digest> files;
  std::vector<Pending> pending = {{"", root, 0}};
  // Breadth-first, so missing blobs are listed from the root down.
  for (size_t next = 0; next < pending.size(); ++next) {
    const Pending item = pending[next];
    CAIRN_RETURN_IF_ERROR(ValidateTreeDepth(item.path, rules));
    if (!walked.emplace(item.digest, item.depth).second) continue;
    auto found = directories.find(item.digest);
    if (found == directories.end()) {
      CAIRN_ASSIGN_OR_RETURN(
          std::optional<Directory> directory,
          ReadIfPresent<Directory>(storage_, item.digest, TreeField(item.path, rules)));
      if (directory) {
        CAIRN_RETURN_IF_ERROR(ValidateDirectory(*directory, item.path, rules));
      } else {
        missing->push_back(item.digest);
      }
      found = directories.emplace(item.digest, std::move(directory)).first;
    }
    if (!found->second) continue;
    // Elements of an unordered_map keep their address when it grows.
    const Directory& directory = *found->second;
    for (const FileNode& file : directory.files()) {
      if (seen_files.insert(file.digest()).second) files.push_back(file.digest());
    }
    for (const DirectoryNode& child : directory.directories()) {
      pending.push_back({JoinPath(item.path, child.name()), child.digest(), item.depth + 1});
    }
  }
  if (files.empty()) return Status::Ok();
  StatusOr<std::vector<Digest>> missing_files = storage_.FindMissing(files);
  if (!missing_files.ok()) {
    return missing_files.status().WithContext("looking for the files of " + field);
  }
  missing->insert(missing->end(), missing_files->begin(), missing_files->end());
  return Status::Ok();
}

}  // namespace cairn
