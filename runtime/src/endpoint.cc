#include "cairn/runtime/endpoint.h"

#include "cairn/runtime/config_schema.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

namespace cairn {
namespace {

struct BioCloser {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Closer {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct KeyCloser {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioCloser>;
using Certificate = std::unique_ptr<X509, X509Closer>;
using PrivateKey = std::unique_ptr<EVP_PKEY, KeyCloser>;

const char* const kSchemes[] = {"grpc://", "grpcs://", "http://", "https://", "unix:"};

std::string Text(const ConfigNode& node, const char* key) {
  const ConfigNode* value = node.Get(key);
  return value != nullptr ? value->scalar() : std::string();
}

SourceLocation WhereOf(const ConfigNode& node, const char* key) {
  const ConfigNode* value = node.Get(key);
  return value != nullptr ? value->location() : node.location();
}

Status CheckUrl(const std::string& url, const SourceLocation& where) {
  if (url.empty()) return ConfigError(where, "'url' is required for a remote endpoint");
  for (const char* scheme : kSchemes) {
    std::string prefix(scheme);
    if (url.compare(0, prefix.size(), prefix) != 0) continue;
    if (url.size() == prefix.size()) {
      return ConfigError(
          where, "'url' " + url + " names no " + (prefix == "unix:" ? "socket path" : "host"));
    }
    return Status::Ok();
  }
  return ConfigError(
      where, "'url' " + url + " must start with grpc://, grpcs://, http://, https:// or unix:");
}

// Opens `path` for reading, or explains why it cannot be read.
StatusOr<Bio> OpenReadable(const std::string& path, const char* key, const SourceLocation& where) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) {
    int error = errno;
    return ConfigError(
        where, std::string("'") + key + "' " + path + " cannot be read: " + std::strerror(error));
  }
  Bio bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) return ConfigError(where, std::string("'") + key + "' " + path + " cannot be opened");
  return bio;
}

StatusOr<Certificate> ReadCertificate(const std::string& path, const char* key,
                                      const SourceLocation& where) {
  CAIRN_ASSIGN_OR_RETURN(Bio bio, OpenReadable(path, key, where));
  Certificate certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!certificate) {
    return ConfigError(where,
                       std::string("'") + key + "' " + path +
                           " is not a PEM certificate (expected -----BEGIN CERTIFICATE-----)");
  }
  return certificate;
}

StatusOr<PrivateKey> ReadPrivateKey(const std::string& path, const SourceLocation& where) {
  CAIRN_ASSIGN_OR_RETURN(Bio bio, OpenReadable(path, "client-key", where));
  PrivateKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!key) {
    return ConfigError(where, "'client-key' " + path + " is not an unencrypted PEM private key");
  }
  return key;
}

Status CheckCredentials(const ConfigNode& node, const RemoteEndpoint& endpoint) {
  bool tls = endpoint.url.rfind("grpcs://", 0) == 0 || endpoint.url.rfind("https://", 0) == 0;
  for (const auto& [key, value] : {std::pair{"server-cert", &endpoint.server_cert},
                                   std::pair{"client-cert", &endpoint.client_cert},
                                   std::pair{"client-key", &endpoint.client_key}}) {
    if (!tls && !value->empty()) {
      return ConfigError(WhereOf(node, key), std::string("'") + key + "' is given but 'url' " +
                                                 endpoint.url +
                                                 " is not TLS (grpcs:// or https:// is)");
    }
  }
  if (!endpoint.server_cert.empty()) {
    CAIRN_RETURN_IF_ERROR(
        ReadCertificate(endpoint.server_cert, "server-cert", WhereOf(node, "server-cert"))
            .status());
  }
  if (endpoint.client_cert.empty() != endpoint.client_key.empty()) {
    const char* given = endpoint.client_cert.empty() ? "client-key" : "client-cert";
    return ConfigError(WhereOf(node, given),
                       "'client-cert' and 'client-key' must be given together (mutual TLS)");
  }
  if (!endpoint.client_cert.empty()) {
    CAIRN_ASSIGN_OR_RETURN(
        Certificate certificate,
        ReadCertificate(endpoint.client_cert, "client-cert", WhereOf(node, "client-cert")));
    CAIRN_ASSIGN_OR_RETURN(PrivateKey key,
                           ReadPrivateKey(endpoint.client_key, WhereOf(node, "client-key")));
    if (X509_check_private_key(certificate.get(), key.get()) != 1) {
      ERR_clear_error();
      return ConfigError(WhereOf(node, "client-key"), "'client-key' " + endpoint.client_key +
                                                          " does not match 'client-cert' " +
                                                          endpoint.client_cert);
    }
  }
  if (!endpoint.access_token.empty()) {
    CAIRN_RETURN_IF_ERROR(
        OpenReadable(endpoint.access_token, "access-token", WhereOf(node, "access-token"))
            .status());
  }
  return Status::Ok();
}

