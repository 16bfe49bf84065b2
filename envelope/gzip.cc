#include "envelope/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <climits>
#include <string>

namespace ephemera::envelope {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip wrapper
constexpr size_t kBufferBytes = size_t{64} * 1024;
constexpr size_t kMaxFeedBytes = UINT_MAX;  // zlib counts in uInt

// Ends the z_stream on every return path.
class DeflateStream {
 public:
  DeflateStream() = default;
  DeflateStream(const DeflateStream&) = delete;
  DeflateStream& operator=(const DeflateStream&) = delete;
  ~DeflateStream() {
    if (initialized_) deflateEnd(&stream_);
  }
  bool Init() {
    initialized_ = deflateInit2(&stream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, 8,
                                Z_DEFAULT_STRATEGY) == Z_OK;
    return initialized_;
  }
  z_stream* Stream() { return &stream_; }

 private:
  z_stream stream_{};
  bool initialized_ = false;
};

class InflateStream {
 public:
  InflateStream() = default;
  InflateStream(const InflateStream&) = delete;
  InflateStream& operator=(const InflateStream&) = delete;
  ~InflateStream() {
    if (initialized_) inflateEnd(&stream_);
  }
  bool Init() {
    initialized_ = inflateInit2(&stream_, kGzipWindowBits) == Z_OK;
    return initialized_;
  }
  z_stream* Stream() { return &stream_; }

 private:
  z_stream stream_{};
  bool initialized_ = false;
};

}  // namespace

StatusOr<std::string> GzipCompress(std::string_view data) {
  DeflateStream deflater;
  if (!deflater.Init()) return InternalError("zlib deflateInit2 failed");
  z_stream* zs = deflater.Stream();
  std::string out;
  out.reserve(data.size() / 4 + 64);
  char buffer[kBufferBytes];
  size_t fed = 0;
  int ret = Z_OK;
  while (ret != Z_STREAM_END) {
    if (zs->avail_in == 0 && fed < data.size()) {
      const size_t n = std::min(kMaxFeedBytes, data.size() - fed);
      zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + fed));
      zs->avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs->next_out = reinterpret_cast<Bytef*>(buffer);
    zs->avail_out = sizeof(buffer);
    ret = deflate(zs, fed == data.size() ? Z_FINISH : Z_NO_FLUSH);
    if (ret == Z_STREAM_ERROR) return InternalError("zlib deflate failed");
    out.append(buffer, sizeof(buffer) - zs->avail_out);
  }
  return out;
}

StatusOr<std::string> GzipDecompress(std::string_view gzip, size_t max_output_bytes) {
  InflateStream inflater;
  if (!inflater.Init()) return InternalError("zlib inflateInit2 failed");
  z_stream* zs = inflater.Stream();
  std::string out;
  char buffer[kBufferBytes];
  size_t fed = 0;
  while (true) {
    if (zs->avail_in == 0 && fed < gzip.size()) {
      const size_t n = std::min(kMaxFeedBytes, gzip.size() - fed);
      zs->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gzip.data() + fed));
      zs->avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs->next_out = reinterpret_cast<Bytef*>(buffer);
    zs->avail_out = sizeof(buffer);
    const int ret = inflate(zs, Z_NO_FLUSH);
    const size_t produced = sizeof(buffer) - zs->avail_out;
    if (produced > max_output_bytes - out.size()) {
      return ResourceExhaustedError("decompressed size exceeds the cap of " +
                                    std::to_string(max_output_bytes) + " bytes");
    }
    out.append(buffer, produced);
    if (ret == Z_STREAM_END) {
      if (zs->avail_in != 0 || fed != gzip.size()) {
        return DataLossError("trailing bytes after the gzip stream");
      }
      return out;
    }
    if (ret == Z_NEED_DICT || ret == Z_DATA_ERROR) return DataLossError("corrupt gzip stream");
    if (ret == Z_MEM_ERROR) return ResourceExhaustedError("zlib out of memory");
    if (ret == Z_BUF_ERROR || (ret == Z_OK && produced == 0 && zs->avail_in == 0)) {
      if (zs->avail_in == 0 && fed == gzip.size()) return DataLossError("truncated gzip stream");
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) return DataLossError("corrupt gzip stream");
  }
}

}  // namespace ephemera::envelope
