// raw_error.h — how a plugin written against plugin.h alone reports an
// error: the message in a buffer it allocated and releases itself. For the
// test plugins that must not use Cairn's C++ helpers.
#ifndef CAIRN_TESTS_RUNTIME_RAW_ERROR_H
#define CAIRN_TESTS_RUNTIME_RAW_ERROR_H

#include <cstring>

#include "cairn/plugin.h"

namespace raw_plugin {

inline void ReleaseNew(cairn_buffer* buffer) { delete[] buffer->data; }

// Fills `error` with `code` and a copy of `message`; returns `code`.
inline int32_t Fail(cairn_error* error, int32_t code, const char* message) {
  size_t size = std::strlen(message);
  error->code = code;
  error->message.data = new uint8_t[size];
  std::memcpy(error->message.data, message, size);
  error->message.size = size;
  error->message.release = &ReleaseNew;
  return code;
}

}  // namespace raw_plugin

#endif  // CAIRN_TESTS_RUNTIME_RAW_ERROR_H
