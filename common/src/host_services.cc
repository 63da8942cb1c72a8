#include "cairn/host_services.h"

#include "cairn/abi.h"
#include "cairn/storage_client.h"

namespace cairn {

HostServices::HostServices(const cairn_host_services* table) : table_(table) {
  bool has_cas = table_ != nullptr && CAIRN_ABI_HAS_FIELD(table_, cairn_host_services, cas_store) &&
                 table_->cas != nullptr;
  if (has_cas) cas_ = std::make_shared<StorageClient>(table_->cas, table_->cas_store, "host CAS");
}

void HostServices::Log(int32_t level, std::string_view message) const {
  if (table_ == nullptr || table_->log == nullptr) return;
  // The host's logger takes a sized string; it is not NUL-terminated here.
  std::string copy(message);
  table_->log(table_->host, level, copy.c_str(), copy.size());
}

std::string HostServices::scratch_dir() const {
  bool has_scratch = table_ != nullptr &&
                     CAIRN_ABI_HAS_FIELD(table_, cairn_host_services, scratch_dir) &&
                     table_->scratch_dir != nullptr;
  return has_scratch ? std::string(table_->scratch_dir) : std::string();
}

bool HostServices::IsCancelled() const {
  return table_ != nullptr && table_->is_cancelled != nullptr &&
         table_->is_cancelled(table_->host) != 0;
}

}  // namespace cairn