StatusOr<int64_t> ReadNumber(const ConfigNode& section, const char* key, int64_t fallback,
                             int64_t max, int64_t min = 0) {
  const ConfigNode* value = section.Get(key);
  if (value == nullptr) return fallback;
  errno = 0;
  char* end = nullptr;
  long long number = std::strtoll(value->scalar().c_str(), &end, 10);
  if (value->scalar().empty() || *end != '\0' || errno == ERANGE || number < min || number > max) {
    return ConfigError(value->location(), std::string("'connection-config.") + key +
                                              "' must be a whole number from " +
                                              std::to_string(min) + " to " + std::to_string(max) +
                                              ", got '" + value->scalar() + "'");
  }
  return static_cast<int64_t>(number);
}

StatusOr<ConnectionConfig> ReadConnection(const ConfigNode& node) {
  ConnectionConfig connection;
  const ConfigNode* section = node.Get("connection-config");
  if (section == nullptr || !section->is_map()) return connection;
  CAIRN_ASSIGN_OR_RETURN(connection.retry_limit,
                         ReadNumber(*section, "retry-limit", connection.retry_limit, 100));
  CAIRN_ASSIGN_OR_RETURN(connection.retry_delay_ms,
                         ReadNumber(*section, "retry-delay", connection.retry_delay_ms, 3600000));
  CAIRN_ASSIGN_OR_RETURN(
      connection.request_timeout_s,
      ReadNumber(*section, "request-timeout", connection.request_timeout_s, 86400, 1));
  CAIRN_ASSIGN_OR_RETURN(
      connection.keepalive_time_s,
      ReadNumber(*section, "keepalive-time", connection.keepalive_time_s, 86400));
  return connection;
}

void EmitPath(std::string* yaml, const char* key, const std::string& value) {
  if (value.empty()) return;
  *yaml += std::string(key) + ": " + QuoteYaml(value) + "\n";
}

}  // namespace

std::string CacheTypeName(CacheType type) {
  switch (type) {
    case CacheType::kIndex:
      return "index";
    case CacheType::kStorage:
      return "storage";
    case CacheType::kAll:
      break;
  }
  return "all";
}

std::string RemoteEndpoint::ToYaml() const {
  std::string yaml = "url: " + QuoteYaml(url) + "\n";
  EmitPath(&yaml, "instance-name", instance_name);
  EmitPath(&yaml, "server-cert", server_cert);
  EmitPath(&yaml, "client-cert", client_cert);
  EmitPath(&yaml, "client-key", client_key);
  EmitPath(&yaml, "access-token", access_token);
  yaml += "connection-config:\n";
  yaml += "  retry-limit: " + std::to_string(connection.retry_limit) + "\n";
  yaml += "  retry-delay: " + std::to_string(connection.retry_delay_ms) + "\n";
  yaml += "  request-timeout: " + std::to_string(connection.request_timeout_s) + "\n";
  yaml += "  keepalive-time: " + std::to_string(connection.keepalive_time_s) + "\n";
  for (const auto& [key, service] :
       {std::pair{"storage-service", storage_service.get()},
        std::pair{"action-cache-service", action_cache_service.get()}}) {
    if (service == nullptr) continue;
    yaml += std::string(key) + ":\n";
    std::string nested = service->ToYaml();
    for (size_t start = 0; start < nested.size();) {
      size_t end = nested.find('\n', start);
      yaml += "  " + nested.substr(start, end - start + 1);
      start = end + 1;
    }
  }
  return yaml;
}

