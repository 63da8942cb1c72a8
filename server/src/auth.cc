#include "auth.h"

#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "cairn/quote.h"
#include "cairn/runtime/config_node.h"
#include "cairn/runtime/config_schema.h"

namespace cairn::server {
namespace {

constexpr char kBearer[] = "Bearer ";

StatusOr<Permission> ParsePermission(const ConfigNode& node) {
  if (node.scalar() == "read") return Permission::kRead;
  if (node.scalar() == "write") return Permission::kWrite;
  if (node.scalar() == "execute") return Permission::kExecute;
  return ConfigError(node.location(), "unknown permission '" + node.scalar() +
                                          "' (expected read, write or execute)");
}

}  // namespace

const char* PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kRead:
      return "read";
    case Permission::kWrite:
      return "write";
    case Permission::kExecute:
      return "execute";
  }
  return "?";
}

StatusOr<std::map<std::string, TokenGrant>> ParseTokens(const std::string& text,
                                                        const std::string& file) {
  static const std::vector<ConfigKey> kSchema = {{"tokens",
                                                  ConfigType::kSectionList,
                                                  {{"token", ConfigType::kString, {}},
                                                   {"permissions", ConfigType::kStringList, {}},
                                                   {"instances", ConfigType::kStringList, {}}}}};
  CAIRN_ASSIGN_OR_RETURN(ConfigNode root, ConfigNode::Parse(text, file));
  CAIRN_RETURN_IF_ERROR(ValidateConfig(root, kSchema));
  std::map<std::string, TokenGrant> tokens;
  // An empty file is far more often an edit caught half-way than a wish to
  // lock everyone out; `tokens: []` says that on purpose.
  const ConfigNode* list = root.is_map() ? root.Get("tokens") : nullptr;
  if (list == nullptr) {
    return ConfigError(root.location().file.empty() ? SourceLocation{file, 0, 0} : root.location(),
                       "no 'tokens' list (write 'tokens: []' to refuse everyone)");
  }
  for (const ConfigNode& item : list->items()) {
    const ConfigNode* token = item.Get("token");
    if (token == nullptr || token->scalar().empty()) {
      return ConfigError(item.location(), "every entry of 'tokens' needs a non-empty 'token'");
    }
    for (char c : token->scalar()) {
      if (c <= ' ' || c == 0x7f) {
        return ConfigError(token->location(),
                           "a token must be printable characters without spaces");
      }
    }
    TokenGrant grant;
    if (const ConfigNode* permissions = item.Get("permissions")) {
      for (const ConfigNode& permission : permissions->items()) {
        CAIRN_ASSIGN_OR_RETURN(Permission parsed, ParsePermission(permission));
        grant.permissions.insert(parsed);
      }
    }
    if (const ConfigNode* instances = item.Get("instances")) {
      grant.all_instances = false;
      for (const ConfigNode& instance : instances->items()) {
        grant.instances.insert(instance.scalar());
      }
    }
    if (!tokens.emplace(token->scalar(), std::move(grant)).second) {
      return ConfigError(token->location(), "this token is listed twice");
    }
  }
  return tokens;
}

Authenticator::Authenticator(std::string tokens_file) : file_(std::move(tokens_file)) {}

Status Authenticator::Load() {
  if (file_.empty()) return Status::Ok();
  struct stat info {};
  if (::stat(file_.c_str(), &info) != 0) return ErrnoStatus("reading tokens", file_, errno);
  std::ifstream in(file_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return Unavailable("cannot read the tokens file " + file_);
  CAIRN_ASSIGN_OR_RETURN(auto tokens, ParseTokens(text.str(), file_));
  std::lock_guard<std::mutex> lock(mutex_);
  tokens_ = std::move(tokens);
  stamp_ = {info.st_ino, static_cast<int64_t>(info.st_size),
            static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec};
  next_check_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  return Status::Ok();
}

void Authenticator::MaybeReload() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (now < next_check_) return;
    next_check_ = now + std::chrono::seconds(1);
    struct stat info {};
    if (::stat(file_.c_str(), &info) != 0) {
      spdlog::warn("tokens file {} is gone; keeping the tokens read before", file_);
      return;
    }
    FileStamp stamp{info.st_ino, static_cast<int64_t>(info.st_size),
                    static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec};
    if (stamp == stamp_) return;
    stamp_ = stamp;  // a bad edit is reported once, not on every call
  }
  Status loaded = Load();
  if (loaded.ok()) {
    spdlog::info("tokens file {} re-read", file_);
  } else {
    spdlog::error("tokens file {} is invalid, keeping the tokens read before: {}", file_,
                  loaded.message());
  }
}

StatusOr<TokenGrant> Authenticator::Grant(const std::string& authorization) {
  if (authorization.empty()) {
    return Status(Code::kUnauthenticated,
                  "this server needs a bearer token ('authorization: Bearer TOKEN' metadata)");
  }
  // The scheme is case-insensitive (RFC 7235); the token is not.
  if (authorization.size() < sizeof(kBearer) - 1 ||
      ::strncasecmp(authorization.c_str(), kBearer, sizeof(kBearer) - 1) != 0) {
    return Status(Code::kUnauthenticated, "the 'authorization' metadata must be 'Bearer TOKEN'");
  }
  std::string token = authorization.substr(sizeof(kBearer) - 1);
  MaybeReload();
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = tokens_.find(token);
  if (found == tokens_.end()) return Status(Code::kUnauthenticated, "unknown bearer token");
  return found->second;  // a copy: a reload may replace the map meanwhile
}

Status Authenticator::Check(const std::string& authorization, const std::string& instance,
                            Permission permission) {
  if (!enabled()) return Status::Ok();
  CAIRN_ASSIGN_OR_RETURN(TokenGrant grant, Grant(authorization));
  if (grant.permissions.count(permission) == 0) {
    return PermissionDenied(std::string("this token lacks the '") + PermissionName(permission) +
                            "' permission");
  }
  if (!grant.all_instances && grant.instances.count(instance) == 0) {
    return PermissionDenied("this token is not valid for instance " + QuoteC(instance));
  }
  return Status::Ok();
}

Status Authenticator::CheckAny(const std::string& authorization) {
  if (!enabled()) return Status::Ok();
  return Grant(authorization).status();
}

}  // namespace cairn::server
