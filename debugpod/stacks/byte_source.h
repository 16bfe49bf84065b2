// ByteSource: random-access reads of a file-like object (an ELF image), so ELF parsing never needs
// the whole file in memory and tests can parse images held in memory.
#ifndef EPHEMERA_DEBUGPOD_STACKS_BYTE_SOURCE_H_
#define EPHEMERA_DEBUGPOD_STACKS_BYTE_SOURCE_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace ephemera::stacks {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t Size() const = 0;
  // Fills `out` with the bytes at [offset, offset + out.size()). OutOfRange-style requests (past
  // the end) return DataLoss; I/O failures return Unavailable with the errno name.
  virtual Status ReadAt(uint64_t offset, std::span<uint8_t> out) const = 0;
};

// Serves bytes it borrows; the caller keeps them alive. Thread-safe.
class MemoryByteSource final : public ByteSource {
 public:
  explicit MemoryByteSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t Size() const override { return bytes_.size(); }
  Status ReadAt(uint64_t offset, std::span<uint8_t> out) const override {
    if (offset > bytes_.size() || bytes_.size() - offset < out.size()) {
      return DataLossError("read past the end of the image");
    }
    if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
    return OkStatus();
  }

 private:
  std::span<const uint8_t> bytes_;
};

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_BYTE_SOURCE_H_
