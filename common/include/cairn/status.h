// cairn/status.h — errors as a google.rpc.Code plus a message.
//
// Status and StatusOr<T> are how every C++ layer of Cairn reports failure.
// The code is the google.rpc.Code number that also crosses the plugin ABI
// and the wire, so a failure keeps its meaning from a plugin, through the
// host, to a gRPC client. Add context while propagating and keep the code:
//
//   StatusOr<Digest> digest = store.WriteBlob(data);
//   if (!digest.ok()) return digest.status().WithContext("importing " + path);
//
// Exceptions never leave the module that throws them.
#ifndef CAIRN_STATUS_H
#define CAIRN_STATUS_H

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace cairn {

// Typed error details (google.rpc.Status.details); see cairn/status_details.h.
struct StatusDetails;

// google.rpc.Code numbering (identical to grpc::StatusCode).
enum class Code : int32_t {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "NOT_FOUND", "INVALID_ARGUMENT", ...; "CODE_<n>" for numbers outside the enum.
std::string CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "context: message", same code and details. OK stays OK.
  Status WithContext(const std::string& context) const;
  // "CODE_NAME: message", for logs and the command line.
  std::string ToString() const;

  // Typed details (PreconditionFailure, BadRequest, ErrorInfo, ...) that
  // travel with the status across the plugin ABI and the wire; nullptr
  // when there are none. cairn/status_details.h reads and adds them.
  const StatusDetails* details() const { return details_.get(); }
  void set_details(std::shared_ptr<const StatusDetails> details) { details_ = std::move(details); }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::shared_ptr<const StatusDetails> details_;
};

// Builds a Status from errno after a failed system call:
// ErrnoStatus("open", path) -> "open /x/y: No such file or directory" with
// NOT_FOUND, PERMISSION_DENIED, RESOURCE_EXHAUSTED (ENOSPC) ... as fits.
Status ErrnoStatus(const std::string& operation, const std::string& subject, int error_number);
Code CodeFromErrno(int error_number);

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status Unimplemented(std::string m) { return {Code::kUnimplemented, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status DataLoss(std::string m) { return {Code::kDataLoss, std::move(m)}; }
inline Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {Code::kOutOfRange, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok()) status_ = Internal("StatusOr constructed from an OK status without a value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // Precondition: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace cairn

// Returns early from the enclosing function when `expr` is not OK.
#define CAIRN_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::cairn::Status cairn_status_ = (expr);        \
    if (!cairn_status_.ok()) return cairn_status_; \
  } while (false)

#define CAIRN_CONCAT_INNER(a, b) a##b
#define CAIRN_CONCAT(a, b) CAIRN_CONCAT_INNER(a, b)
// CAIRN_ASSIGN_OR_RETURN(auto x, MaybeX()); declares x or returns the error.
#define CAIRN_ASSIGN_OR_RETURN(lhs, expr) \
  CAIRN_ASSIGN_OR_RETURN_IMPL(CAIRN_CONCAT(cairn_statusor_, __LINE__), lhs, expr)
#define CAIRN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

#endif  // CAIRN_STATUS_H
