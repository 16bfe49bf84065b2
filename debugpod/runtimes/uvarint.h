// ReadUvarint: an unsigned LEB128 varint (Go's encoding/binary.Uvarint), as Go's buildinfo and
// pclntab pcvalue tables store them. Pure; thread-safe.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_UVARINT_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_UVARINT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace ephemera::runtimes {

// The varint at `pos` in `bytes`, at most `max_bytes` long (10 holds any uint64_t); advances `pos`
// past it. nullopt, `pos` unspecified, if it runs past `bytes` or past `max_bytes`.
inline std::optional<uint64_t> ReadUvarint(std::span<const uint8_t> bytes, size_t& pos,
                                           size_t max_bytes = 10) {
  uint64_t value = 0;
  for (size_t i = 0; i < max_bytes && i < 10; ++i) {
    if (pos >= bytes.size()) return std::nullopt;
    uint8_t b = bytes[pos++];
    value |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) return value;
  }
  return std::nullopt;
}

}  // namespace ephemera::runtimes

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_UVARINT_H_
