// Fuzzes LineForOffset (debugpod/runtimes/python/line_table.h): CPython code objects' line tables
// come from the target's memory. Every input must give a line or a status: no read past the
// table, no overflow (the fuzz build runs UBSan), one pass over the bytes.
//
// Input: byte 0 picks the format (mod 3); bytes 1-4 the first line, 5-8 the byte offset (both
// little-endian, signed); the rest is the table.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "debugpod/runtimes/python/line_table.h"

namespace python = ephemera::runtimes::python;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  constexpr python::LineTableFormat kFormats[] = {python::LineTableFormat::kLnotab,
                                                  python::LineTableFormat::kLineTable310,
                                                  python::LineTableFormat::kLocationTable};
  int32_t first_line = 0;
  int32_t offset = 0;
  std::memcpy(&first_line, data + 1, 4);
  std::memcpy(&offset, data + 5, 4);
  (void)python::LineForOffset(kFormats[data[0] % 3], std::span<const uint8_t>(data + 9, size - 9),
                              first_line, offset);
  return 0;
}
