// cairn/host_services.h — a plugin's view of the host, in C++.
//
// Wraps the cairn_host_services table the host hands to create/open:
// logging into the host's logger, the cancellation flag, and the host's
// active CAS as a Storage. Copyable and cheap; valid as long as the table.
#ifndef CAIRN_HOST_SERVICES_H
#define CAIRN_HOST_SERVICES_H

#include <memory>
#include <string>
#include <string_view>

#include "cairn/plugin.h"
#include "cairn/storage.h"

namespace cairn {

class HostServices {
 public:
  explicit HostServices(const cairn_host_services* table);

  void Log(int32_t level, std::string_view message) const;
  void Info(std::string_view message) const { Log(CAIRN_LOG_INFO, message); }
  void Debug(std::string_view message) const { Log(CAIRN_LOG_DEBUG, message); }
  void Warn(std::string_view message) const { Log(CAIRN_LOG_WARN, message); }
  bool IsCancelled() const;

  // The host's active store; nullptr for storage plugins (they are the store).
  Storage* cas() const { return cas_.get(); }
  // The host's scratch directory (same filesystem as its local cache), or
  // "" when the host gave none.
  std::string scratch_dir() const;
  const cairn_host_services* table() const { return table_; }
  // The host's plugin ABI minor version (0 when unknown).
  uint32_t abi_minor() const { return table_ != nullptr ? table_->abi_minor : 0; }

 private:
  const cairn_host_services* table_;
  std::shared_ptr<Storage> cas_;
};

}  // namespace cairn

#endif  // CAIRN_HOST_SERVICES_H
