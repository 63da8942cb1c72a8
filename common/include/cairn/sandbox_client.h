// cairn/sandbox_client.h — a Sandbox that calls a sandbox plugin.
//
// Owns the plugin's sandbox instance (destroyed with the client); the vtable
// (and so the plugin library) must outlive it. Every call is guarded: an
// exception from the plugin becomes INTERNAL naming the plugin.
#ifndef CAIRN_SANDBOX_CLIENT_H
#define CAIRN_SANDBOX_CLIENT_H

#include <string>

#include "cairn/plugin.h"
#include "cairn/sandbox.h"

namespace cairn {

class SandboxClient : public Sandbox {
 public:
  // Calls vtable->create with `host` and `options` (YAML text).
  static StatusOr<std::unique_ptr<SandboxClient>> Create(const cairn_sandbox_vtable* vtable,
                                                         const cairn_host_services* host,
                                                         const std::string& options,
                                                         std::string name);
  ~SandboxClient() override;
  SandboxClient(const SandboxClient&) = delete;
  SandboxClient& operator=(const SandboxClient&) = delete;

  StatusOr<SandboxCapabilities> Capabilities() override;
  ExecuteOutcome Execute(const Action& action, const ExecuteOptions& options) override;
  StatusOr<int> RunInteractive(const Action& action, const InteractiveOptions& options) override;

 private:
  SandboxClient(const cairn_sandbox_vtable* vtable, void* instance, std::string name)
      : vtable_(vtable), instance_(instance), name_(std::move(name)) {}

  const cairn_sandbox_vtable* vtable_;
  void* instance_;
  std::string name_;
};

}  // namespace cairn

#endif  // CAIRN_SANDBOX_CLIENT_H
