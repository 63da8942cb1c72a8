#include "cairn/status.h"

#include <cerrno>
#include <cstring>

namespace cairn {

std::string CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "OK";
    case Code::kCancelled:
      return "CANCELLED";
    case Code::kUnknown:
      return "UNKNOWN";
    case Code::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case Code::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case Code::kNotFound:
      return "NOT_FOUND";
    case Code::kAlreadyExists:
      return "ALREADY_EXISTS";
    case Code::kPermissionDenied:
      return "PERMISSION_DENIED";
    case Code::kResourceExhausted:
      return "RESOURCE_EXHAUSTED";
    case Code::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case Code::kAborted:
      return "ABORTED";
    case Code::kOutOfRange:
      return "OUT_OF_RANGE";
    case Code::kUnimplemented:
      return "UNIMPLEMENTED";
    case Code::kInternal:
      return "INTERNAL";
    case Code::kUnavailable:
      return "UNAVAILABLE";
    case Code::kDataLoss:
      return "DATA_LOSS";
    case Code::kUnauthenticated:
      return "UNAUTHENTICATED";
  }
  return "CODE_" + std::to_string(static_cast<int32_t>(code));
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  Status wider(code_, context + ": " + message_);
  wider.details_ = details_;
  return wider;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return CodeName(code_) + ": " + message_;
}

Code CodeFromErrno(int error_number) {
  switch (error_number) {
    case ENOENT:
    case ENOTDIR:
      return Code::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
      return Code::kPermissionDenied;
    case ENOSPC:
    case EDQUOT:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return Code::kResourceExhausted;
    case EEXIST:
    case ENOTEMPTY:
      return Code::kAlreadyExists;
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP:
    case EISDIR:
      return Code::kInvalidArgument;
    case EINTR:
      return Code::kCancelled;
    case EIO:
      return Code::kDataLoss;
    case EAGAIN:
    case EBUSY:
      return Code::kUnavailable;
    default:
      return Code::kInternal;
  }
}

Status ErrnoStatus(const std::string& operation, const std::string& subject, int error_number) {
  std::string message = operation;
  if (!subject.empty()) message += " " + subject;
  message += ": ";
  message += std::strerror(error_number);
  return Status(CodeFromErrno(error_number), std::move(message));
}

}  // namespace cairn
