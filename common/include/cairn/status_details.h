// cairn/status_details.h — typed error details on a Status.
//
// A Status may carry google.rpc error details, exactly as google.rpc.Status
// does on the wire: a PreconditionFailure listing the blobs missing from a
// CAS, a BadRequest naming the field at fault, an ErrorInfo giving the kind
// of failure. They survive WithContext, cross the plugin ABI (cairn_error's
// `details`, ABI 1.1) and become a gRPC status's details in the server, so
// no layer ever has to parse a message to learn what went wrong.
//
//   Status missing = MissingBlobsError("the input root is incomplete", {a, b});
//   for (const Digest& digest : MissingBlobs(missing)) Upload(digest);
//
//   if (ErrorReason(status) == kReasonConfiguration) return kExitConfig;
#ifndef CAIRN_STATUS_DETAILS_H
#define CAIRN_STATUS_DETAILS_H

#include <google/protobuf/any.pb.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/digest.h"
#include "cairn/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace cairn {

struct StatusDetails {
  std::vector<google::protobuf::Any> items;
};

// ErrorInfo.domain of the reasons Cairn gives.
inline constexpr char kErrorDomain[] = "cairn";
// ErrorInfo.reason values: what kind of failure a Status reports, beyond
// its code. Callers choose exit codes and retries from these.
inline constexpr char kReasonConfiguration[] = "CONFIGURATION";  // a configuration file or flag
inline constexpr char kReasonPlugin[] = "PLUGIN";  // a plugin not found, not loadable, not created

// Returns `status` with `detail` appended to its details (OK stays OK).
Status WithDetail(Status status, const google::protobuf::Message& detail);

// The first detail of type T, if any.
template <typename T>
std::optional<T> FindDetail(const Status& status) {
  if (status.details() == nullptr) return std::nullopt;
  for (const google::protobuf::Any& any : status.details()->items) {
    T detail;
    if (any.Is<T>() && any.UnpackTo(&detail)) return detail;
  }
  return std::nullopt;
}

// FAILED_PRECONDITION with a PreconditionFailure holding one violation
// {type "MISSING", subject "blobs/{hash}/{size}"} per digest, as REAPI's
// Execute reports missing inputs.
Status MissingBlobsError(const std::string& message, const std::vector<Digest>& missing);
// The digests of the MISSING violations (empty when there are none).
std::vector<Digest> MissingBlobs(const Status& status);

// INVALID_ARGUMENT "FIELD: description" with a BadRequest naming `field`.
Status BadRequestError(const std::string& field, const std::string& description);
// The field of the first BadRequest violation, or "".
std::string BadRequestField(const Status& status);

// Marks what kind of failure this is (ErrorInfo{reason, domain "cairn"}),
// replacing an earlier reason.
Status WithErrorReason(Status status, std::string_view reason);
// The reason of the ErrorInfo in Cairn's domain, or "".
std::string ErrorReason(const Status& status);

// Status <-> google.rpc.Status (code, message, details).
google::rpc::Status ToRpcStatus(const Status& status);
Status FromRpcStatus(const google::rpc::Status& status);

}  // namespace cairn

#endif  // CAIRN_STATUS_DETAILS_H
