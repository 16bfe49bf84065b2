#include "debugpod/runtimes/python/line_table.h"

#include <limits>

namespace ephemera::runtimes::python {
namespace {

constexpr int64_t kMinLine = std::numeric_limits<int>::min();
constexpr int64_t kMaxLine = std::numeric_limits<int>::max();

// Every loop below consumes at least one byte of `table` per turn, so each is bounded by its size.

StatusOr<int> CheckedLine(int64_t line) {
  if (line < kMinLine || line > kMaxLine) {
    return InvalidArgumentError("line table: line number out of range");
  }
  return static_cast<int>(line);
}

// 3.9: bytes (address increment, signed line increment); the line of an address is the sum of
// the increments of every pair whose cumulative address does not exceed it. A trailing odd byte
// is ignored, as CPython ignores it.
StatusOr<int> LineFromLnotab(std::span<const uint8_t> table, int64_t line, int64_t offset) {
  int64_t address = 0;
  for (size_t i = 0; i + 1 < table.size(); i += 2) {
    address += table[i];
    if (address > offset) break;
    line += static_cast<int8_t>(table[i + 1]);
  }
  return CheckedLine(line);
}

// 3.10: bytes (end increment, signed line increment); each pair ends a range [start, end) whose
// line is the running line after the increment, or none when the increment is -128.
StatusOr<int> LineFromLineTable310(std::span<const uint8_t> table, int64_t line, int64_t offset) {
  int64_t start = 0;
  for (size_t i = 0; i + 1 < table.size(); i += 2) {
    const int64_t end = start + table[i];
    const auto delta = static_cast<int8_t>(table[i + 1]);
    const bool has_line = delta != -128;
    if (has_line) line += delta;
    if (line < kMinLine || line > kMaxLine) return CheckedLine(line);
    if (offset < end) return has_line ? CheckedLine(line) : StatusOr<int>(0);
    start = end;
  }
  return 0;
}

// Location-table varints: 6-bit groups, least significant first, 0x40 = another group follows.
StatusOr<uint32_t> ReadVarint(std::span<const uint8_t> table, size_t& pos) {
  uint64_t value = 0;
  for (int shift = 0; shift < 36; shift += 6) {
    if (pos >= table.size()) return DataLossError("location table: varint cut off by the end");
    const uint8_t byte = table[pos++];
    value |= static_cast<uint64_t>(byte & 0x3f) << shift;
    if ((byte & 0x40) == 0) {
      if (value > std::numeric_limits<uint32_t>::max()) break;
      return static_cast<uint32_t>(value);
    }
  }
  return DataLossError("location table: varint longer than 32 bits");
}

// 3.11+: an entry starts with a byte whose bit 7 is set; bits 3-6 are the form (code), bits 0-2
// the number of code units covered minus one. The forms that move the line: 13 (no columns) and
// 14 (long) start with a signed varint line delta; 10-12 move it by code - 10; 0-9 (short) keep
// it; 15 means "no location" and keeps it. What follows the line delta (columns, end line) does
// not matter here: the next entry starts at the next byte with bit 7 set.
StatusOr<int> LineFromLocationTable(std::span<const uint8_t> table, int64_t line, int64_t offset) {
  const int64_t unit = offset / 2;  // code units are two bytes
  int64_t start = 0;
  size_t pos = 0;
  while (pos < table.size()) {
    const uint8_t header = table[pos];
    if ((header & 0x80) == 0) return DataLossError("location table: entry without a start bit");
    ++pos;
    const int code = (header >> 3) & 0x0f;
    const int64_t end = start + (header & 0x07) + 1;
    int64_t delta = 0;
    if (code == 13 || code == 14) {
      StatusOr<uint32_t> raw = ReadVarint(table, pos);
      if (!raw.ok()) return raw.status();
      const int64_t magnitude = *raw >> 1;
      delta = (*raw & 1) != 0 ? -magnitude : magnitude;
    } else if (code >= 10 && code <= 12) {
      delta = code - 10;
    }
    line += delta;
    if (line < kMinLine || line > kMaxLine) return CheckedLine(line);
    if (unit < end) return code == 15 ? StatusOr<int>(0) : CheckedLine(line);
    while (pos < table.size() && (table[pos] & 0x80) == 0) ++pos;
    start = end;
  }
  return 0;
}

}  // namespace

StatusOr<int> LineForOffset(LineTableFormat format, std::span<const uint8_t> table, int first_line,
                            int64_t byte_offset) {
  if (byte_offset < 0) return first_line;
  switch (format) {
    case LineTableFormat::kLnotab:
      return LineFromLnotab(table, first_line, byte_offset);
    case LineTableFormat::kLineTable310:
      return LineFromLineTable310(table, first_line, byte_offset);
    case LineTableFormat::kLocationTable:
      return LineFromLocationTable(table, first_line, byte_offset);
  }
  return InvalidArgumentError("line table: unknown format");
}

}  // namespace ephemera::runtimes::python