StatusOr<RemoteEndpoint> ReadEndpoint(const ConfigNode& node) {
  RemoteEndpoint endpoint;
  endpoint.location = node.location();
  endpoint.url = Text(node, "url");
  CAIRN_RETURN_IF_ERROR(CheckUrl(endpoint.url, WhereOf(node, "url")));
  endpoint.instance_name = Text(node, "instance-name");
  // Credentials beside `url`, or in BuildStream's `auth:` section.
  const ConfigNode* auth = node.Get("auth");
  const ConfigNode& credentials = auth != nullptr && auth->is_map() ? *auth : node;
  if (&credentials != &node) {
    for (const char* key : {"server-cert", "client-cert", "client-key", "access-token"}) {
      if (node.Get(key) != nullptr) {
        return ConfigError(WhereOf(node, key), std::string("'") + key +
                                                   "' is given beside 'url' and the endpoint "
                                                   "has an 'auth' section: give credentials in "
                                                   "one place");
      }
    }
  }
  endpoint.server_cert =
      ResolveConfigPath(Text(credentials, "server-cert"), WhereOf(credentials, "server-cert"));
  endpoint.client_cert =
      ResolveConfigPath(Text(credentials, "client-cert"), WhereOf(credentials, "client-cert"));
  endpoint.client_key =
      ResolveConfigPath(Text(credentials, "client-key"), WhereOf(credentials, "client-key"));
  endpoint.access_token =
      ResolveConfigPath(Text(credentials, "access-token"), WhereOf(credentials, "access-token"));
  endpoint.push = Text(node, "push") == "true";
  if (const ConfigNode* type = node.Get("type"); type != nullptr) {
    const std::string& name = type->scalar();
    if (name == "index") {
      endpoint.type = CacheType::kIndex;
    } else if (name == "storage") {
      endpoint.type = CacheType::kStorage;
    } else if (name != "all") {
      return ConfigError(type->location(),
                         "'type' must be index, storage or all, got '" + name + "'");
    }
  }
  CAIRN_RETURN_IF_ERROR(CheckCredentials(credentials, endpoint));
  CAIRN_ASSIGN_OR_RETURN(endpoint.connection, ReadConnection(node));
  for (const auto& [key, slot] :
       {std::pair{"storage-service", &endpoint.storage_service},
        std::pair{"action-cache-service", &endpoint.action_cache_service}}) {
    const ConfigNode* service = node.Get(key);
    if (service == nullptr || !service->is_map()) continue;
    CAIRN_ASSIGN_OR_RETURN(RemoteEndpoint read, ReadEndpoint(*service));
    *slot = std::make_shared<const RemoteEndpoint>(std::move(read));
  }
  return endpoint;
}

StatusOr<std::vector<RemoteEndpoint>> ReadArtifactCaches(const ConfigNode& node) {
  std::vector<RemoteEndpoint> caches;
  if (node.is_null()) return caches;
  std::vector<ConfigNode> entries;
  if (node.is_map()) {
    entries.push_back(node);
  } else if (node.is_sequence()) {
    entries = node.items();
  } else {
    return ConfigError(node.location(), "'artifacts' must be a mapping or a list of mappings");
  }
  for (const ConfigNode& entry : entries) {
    CAIRN_RETURN_IF_ERROR(ValidateConfig(entry, ArtifactCacheKeys()));
    CAIRN_ASSIGN_OR_RETURN(RemoteEndpoint cache, ReadEndpoint(entry));
    caches.push_back(std::move(cache));
  }
  return caches;
}

std::vector<RemoteEndpoint> MergeArtifactCaches(const std::vector<RemoteEndpoint>& user,
                                                const std::vector<RemoteEndpoint>& project) {
  std::vector<RemoteEndpoint> merged;
  for (const auto* list : {&user, &project}) {
    for (const RemoteEndpoint& cache : *list) {
      bool seen = false;
      for (const RemoteEndpoint& kept : merged) {
        seen = seen || (kept.url == cache.url && kept.instance_name == cache.instance_name &&
                        kept.type == cache.type);
      }
      if (!seen) merged.push_back(cache);
    }
  }
  return merged;
}

}  // namespace cairn
