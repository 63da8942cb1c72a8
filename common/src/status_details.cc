#include "cairn/status_details.h"

#include <memory>

namespace cairn {
namespace {

const char kMissingViolation[] = "MISSING";
const char kBlobsPrefix[] = "blobs/";

Status WithItems(Status status, std::vector<google::protobuf::Any> items) {
  auto details = std::make_shared<StatusDetails>();
  details->items = std::move(items);
  status.set_details(details->items.empty() ? nullptr : std::move(details));
  return status;
}

std::vector<google::protobuf::Any> ItemsOf(const Status& status) {
  return status.details() != nullptr ? status.details()->items
                                     : std::vector<google::protobuf::Any>();
}

}  // namespace

Status WithDetail(Status status, const google::protobuf::Message& detail) {
  if (status.ok()) return status;
  std::vector<google::protobuf::Any> items = ItemsOf(status);
  items.emplace_back().PackFrom(detail);
  return WithItems(std::move(status), std::move(items));
}

Status MissingBlobsError(const std::string& message, const std::vector<Digest>& missing) {
  google::rpc::PreconditionFailure failure;
  for (const Digest& digest : missing) {
    auto* violation = failure.add_violations();
    violation->set_type(kMissingViolation);
    violation->set_subject(kBlobsPrefix + DigestToString(digest));
  }
  return WithDetail(FailedPrecondition(message), failure);
}

std::vector<Digest> MissingBlobs(const Status& status) {
  std::vector<Digest> digests;
  if (status.details() == nullptr) return digests;
  for (const google::protobuf::Any& any : status.details()->items) {
    google::rpc::PreconditionFailure failure;
    if (!any.Is<google::rpc::PreconditionFailure>() || !any.UnpackTo(&failure)) continue;
    for (const auto& violation : failure.violations()) {
      const std::string& subject = violation.subject();
      if (violation.type() != kMissingViolation || subject.rfind(kBlobsPrefix, 0) != 0) continue;
      StatusOr<Digest> digest =
          ParseDigest(std::string_view(subject).substr(sizeof(kBlobsPrefix) - 1));
      if (digest.ok()) digests.push_back(*digest);
    }
  }
  return digests;
}

Status BadRequestError(const std::string& field, const std::string& description) {
  google::rpc::BadRequest request;
  auto* violation = request.add_field_violations();
  violation->set_field(field);
  violation->set_description(description);
  return WithDetail(InvalidArgument(field + ": " + description), request);
}

std::string BadRequestField(const Status& status) {
  std::optional<google::rpc::BadRequest> request = FindDetail<google::rpc::BadRequest>(status);
  if (!request || request->field_violations_size() == 0) return "";
  return request->field_violations(0).field();
}

Status WithErrorReason(Status status, std::string_view reason) {
  if (status.ok()) return status;
  std::vector<google::protobuf::Any> items;
  for (google::protobuf::Any& any : ItemsOf(status)) {
    google::rpc::ErrorInfo info;
    if (any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info) && info.domain() == kErrorDomain) {
      continue;
    }
    items.push_back(std::move(any));
  }
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(kErrorDomain);
  items.emplace_back().PackFrom(info);
  return WithItems(std::move(status), std::move(items));
}

std::string ErrorReason(const Status& status) {
  if (status.details() == nullptr) return "";
  for (const google::protobuf::Any& any : status.details()->items) {
    google::rpc::ErrorInfo info;
    if (any.Is<google::rpc::ErrorInfo>() && any.UnpackTo(&info) && info.domain() == kErrorDomain) {
      return info.reason();
    }
  }
  return "";
}

google::rpc::Status ToRpcStatus(const Status& status) {
  google::rpc::Status rpc;
  rpc.set_code(static_cast<int32_t>(status.code()));
  rpc.set_message(status.message());
  for (const google::protobuf::Any& any : ItemsOf(status)) *rpc.add_details() = any;
  return rpc;
}

Status FromRpcStatus(const google::rpc::Status& rpc) {
  if (rpc.code() == 0) return Status::Ok();
  Code code = rpc.code() > 0 && rpc.code() <= static_cast<int32_t>(Code::kUnauthenticated)
                  ? static_cast<Code>(rpc.code())
                  : Code::kUnknown;
  std::vector<google::protobuf::Any> items(rpc.details().begin(), rpc.details().end());
  return WithItems(Status(code, rpc.message()), std::move(items));
}

}  // namespace cairn
