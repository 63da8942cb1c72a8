#include "zstd_codec.h"

#include <zstd.h>

namespace cairn::server {

struct ZstdDecompressor::State {
  ZSTD_DCtx* context = ZSTD_createDCtx();
  ~State() { ZSTD_freeDCtx(context); }
};

struct ZstdCompressor::State {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  ~State() { ZSTD_freeCCtx(context); }
};

std::string ZstdCompress(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t size = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 1);
  out.resize(ZSTD_isError(size) ? 0 : size);
  return out;
}

StatusOr<std::string> ZstdDecompress(std::string_view data, uint64_t expected_size) {
  ZstdDecompressor decompressor(expected_size);
  std::string out;
  out.reserve(expected_size);
  CAIRN_RETURN_IF_ERROR(decompressor.Feed(data, &out));
  CAIRN_RETURN_IF_ERROR(decompressor.Finish());
  if (out.size() != expected_size) {
    return InvalidArgument("zstd data decompresses to " + std::to_string(out.size()) +
                           " bytes, not the digest's " + std::to_string(expected_size));
  }
  return out;
}

ZstdDecompressor::ZstdDecompressor(uint64_t limit)
    : state_(std::make_unique<State>()), limit_(limit) {}
ZstdDecompressor::~ZstdDecompressor() = default;

Status ZstdDecompressor::Feed(std::string_view input, std::string* output) {
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  char buffer[64 * 1024];
  while (in.pos < in.size) {
    ZSTD_outBuffer out{buffer, sizeof(buffer), 0};
    size_t result = ZSTD_decompressStream(state_->context, &out, &in);
    if (ZSTD_isError(result)) {
      return InvalidArgument(std::string("not valid zstd data: ") + ZSTD_getErrorName(result));
    }
    frame_open_ = result != 0;
    produced_ += out.pos;
    if (produced_ > limit_) {
      return InvalidArgument("zstd data decompresses to more than the digest's " +
                             std::to_string(limit_) + " bytes");
    }
    output->append(buffer, out.pos);
  }
  return Status::Ok();
}

Status ZstdDecompressor::Finish() const {
  if (frame_open_) return InvalidArgument("the zstd data ends in the middle of a frame");
  return Status::Ok();
}

ZstdCompressor::ZstdCompressor() : state_(std::make_unique<State>()) {
  ZSTD_CCtx_setParameter(state_->context, ZSTD_c_compressionLevel, 1);
}
ZstdCompressor::~ZstdCompressor() = default;

Status ZstdCompressor::Feed(std::string_view input, bool last, std::string* output) {
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  char buffer[64 * 1024];
  ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
  while (true) {
    ZSTD_outBuffer out{buffer, sizeof(buffer), 0};
    size_t remaining = ZSTD_compressStream2(state_->context, &out, &in, mode);
    if (ZSTD_isError(remaining)) {
      return Internal(std::string("zstd compression failed: ") + ZSTD_getErrorName(remaining));
    }
    output->append(buffer, out.pos);
    if (last ? remaining == 0 : in.pos == in.size) break;
  }
  return Status::Ok();
}

}  // namespace cairn::server
