// The remote sandbox's test fixture: a real cairn-server started in-process
// on 127.0.0.1 (tests/server's ServerTest, its store in DIR/cache), and a
// client wired as the host wires it — a cairn::Runtime with its own
// cas-local store in DIR/client, handing that store to cairn-remote.so
// (and, for comparisons, to cairn-bwrap.so) through the host services.
//
// The remote sandbox is created with exactly the options a test gives, so
// a test may point it at any URL: the server, a second server, a proxy in
// front of either (the recovery tests' fault proxy):
//
//   TEST_F(RemoteSandboxTest, ...) {
//     StartServer();
//     auto sandbox = CreateRemote(RemoteOptions(ServerUrl()));   // or any YAML
//     ASSERT_TRUE(sandbox.ok()) << sandbox.status().ToString();
//     StatusOr<Action> action = MakeShellAction({"echo hi > out"}, {"out"});
//     ExecuteOutcome outcome = (*sandbox)->Execute(*action, ExecuteOptions{});
//   }
//
// Every call the plugin makes is bounded: RemoteOptions sets a request
// timeout per attempt, quick retries and an execution-timeout for the
// whole of one Execute. Tests skip (saying why) without root, bwrap or a
// static busybox, which the server's and the local sandbox need.
#ifndef CAIRN_TESTS_REMOTE_SANDBOX_REMOTE_SANDBOX_FIXTURE_H
#define CAIRN_TESTS_REMOTE_SANDBOX_REMOTE_SANDBOX_FIXTURE_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cairn/runtime/cancellation.h"
#include "cairn/runtime/runtime.h"
#include "cairn/sandbox.h"
#include "cairn/storage.h"
#include "cairn/unique_fd.h"
#include "server_fixture.h"

namespace cairn::testing {

namespace reapi = build::bazel::remote::execution::v2;

// Why the Actions of these tests cannot run here, or "".
inline std::string WhyRemoteSandboxCannotRun() {
  if (geteuid() != 0) return "the remote sandbox tests need root (bwrap); CI runs as root";
  if (access("/usr/bin/bwrap", X_OK) != 0) return "bwrap is not installed (/usr/bin/bwrap)";
  if (access("/usr/bin/busybox", X_OK) != 0) {
    return "busybox-static is not installed (/usr/bin/busybox)";
  }
  return "";
}

// An Action running `sh -c SCRIPT` in build/ of a busybox root.
struct ShellAction {
  ShellAction(std::string script_text, std::vector<std::string> outputs = {})
      : script(std::move(script_text)), output_paths(std::move(outputs)) {}

  std::string script;
  std::vector<std::string> output_paths;  // relative to build/
  int timeout_seconds = 0;                // 0 = none
  bool do_not_cache = false;
  std::vector<std::pair<std::string, std::string>> platform;
  // Files added to the input root (relative path -> content).
  std::map<std::string, std::string> inputs;
};

class RemoteSandboxTest : public server::ServerTest {
 protected:
  void SetUp() override {
    std::string why_not = WhyRemoteSandboxCannotRun();
    if (!why_not.empty()) GTEST_SKIP() << why_not;
    std::filesystem::create_directories(ClientDir() + "/store");
    std::filesystem::create_directories(ClientDir() + "/scratch");
    RuntimeOptions options;
    options.storage.plugin = "cas-local";
    options.storage.options_yaml = "path: " + ClientDir() + "/store\n";
    options.scratch_dir = ClientDir() + "/scratch";
    options.cancellation = &cancellation_;
    runtime_ = std::make_unique<Runtime>(
        options, std::make_shared<PluginRegistry>(PluginRegistry::Discover({CAIRN_PLUGIN_DIR})));
    StatusOr<std::shared_ptr<Storage>> storage = runtime_->OpenStorage();
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    local_ = *storage;
  }

  // Sandboxes a test created are gone by now (they are the test body's);
  // the store goes before the runtime, then the server (ServerTest).
  void TearDown() override {
    local_.reset();
    runtime_.reset();
  }

  // The client's side: its own directory, apart from the server's cache.
  std::string ClientDir() const { return dir_.path() + "/client"; }
  // The host's store, where inputs come from and outputs must land.
  Storage& local() { return *local_; }
  // What Ctrl-C does to the host.
  void CancelHost() { cancellation_.Cancel(); }

  // grpc://127.0.0.1:PORT of the running server.
  std::string ServerUrl() const { return "grpc://127.0.0.1:" + std::to_string(server_->port()); }

  // Options for the remote sandbox at `url`: quick retries, every attempt
  // and every execution bounded; `extra` (YAML lines) appended.
  static std::string RemoteOptions(const std::string& url, const std::string& extra = "") {
    return "url: " + url + "\n" + QuickConnection("") + "execution-timeout: 120\n" + extra;
  }

  // A connection-config section indented by `indent` (for service
  // sections too).
  static std::string QuickConnection(const std::string& indent) {
    return indent + "connection-config:\n" + indent + "  retry-limit: 2\n" + indent +
           "  retry-delay: 20\n" + indent + "  request-timeout: 30\n";
  }

  // A new remote sandbox created with exactly `options_yaml`.
  StatusOr<std::unique_ptr<Sandbox>> CreateRemote(const std::string& options_yaml) {
    PluginChoice choice;
    choice.plugin = "remote";
    choice.options_yaml = options_yaml;
    return runtime_->CreateSandbox(choice);
  }

