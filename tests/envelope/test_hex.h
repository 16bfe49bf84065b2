// Hex helpers shared by the envelope tests.
#ifndef EPHEMERA_TESTS_ENVELOPE_TEST_HEX_H_
#define EPHEMERA_TESTS_ENVELOPE_TEST_HEX_H_

#include <string>
#include <string_view>

namespace ephemera::envelope {

inline std::string FromHex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

inline std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(kDigits[static_cast<unsigned char>(c) & 15]);
  }
  return out;
}

}  // namespace ephemera::envelope

#endif  // EPHEMERA_TESTS_ENVELOPE_TEST_HEX_H_
