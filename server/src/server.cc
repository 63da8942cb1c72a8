#include "cairn/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>

#include "cairn/runtime/runtime.h"
#include "server_state.h"
#include "services.h"

namespace cairn::server {

struct Server::Impl {
  std::unique_ptr<ServerState> state;
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::vector<Drainable*> drainable;
  std::unique_ptr<grpc::Server> grpc_server;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  std::vector<std::string> urls;
  int port = 0;

  std::mutex mutex;
  std::condition_variable stopped_changed;
  bool shutting_down = false;
  bool stopped = false;
};

namespace {

StatusOr<std::string> ReadWholeFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(std::string(what) + " " + path + " cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

using Bio = std::unique_ptr<BIO, decltype(&::BIO_free)>;

Bio MemoryBio(const std::string& pem) {
  return Bio(::BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), ::BIO_free);
}

// The first certificate of `pem`; null when there is none.
std::unique_ptr<X509, decltype(&::X509_free)> FirstCertificate(const std::string& pem) {
  Bio bio = MemoryBio(pem);
  return {::PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), ::X509_free};
}

// gRPC only says that the server could not be built when a certificate or
// key is wrong; these checks say which file and what is wrong with it.
Status CheckTlsFiles(const TlsConfig& tls, const std::string& chain, const std::string& key,
                     const std::string& client_ca) {
  auto certificate = FirstCertificate(chain);
  if (certificate == nullptr) {
    return InvalidArgument("tls.certificate " + tls.certificate + " holds no PEM certificate");
  }
  Bio key_bio = MemoryBio(key);
  std::unique_ptr<EVP_PKEY, decltype(&::EVP_PKEY_free)> private_key(
      ::PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), ::EVP_PKEY_free);
  if (private_key == nullptr) {
    return InvalidArgument("tls.key " + tls.key + " holds no PEM private key (or one with a " +
                           "passphrase, which cairn-server cannot ask for)");
  }
  if (::X509_check_private_key(certificate.get(), private_key.get()) != 1) {
    return InvalidArgument("tls.key " + tls.key + " is not the key of tls.certificate " +
                           tls.certificate);
  }
  if (!tls.client_ca.empty() && FirstCertificate(client_ca) == nullptr) {
    return InvalidArgument("tls.client-ca " + tls.client_ca + " holds no PEM certificate");
  }
  ::ERR_clear_error();
  return Status::Ok();
}

StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(const TlsConfig& tls) {
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  CAIRN_ASSIGN_OR_RETURN(pair.cert_chain, ReadWholeFile(tls.certificate, "tls.certificate"));
  CAIRN_ASSIGN_OR_RETURN(pair.private_key, ReadWholeFile(tls.key, "tls.key"));
  options.pem_key_cert_pairs.push_back(pair);
  if (!tls.client_ca.empty()) {
    CAIRN_ASSIGN_OR_RETURN(options.pem_root_certs, ReadWholeFile(tls.client_ca, "tls.client-ca"));
  }
  CAIRN_RETURN_IF_ERROR(
      CheckTlsFiles(tls, pair.cert_chain, pair.private_key, options.pem_root_certs));
  if (!tls.client_ca.empty()) {
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

// The options of `choice` with `host-tools: true` set, replacing any value
// the options gave it (the plugin refuses the option when it has none).
StatusOr<PluginChoice> WithHostTools(PluginChoice choice) {
  std::string file =
      choice.options_location.file.empty() ? "<sandbox options>" : choice.options_location.file;
  CAIRN_ASSIGN_OR_RETURN(ConfigNode options, ConfigNode::Parse(choice.options_yaml, file));
  if (options.is_null()) options = ConfigNode::Map(choice.options_location);
  options.Set("host-tools", ConfigNode::Scalar("true", choice.options_location),
              choice.options_location);
  choice.options_yaml = options.ToYaml();
  return choice;
}

StatusOr<std::map<std::string, Instance>> OpenInstances(const ServerConfig& config,
                                                        Runtime& runtime) {
  std::map<std::string, Instance> instances;
  std::shared_ptr<Sandbox> shared;
  for (const InstanceConfig& wanted : config.instances) {
    Instance instance;
    instance.name = wanted.name;
    instance.host_tools = wanted.host_tools;
    const std::string where =
        " (instance " + QuoteYaml(wanted.name) + " at " + wanted.location.ToString() + ")";
    if (wanted.sandbox.plugin == kNoSandbox) {
      // This instance only caches, whatever the server's sandbox is.
      if (wanted.host_tools) {
        return FailedPrecondition("host-tools needs a sandbox plugin, not 'none'" + where);
      }
    } else if (!wanted.sandbox.plugin.empty() || wanted.host_tools) {
      PluginChoice choice = wanted.sandbox.plugin.empty() ? config.sandbox : wanted.sandbox;
      if (choice.plugin.empty()) {
        return FailedPrecondition("host-tools needs a sandbox plugin" + where);
      }
      if (wanted.host_tools) {
        CAIRN_ASSIGN_OR_RETURN(choice, WithHostTools(choice));
      }
      StatusOr<std::unique_ptr<Sandbox>> sandbox = runtime.CreateSandbox(choice);
      if (!sandbox.ok() && wanted.host_tools) {
        return sandbox.status().WithContext("opening the sandbox" + where +
                                            " with host-tools, an option of the bwrap plugin");
      }
      if (!sandbox.ok()) return sandbox.status().WithContext("opening the sandbox" + where);
      instance.sandbox = std::move(sandbox).value();
    } else if (!config.sandbox.plugin.empty()) {
      if (shared == nullptr) {
        StatusOr<std::shared_ptr<Sandbox>> sandbox = runtime.BuildSandbox();
        if (!sandbox.ok()) return sandbox.status().WithContext("opening the sandbox" + where);
        shared = *sandbox;
      }
      instance.sandbox = shared;
    }
    if (instance.sandbox != nullptr) {
      StatusOr<SandboxCapabilities> capabilities = instance.sandbox->Capabilities();
      if (!capabilities.ok()) return capabilities.status().WithContext("sandbox" + where);
      instance.sandbox_capabilities = *capabilities;
    }
    instances.emplace(instance.name, std::move(instance));
  }
  return instances;
}

std::string BoundUrl(const ListenAddress& address, int port) {
  switch (address.kind) {
    case ListenAddress::Kind::kUnix:
      return address.url;
    case ListenAddress::Kind::kTls:
      return "grpcs://" + address.host + ":" + std::to_string(port);
    case ListenAddress::Kind::kTcp:
      break;
  }
  return "grpc://" + address.host + ":" + std::to_string(port);
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }

StatusOr<std::unique_ptr<Server>> Server::Start(const ServerConfig& config,
                                                std::shared_ptr<const PluginRegistry> registry) {
  if (registry == nullptr) {
    registry = std::make_shared<PluginRegistry>(
        PluginRegistry::OnSearchPath(PluginRegistry::SearchPaths(config.plugin_paths)));
  }
  if (config.listen.empty()) return InvalidArgument("no listen address is configured");

  RuntimeOptions options;
  options.scratch_dir = config.cache_dir.empty() ? "" : config.cache_dir + "/scratch";
  options.storage = config.storage;
  options.build_sandbox = config.sandbox;
  auto runtime = std::make_unique<Runtime>(options, registry);
  CAIRN_ASSIGN_OR_RETURN(std::shared_ptr<Storage> storage, runtime->OpenStorage());
  CAIRN_ASSIGN_OR_RETURN(StorageCapabilities storage_capabilities, storage->Capabilities());
  CAIRN_ASSIGN_OR_RETURN(auto instances, OpenInstances(config, *runtime));

  auto impl = std::make_unique<Impl>();
  impl->state = std::make_unique<ServerState>(config, std::move(runtime), std::move(storage),
                                              storage_capabilities, std::move(instances));
  CAIRN_RETURN_IF_ERROR(impl->state->auth().Load());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, so a second server on a port in use
  // would start and share it, each getting some of the connections. An
  // address in use must be an error instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  std::vector<int> ports(config.listen.size(), 0);
  for (size_t i = 0; i < config.listen.size(); ++i) {
    const ListenAddress& address = config.listen[i];
    std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
    if (address.kind == ListenAddress::Kind::kTls) {
      CAIRN_ASSIGN_OR_RETURN(credentials, TlsCredentials(config.tls));
    }
    builder.AddListeningPort(address.GrpcAddress(), credentials, &ports[i]);
  }
  // A message may hold a whole batch, and a little more for its framing;
  // larger ones are refused by gRPC with RESOURCE_EXHAUSTED.
  uint64_t max_message = std::max<uint64_t>(config.limits.max_batch_size + (1u << 20), 4u << 20);
  // Each stream's receive window is a fixed 8 MiB: enough to keep a
  // 100 MiB/s upload going over 80 ms of round trip, and what bounds the
  // memory one upload can take. gRPC's BDP probing would instead grow the
  // windows of a fast loopback client until the server held 100-200 MiB
  // for one 1 GiB upload (43 MiB in all without it; bench/server).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8 << 20);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<uint64_t>(max_message, std::numeric_limits<int>::max())));
  builder.SetMaxSendMessageSize(
      static_cast<int>(std::min<uint64_t>(max_message, std::numeric_limits<int>::max())));

  ServerState& state = *impl->state;
  impl->services.push_back(MakeCapabilitiesService(state));
  impl->services.push_back(MakeCasService(state));
  impl->services.push_back(MakeByteStreamService(state));
  impl->services.push_back(MakeActionCacheService(state));
  for (auto& service : MakeExecutionServices(state)) impl->services.push_back(std::move(service));
  impl->services.push_back(MakeFetchService(state));
  impl->services.push_back(MakePushService(state));
  for (const auto& service : impl->services) {
    builder.RegisterService(service.get());
    if (auto* drainable = dynamic_cast<Drainable*>(service.get())) {
      impl->drainable.push_back(drainable);
    }
  }

  impl->grpc_server = builder.BuildAndStart();
  std::string addresses;
  for (const ListenAddress& address : config.listen) {
    addresses += (addresses.empty() ? "" : ", ") + address.url;
  }
  if (impl->grpc_server == nullptr) {
    return Unavailable("cannot listen on " + addresses +
                       " (an address in use, or not an address of this machine?)");
  }
  for (size_t i = 0; i < config.listen.size(); ++i) {
    if (ports[i] == 0) {
      impl->grpc_server->Shutdown();
      return Unavailable("cannot listen on " + config.listen[i].url + " (" +
                         config.listen[i].location.ToString() + ")");
    }
    impl->urls.push_back(BoundUrl(config.listen[i], ports[i]));
    if (impl->port == 0 && config.listen[i].kind != ListenAddress::Kind::kUnix) {
      impl->port = ports[i];
    }
  }
  if (!config.metrics_listen.empty()) {
    StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
        MetricsEndpoint::Start(config.metrics_listen, state.metrics());
    if (!endpoint.ok()) {
      impl->grpc_server->Shutdown();
      return endpoint.status();
    }
    impl->metrics_endpoint = std::move(endpoint).value();
  }
  if (auto* health = impl->grpc_server->GetHealthCheckService()) {
    health->SetServingStatus(true);
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

const std::vector<std::string>& Server::urls() const { return impl_->urls; }

int Server::port() const { return impl_->port; }

std::string Server::metrics_address() const {
  return impl_->metrics_endpoint != nullptr ? impl_->metrics_endpoint->address() : "";
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    first = !impl_->shutting_down;
    impl_->shutting_down = true;
  }
  if (!first) {  // another thread is at it: wait for it to finish
    Wait();
    return;
  }
  if (auto* health = impl_->grpc_server->GetHealthCheckService()) {
    health->SetServingStatus(false);
  }
  // One deadline for everything, taken before the services drain: `grace`
  // bounds the whole shutdown, however long a Drain() takes.
  auto deadline = std::chrono::system_clock::now() + grace;
  for (Drainable* service : impl_->drainable) service->Drain(grace);
  impl_->grpc_server->Shutdown(deadline);
  impl_->grpc_server->Wait();
  impl_->metrics_endpoint.reset();
  // Services (and the executions they own) end before the store they use.
  impl_->services.clear();
  impl_->drainable.clear();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopped = true;
  }
  impl_->stopped_changed.notify_all();
}

void Server::Wait() {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->stopped_changed.wait(lock, [&] { return impl_->stopped; });
}

}  // namespace cairn::server