  // The local bwrap sandbox on the same store, for comparisons.
  StatusOr<std::unique_ptr<Sandbox>> CreateLocal() {
    PluginChoice choice;
    choice.plugin = "bwrap";
    choice.options_yaml = "scratch-dir: " + ClientDir() + "/scratch\n";
    return runtime_->CreateSandbox(choice);
  }

  // A busybox root (bin/busybox and applet links, an empty build/, and
  // `inputs`) captured into the local store.
  StatusOr<Digest> ImportBusyboxRoot(const std::map<std::string, std::string>& inputs = {}) {
    std::string root = ClientDir() + "/root-" + std::to_string(roots_made_++);
    std::filesystem::create_directories(root + "/bin");
    std::filesystem::create_directories(root + "/build");
    std::error_code error;
    std::filesystem::copy_file("/usr/bin/busybox", root + "/bin/busybox", error);
    if (error) return FailedPrecondition("cannot copy /usr/bin/busybox: " + error.message());
    for (const char* applet : {"sh", "echo", "cat", "mkdir", "printf", "sleep", "head", "seq",
                               "true", "false", "tr", "wc"}) {
      std::filesystem::create_symlink("busybox", root + "/bin/" + applet, error);
      if (error) return Internal("cannot link applet " + std::string(applet));
    }
    for (const auto& [relative, content] : inputs) {
      std::filesystem::path file = std::filesystem::path(root) / relative;
      std::filesystem::create_directories(file.parent_path());
      std::ofstream(file, std::ios::binary) << content;
    }
    CAIRN_ASSIGN_OR_RETURN(CapturedTree tree, local_->CaptureTree(root, CaptureOptions{}));
    return tree.root;
  }

  // The Action `shell` describes, its Command and input root in the local
  // store (the Action itself is the sandbox's to store).
  StatusOr<Action> MakeShellAction(const ShellAction& shell) {
    CAIRN_ASSIGN_OR_RETURN(Digest root, ImportBusyboxRoot(shell.inputs));
    Command command;
    for (const char* argument : {"/bin/sh", "-c"}) command.add_arguments(argument);
    command.add_arguments(shell.script);
    auto* path = command.add_environment_variables();
    path->set_name("PATH");
    path->set_value("/bin");
    command.set_working_directory("build");
    for (const std::string& output : shell.output_paths) command.add_output_paths(output);
    CAIRN_ASSIGN_OR_RETURN(Digest command_digest, local_->WriteMessage(command));
    Action action;
    *action.mutable_command_digest() = command_digest;
    *action.mutable_input_root_digest() = root;
    if (shell.timeout_seconds > 0) action.mutable_timeout()->set_seconds(shell.timeout_seconds);
    action.set_do_not_cache(shell.do_not_cache);
    for (const auto& [name, value] : shell.platform) {
      auto* property = action.mutable_platform()->add_properties();
      property->set_name(name);
      property->set_value(value);
    }
    return action;
  }

  // The blob's content in the local store, or "<error ...>".
  std::string ReadLocal(const Digest& digest) {
    StatusOr<std::string> bytes = local_->ReadBlob(digest);
    return bytes.ok() ? *bytes : "<" + bytes.status().ToString() + ">";
  }

  // The file of `digest` in a cas-local store at `store` (the server's is
  // DIR/cache/cas): objects/<2 hex>/<62 hex>.
  static std::string ObjectPath(const std::string& store, const Digest& digest) {
    return store + "/objects/" + digest.hash().substr(0, 2) + "/" + digest.hash().substr(2);
  }
  std::string ServerStore() const { return dir_.path() + "/cache/cas"; }

  // The Prometheus page of a server's metrics endpoint at 127.0.0.1:PORT
  // ("" and a test failure when it cannot be read); every wait bounded.
  static std::string ScrapeMetrics(const std::string& address) {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) {
      ADD_FAILURE() << "no metrics address: '" << address << "'";
      return "";
    }
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval timeout{10, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    sockaddr_in socket_address{};
    socket_address.sin_family = AF_INET;
    socket_address.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    socket_address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&socket_address), sizeof(socket_address)) !=
        0) {
      ADD_FAILURE() << "cannot connect to the metrics endpoint " << address << ": "
                    << std::strerror(errno);
      return "";
    }
    const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      ADD_FAILURE() << "cannot send the metrics request to " << address;
      return "";
    }
    std::string page;
    char buffer[4096];
    for (;;) {
      ssize_t n = ::recv(fd.get(), buffer, sizeof(buffer), 0);
      if (n <= 0) break;
      page.append(buffer, static_cast<size_t>(n));
    }
    return page;
  }

  // A TCP port nothing listens on (bound once by the kernel, then released).
  static int FreePort() {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot find a free port: " << std::strerror(errno);
      return 0;
    }
    return ntohs(address.sin_port);
  }

  // The value of the sample `series` on a metrics page, or -1.
  static long long MetricSample(const std::string& page, const std::string& series) {
    size_t at = page.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(page.substr(at + 1 + series.size() + 1));
  }

  // Declared so that the runtime goes before the flag it polls.
  CancellationFlag cancellation_;
  std::unique_ptr<Runtime> runtime_;
  std::shared_ptr<Storage> local_;

 private:
  int roots_made_ = 0;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_REMOTE_SANDBOX_REMOTE_SANDBOX_FIXTURE_H
