#include "cli/report/printable.h"

#include <array>
#include <cstdio>

namespace ephemera::report {
namespace {

void AppendHexEscape(std::string& out, unsigned value, const char* prefix, int digits) {
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%s%0*X", prefix, digits, value);
  out += buf.data();
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) {
      AppendHexEscape(out, byte, "\\x", 2);
      continue;
    }
    if (byte == 0xc2 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) {  // U+0080..U+009F, the C1 controls (CSI is U+009B)
        AppendHexEscape(out, next, "\\u", 4);
        ++i;
        continue;
      }
    }
    if (byte == 0xe2 && i + 2 < text.size()) {
      auto b1 = static_cast<unsigned char>(text[i + 1]);
      auto b2 = static_cast<unsigned char>(text[i + 2]);
      bool embedding = b1 == 0x80 && b2 >= 0xaa && b2 <= 0xae;  // U+202A..U+202E
      bool isolate = b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9;    // U+2066..U+2069
      if (embedding || isolate) {
        unsigned code_point = ((byte & 0x0fU) << 12) | ((b1 & 0x3fU) << 6) | (b2 & 0x3fU);
        AppendHexEscape(out, code_point, "\\u", 4);
        i += 2;
        continue;
      }
    }
    out += static_cast<char>(byte);
  }
  return out;
}

}  // namespace ephemera::report
