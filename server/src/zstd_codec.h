// zstd_codec.h — zstd for REAPI's compressed blobs (Compressor.ZSTD).
//
// Whole-buffer forms for batches, and streaming forms for ByteStream so a
// large blob never sits in memory whole. Sizes are bounded by the caller:
// a decompressed stream that grows past the size its digest promises is an
// error, never a memory bomb.
#ifndef CAIRN_SERVER_ZSTD_CODEC_H
#define CAIRN_SERVER_ZSTD_CODEC_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/status.h"

namespace cairn::server {

std::string ZstdCompress(std::string_view data);
// INVALID_ARGUMENT when `data` is not a zstd frame or does not decompress
// to exactly `expected_size` bytes.
StatusOr<std::string> ZstdDecompress(std::string_view data, uint64_t expected_size);

// Decompresses chunk by chunk (ByteStream Write of compressed-blobs).
class ZstdDecompressor {
 public:
  // `limit`: the most bytes the output may grow to.
  explicit ZstdDecompressor(uint64_t limit);
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  // Appends the bytes `input` decompresses to to *output.
  Status Feed(std::string_view input, std::string* output);
  // OK when the frames seen so far ended cleanly.
  Status Finish() const;
  uint64_t produced() const { return produced_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  uint64_t limit_;
  uint64_t produced_ = 0;
  bool frame_open_ = false;
};

// Compresses chunk by chunk (ByteStream Read of compressed-blobs).
class ZstdCompressor {
 public:
  ZstdCompressor();
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Appends compressed bytes of `input` to *output; `last` ends the frame.
  Status Feed(std::string_view input, bool last, std::string* output);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace cairn::server

#endif  // CAIRN_SERVER_ZSTD_CODEC_H
