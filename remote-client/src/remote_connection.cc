#include "cairn/remote_client/remote_connection.h"

#include <openssl/rand.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"

namespace cairn::remote_client {

namespace {

namespace reapi = build::bazel::remote::execution::v2;

StatusOr<std::string> ReadPem(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return NotFound(what + " " + path + " cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string RandomUuid() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Uniqueness, not secrecy, is what matters here.
    std::random_device device;
    for (unsigned char& byte : bytes) byte = static_cast<unsigned char>(device());
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

namespace {

struct Target {
  std::string address;  // what grpc::CreateCustomChannel takes
  bool tls = false;
};

StatusOr<Target> ParseUrl(const std::string& url) {
  struct Scheme {
    const char* prefix;
    bool tls;
  };
  for (Scheme scheme : {Scheme{"grpc://", false}, Scheme{"http://", false},
                        Scheme{"grpcs://", true}, Scheme{"https://", true}}) {
    std::string prefix = scheme.prefix;
    if (url.compare(0, prefix.size(), prefix) != 0) continue;
    std::string address = url.substr(prefix.size());
    while (!address.empty() && address.back() == '/') address.pop_back();
    if (address.empty() || address.find('/') != std::string::npos) {
      return InvalidArgument("remote URL " + url + " is not " + prefix + "HOST:PORT");
    }
    return Target{address, scheme.tls};
  }
  if (url.compare(0, 5, "unix:") == 0 && url.size() > 5) return Target{url, false};
  return InvalidArgument("remote URL " + url +
                         " is not grpc://, grpcs://, http://, https:// or unix:PATH");
}

}  // namespace

const std::string& RemoteConnection::InvocationId() {
  static const std::string kInvocationId = RandomUuid();
  return kInvocationId;
}

RemoteConnection::RemoteConnection(RemoteConnectionOptions options, ToolIdentity tool,
                                   std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      tool_(std::move(tool)),
      channel_(std::move(channel)),
      retrier_(RetryPolicy{options_.retry_limit, std::chrono::milliseconds(options_.retry_delay_ms),
                           std::chrono::milliseconds(options_.request_timeout_s * 1000)},
               options_.url) {
  if (!options_.access_token.empty()) {
    token_ = std::make_unique<AccessTokenFile>(options_.access_token);
  }
}

StatusOr<std::shared_ptr<RemoteConnection>> RemoteConnection::Create(
    const RemoteConnectionOptions& options, const ToolIdentity& tool) {
  CAIRN_ASSIGN_OR_RETURN(Target target, ParseUrl(options.url));
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (target.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.server_cert.empty()) {
      CAIRN_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem("server-cert", options.server_cert));
    }
    if (options.client_cert.empty() != options.client_key.empty()) {
      return InvalidArgument("remote " + options.url +
                             ": client-cert and client-key must be given together");
    }
    if (!options.client_cert.empty()) {
      CAIRN_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem("client-cert", options.client_cert));
      CAIRN_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem("client-key", options.client_key));
    }
    credentials = grpc::SslCredentials(ssl);
  } else {
    // Certificates on a plain URL would be silently unused: most likely
    // grpcs:// was meant.
    for (const auto& [key, value] : {std::pair{"server-cert", &options.server_cert},
                                     std::pair{"client-cert", &options.client_cert},
                                     std::pair{"client-key", &options.client_key}}) {
      if (!value->empty()) {
        return InvalidArgument("remote " + options.url + ": " + key +
                               " is given but the URL is not TLS (grpcs:// or https://)");
      }
    }
    credentials = grpc::InsecureChannelCredentials();
  }

  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxMessageBytes);
  arguments.SetMaxSendMessageSize(kMaxMessageBytes);
  // gRPC waits up to its own reconnect backoff (1 s, growing to 2 min)
  // before it tries a failed server again; calls in between fail at once.
  // Tie it to our retry delay so our retries are what paces reconnecting.
  int reconnect_ms = static_cast<int>(std::max<int64_t>(options.retry_delay_ms, 10));
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, reconnect_ms);
  arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, reconnect_ms);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                   static_cast<int>(std::min<int64_t>(kMaxBackoff.count(), reconnect_ms * 32)));
  if (options.keepalive_time_s > 0) {
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_time_s * 1000));
    arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(target.address, credentials, arguments);
  return std::shared_ptr<RemoteConnection>(new RemoteConnection(options, tool, std::move(channel)));
}

namespace {
// The action the calls of this thread are for (ActionScope).
thread_local std::string current_action_id;
}  // namespace

ActionScope::ActionScope(std::string action_id)
    : previous_(std::exchange(current_action_id, std::move(action_id))) {}

ActionScope::~ActionScope() { current_action_id = std::move(previous_); }

StatusOr<std::unique_ptr<grpc::ClientContext>> RemoteConnection::NewContext(
    std::chrono::system_clock::time_point deadline, const std::string& action_id) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(deadline);
  if (token_ != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(std::string token, token_->Token());
    context->AddMetadata("authorization", "Bearer " + token);
  }
  reapi::RequestMetadata metadata;
  metadata.mutable_tool_details()->set_tool_name(tool_.name);
  metadata.mutable_tool_details()->set_tool_version(tool_.version);
  metadata.set_tool_invocation_id(InvocationId());
  const std::string& action = action_id.empty() ? current_action_id : action_id;
  if (!action.empty()) metadata.set_action_id(action);
  context->AddMetadata(kRequestMetadataKey, metadata.SerializeAsString());
  return context;
}

}  // namespace cairn::remote_client
