#include "request_scope.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "cairn/quote.h"
#include "grpc_status.h"

namespace cairn::server {

RequestScope::RequestScope(ServerState& state, grpc::ServerContextBase* context, const char* method)
    : state_(state), context_(context), method_(method), start_(std::chrono::steady_clock::now()) {}

RequestScope::~RequestScope() {
  if (!finished_) Finish(Internal("the handler ended without an outcome"));
}

std::string RequestScope::Authorization() const {
  const auto& metadata = context_->client_metadata();
  auto found = metadata.find("authorization");
  if (found == metadata.end()) return "";
  return std::string(found->second.data(), found->second.size());
}

Status RequestScope::Enter(const std::string& instance_name, Permission permission,
                           const std::string& field) {
  instance_name_ = instance_name;
  CAIRN_RETURN_IF_ERROR(state_.auth().Check(Authorization(), instance_name, permission));
  CAIRN_ASSIGN_OR_RETURN(instance_, state_.FindInstance(instance_name, field));
  return Status::Ok();
}

bool RequestScope::Allows(Permission permission) {
  return state_.auth().Check(Authorization(), instance_name_, permission).ok();
}

Status RequestScope::EnterWithAnyPermission(const std::string& instance_name,
                                            const std::string& field) {
  instance_name_ = instance_name;
  CAIRN_RETURN_IF_ERROR(state_.auth().CheckAny(Authorization()));
  CAIRN_ASSIGN_OR_RETURN(instance_, state_.FindInstance(instance_name, field));
  return Status::Ok();
}

grpc::Status RequestScope::Finish(const Status& status) {
  if (finished_) return ToGrpcStatus(status);
  finished_ = true;
  auto elapsed = std::chrono::steady_clock::now() - start_;
  double millis = std::chrono::duration<double, std::milli>(elapsed).count();
  state_.metrics().CountRequest(method_, status.code());
  state_.metrics().AddBytesIn(bytes_in_);
  state_.metrics().AddBytesOut(bytes_out_);
  // Failures are logged at least at info, so a quiet server still says why
  // it refused something.
  spdlog::level::level_enum level = state_.request_log_level();
  if (!status.ok()) level = std::max(level, spdlog::level::info);
  if (spdlog::should_log(level)) {
    spdlog::log(level, "{} instance={} peer={} code={} in={} out={} ms={:.1f}{}{}", method_,
                QuoteC(instance_name_), context_->peer(), CodeName(status.code()), bytes_in_,
                bytes_out_, millis,
                status.ok() ? "" : " error=", status.ok() ? "" : EscapeMessage(status.message()));
  }
  return ToGrpcStatus(status);
}

}  // namespace cairn::server
