#include "cairn/abi.h"

#include <cstring>

#include "cairn/status_details.h"

namespace cairn {
namespace {

void ReleaseStringBuffer(cairn_buffer* buffer) { delete static_cast<std::string*>(buffer->opaque); }

}  // namespace

void FillBuffer(cairn_buffer* buffer, std::string data) {
  if (buffer == nullptr) return;
  auto* owned = new std::string(std::move(data));
  buffer->data = reinterpret_cast<uint8_t*>(owned->data());
  buffer->size = owned->size();
  buffer->opaque = owned;
  buffer->release = &ReleaseStringBuffer;
}

std::string TakeBuffer(cairn_buffer* buffer) {
  if (buffer == nullptr) return {};
  std::string data;
  if (buffer->data != nullptr && buffer->size > 0) {
    data.assign(reinterpret_cast<const char*>(buffer->data), static_cast<size_t>(buffer->size));
  }
  cairn_buffer_release(buffer);
  return data;
}

int32_t SetAbiError(cairn_error* error, const Status& status, ErrorDetails details) {
  int32_t code = static_cast<int32_t>(status.code());
  if (error != nullptr && !status.ok()) {
    cairn_buffer_release(&error->message);
    error->code = code;
    FillBuffer(&error->message, status.message());
    if (details == ErrorDetails::kWrite && status.details() != nullptr) {
      google::rpc::Status rpc = ToRpcStatus(status);
      rpc.clear_message();  // `message` carries it
      cairn_buffer_release(&error->details);
      FillBuffer(&error->details, rpc.SerializeAsString());
    }
  }
  return code;
}

void ReleaseAbiError(cairn_error* error) {
  if (error == nullptr) return;
  cairn_buffer_release(&error->message);
  cairn_buffer_release(&error->details);
}

Status StatusFromAbi(int32_t code, cairn_error* error) {
  std::string message;
  std::string details;
  if (error != nullptr) {
    message = TakeBuffer(&error->message);
    details = TakeBuffer(&error->details);
  }
  if (code == CAIRN_CODE_OK) return Status::Ok();
  if (code < 0 || code > CAIRN_CODE_UNAUTHENTICATED) {
    return Internal("returned the invalid status code " + std::to_string(code) +
                    (message.empty() ? "" : ": " + message));
  }
  google::rpc::Status rpc;
  if (!details.empty() && rpc.ParseFromString(details) && rpc.details_size() > 0) {
    rpc.set_code(code);
    rpc.set_message(message.empty() ? rpc.message() : message);
    if (rpc.message().empty()) rpc.set_message("(no message)");
    return FromRpcStatus(rpc);
  }
  if (message.empty()) message = "(no message)";
  return Status(static_cast<Code>(code), std::move(message));
}

}  // namespace cairn
