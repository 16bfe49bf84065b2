// Hex: an address or other value as the runtime readers' problem lines and errors print it,
// "0x7f3a1c0b7e00". Pure; thread-safe.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_HEX_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_HEX_H_

#include <charconv>
#include <cstdint>
#include <string>

namespace ephemera::runtimes {

// "0x" and the lower-case hex digits of `value`, without leading zeros ("0x0" for 0).
inline std::string Hex(uint64_t value) {
  char digits[16];
  auto [end, error] = std::to_chars(digits, digits + sizeof digits, value, 16);
  (void)error;  // 16 digits always fit a uint64_t
  return "0x" + std::string(digits, end);
}

}  // namespace ephemera::runtimes

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_HEX_H_
