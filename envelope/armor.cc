// ASCII armor of age files (age spec, "ASCII armor"; RFC 7468 strict encoding).
#include <string>
#include <string_view>

#include "envelope/envelope.h"
#include "envelope/primitives.h"

namespace ephemera::envelope {
namespace {

constexpr size_t kArmorColumns = 64;
constexpr size_t kArmorBytesPerLine = kArmorColumns / 4 * 3;

bool IsArmorWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Splits the next line off `*rest`, accepting LF or CRLF endings. False when no LF is left.
bool TakeLine(std::string_view* rest, std::string_view* line) {
  const size_t lf = rest->find('\n');
  if (lf == std::string_view::npos) return false;
  *line = rest->substr(0, lf);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  rest->remove_prefix(lf + 1);
  return true;
}

}  // namespace

std::string Armor(std::string_view binary) {
  std::string out;
  out.reserve(kArmorBegin.size() + kArmorEnd.size() + 2 +
              (binary.size() / kArmorBytesPerLine + 1) * (kArmorColumns + 1));
  out.append(kArmorBegin);
  out.push_back('\n');
  for (size_t i = 0; i < binary.size(); i += kArmorBytesPerLine) {
    out.append(Base64PaddedEncode(binary.substr(i, kArmorBytesPerLine)));
    out.push_back('\n');
  }
  out.append(kArmorEnd);
  out.push_back('\n');
  return out;
}

StatusOr<std::string> Dearmor(std::string_view armored) {
  size_t start = 0;
  while (start < armored.size() && IsArmorWhitespace(armored[start])) ++start;
  size_t end = armored.size();
  while (end > start && IsArmorWhitespace(armored[end - 1])) --end;
  std::string_view rest = armored.substr(start, end - start);
  if (rest.substr(0, kArmorBegin.size()) != kArmorBegin) {
    return InvalidArgumentError("not an armored age file: missing \"" + std::string(kArmorBegin) +
                                "\"");
  }
  // `rest` now ends with the END line, whose line ending the trim removed.
  std::string_view line;
  if (!TakeLine(&rest, &line) || line != kArmorBegin) {
    return DataLossError("armor: malformed BEGIN line or truncated");
  }
  std::string binary;
  bool saw_last_line = false;
  while (TakeLine(&rest, &line)) {
    if (line == kArmorEnd) {
      return DataLossError("armor: text after the END line (only whitespace may follow it)");
    }
    if (saw_last_line) return DataLossError("armor: base64 line after the final short line");
    if (line.empty() || line.size() > kArmorColumns) {
      return DataLossError("armor: base64 line not 1 to 64 columns");
    }
    if (line.size() % 4 != 0) return DataLossError("armor: base64 line length not a multiple of 4");
    // Only the last line may be short or padded; Base64PaddedDecode rejects '=' elsewhere.
    if (line.size() < kArmorColumns || line.back() == '=') saw_last_line = true;
    StatusOr<std::string> bytes = Base64PaddedDecode(line);
    if (!bytes.ok()) return DataLossError("armor: " + bytes.status().message());
    binary.append(*bytes);
  }
  if (rest != kArmorEnd) {
    return DataLossError("armor: missing END line (truncated) or data after it");
  }
  return binary;
}

}  // namespace ephemera::envelope
