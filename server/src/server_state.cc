#include "server_state.h"

#include <algorithm>

#include "cairn/quote.h"
#include "cairn/status_details.h"

namespace cairn::server {

ServerState::ServerState(ServerConfig config, std::unique_ptr<Runtime> runtime,
                         std::shared_ptr<Storage> storage, StorageCapabilities storage_capabilities,
                         std::map<std::string, Instance> instances)
    : config_(std::move(config)),
      runtime_(std::move(runtime)),
      storage_(std::move(storage)),
      storage_capabilities_(storage_capabilities),
      instances_(std::move(instances)),
      auth_(config_.tokens_file),
      request_log_level_(spdlog::level::from_str(config_.request_log_level)) {}

ServerState::~ServerState() {
  // Sandboxes use the store: they go first, then the store, then the
  // runtime that loaded both.
  instances_.clear();
  storage_.reset();
  runtime_.reset();
}

StatusOr<const Instance*> ServerState::FindInstance(const std::string& name,
                                                    const std::string& field) const {
  auto found = instances_.find(name);
  if (found != instances_.end()) return &found->second;
  std::string served;
  for (const auto& [known, instance] : instances_) {
    served += (served.empty() ? "" : ", ") + QuoteC(known);
  }
  return BadRequestError(
      field, "unknown instance name " + QuoteC(name) + " (this server serves " + served + ")");
}

uint64_t ServerState::max_blob_size() const {
  uint64_t configured = config_.limits.max_blob_size;
  uint64_t store = storage_capabilities_.max_blob_size;
  if (configured == 0) return store;
  if (store == 0) return configured;
  return std::min(configured, store);
}

}  // namespace cairn::server
