// cairn/abi.h — C++ helpers for both sides of the plugin ABI.
//
// The ABI (cairn/plugin.h) is plain C: bytes, buffers with release
// callbacks, and errors as google.rpc.Code numbers. These helpers convert
// between that and Cairn's C++ types, and guard every crossing so that no
// exception ever passes the boundary:
//
//   // plugin side, inside a C callback:
//   return GuardedCall(error, "execute", [&]() -> Status { ... });
//
//   // host side, calling into a plugin:
//   cairn_error error{};
//   int32_t code = ops->contains(store, BytesOf(wire), &present, &error);
//   Status status = StatusFromAbi(code, &error);   // releases the message
#ifndef CAIRN_ABI_H
#define CAIRN_ABI_H

#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

#include "cairn/plugin.h"
#include "cairn/status.h"

// Whether a struct the other side filled, of whatever minor version, is
// large enough to hold `member` (its struct_size says how large it is).
#define CAIRN_ABI_HAS_FIELD(object, type, member) \
  ((object)->struct_size >= offsetof(type, member) + sizeof(decltype((object)->member)))

namespace cairn {

// A borrowed view of `data`; valid while `data` lives.
inline cairn_bytes BytesOf(std::string_view data) {
  return cairn_bytes{reinterpret_cast<const uint8_t*>(data.data()), data.size()};
}
inline std::string_view ViewOf(cairn_bytes bytes) {
  return std::string_view(reinterpret_cast<const char*>(bytes.data),
                          static_cast<size_t>(bytes.size));
}

// Moves `data` into a heap buffer that releases itself (this side frees it).
void FillBuffer(cairn_buffer* buffer, std::string data);
// Copies the buffer's bytes out and releases it.
std::string TakeBuffer(cairn_buffer* buffer);

// A buffer handed to a callee to fill. Released when it goes out of scope
// unless taken, so an error path never leaks what the callee produced.
class OwnedBuffer {
 public:
  OwnedBuffer() = default;
  ~OwnedBuffer() { cairn_buffer_release(&raw_); }
  OwnedBuffer(const OwnedBuffer&) = delete;
  OwnedBuffer& operator=(const OwnedBuffer&) = delete;
  cairn_buffer* get() { return &raw_; }
  std::string Take() { return TakeBuffer(&raw_); }

 private:
  cairn_buffer raw_{};
};

// Whether the owner of a cairn_error has its ABI 1.1 `details` field: true
// when that side speaks ABI 1.1 or later (see "Minor versions" in
// cairn/plugin.h).
enum class ErrorDetails : bool { kOmit = false, kWrite = true };
inline ErrorDetails DetailsFor(uint32_t peer_abi_minor) {
  return peer_abi_minor >= 1 ? ErrorDetails::kWrite : ErrorDetails::kOmit;
}

// Fills `error` (when non-NULL) from a non-OK status, with its typed
// details when `details` allows; returns the code.
int32_t SetAbiError(cairn_error* error, const Status& status,
                    ErrorDetails details = ErrorDetails::kOmit);
// The Status a callee reported, with its typed details; releases the
// error's buffers.
Status StatusFromAbi(int32_t code, cairn_error* error);
// Releases whatever a callee left in `error`.
void ReleaseAbiError(cairn_error* error);

// Runs `body` (returning Status) and converts its outcome, or any exception
// it throws, into an ABI code plus message (and details, when the caller's
// cairn_error has room for them). `what` names the entry point.
template <typename Body>
int32_t GuardedCall(cairn_error* error, const char* what, Body&& body,
                    ErrorDetails details = ErrorDetails::kOmit) noexcept {
  try {
    return SetAbiError(error, body(), details);
  } catch (const std::exception& e) {
    return SetAbiError(error, Internal(std::string(what) + " threw an exception: " + e.what()));
  } catch (...) {
    return SetAbiError(error, Internal(std::string(what) + " threw a non-standard exception"));
  }
}

// Calls across the ABI into the other side (a callback returning an ABI
// code), catching anything it throws: a plugin built without our guards
// must not take the host down. The cairn_error it passes is of this build's
// ABI (1.1), so the callee may fill `details`. `what` names the plugin and
// callback for the message.
template <typename Call>
Status CallPlugin(const std::string& what, Call&& call) noexcept {
  cairn_error error{};
  try {
    int32_t code = call(&error);
    return StatusFromAbi(code, &error).WithContext(what);
  } catch (const std::exception& e) {
    ReleaseAbiError(&error);
    return Internal(what + " threw an exception across the plugin ABI: " + e.what());
  } catch (...) {
    ReleaseAbiError(&error);
    return Internal(what + " threw a non-standard exception across the plugin ABI");
  }
}

}  // namespace cairn

#endif  // CAIRN_ABI_H
