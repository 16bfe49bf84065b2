// Line tables of CPython code objects: which source line the instruction at a byte offset of the
// bytecode belongs to. Three formats, each documented by CPython itself:
//   3.9   co_lnotab     (Objects/lnotab_notes.txt of 3.9): pairs (address delta, line delta).
//   3.10  co_linetable  (Objects/lnotab_notes.txt of 3.10): pairs (end delta, line delta), the
//                       line delta -128 meaning "no line" for that range.
//   3.11+ co_linetable  (Objects/locations.md): the location table, entries of one header byte and
//                       variable-length varints, each covering 1–8 code units.
// The table bytes come from the target's memory and are hostile: the decoders never read past
// the span, stop after one pass over it, and report malformed input as an error. Pure.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_LINE_TABLE_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_LINE_TABLE_H_

#include <cstdint>
#include <span>

#include "base/status.h"

namespace ephemera::runtimes::python {

enum class LineTableFormat {
  kLnotab,         // 3.9 co_lnotab
  kLineTable310,   // 3.10 co_linetable
  kLocationTable,  // 3.11, 3.12, 3.13 co_linetable
};

// The line of the instruction at `byte_offset` into the code object's bytecode (3.9: f_lasti;
// 3.10: f_lasti * 2; 3.11+: (instruction pointer - start of co_code_adaptive)), counted from
// `first_line` (co_firstlineno). A negative offset (a frame that has not started) gives
// `first_line`, as PyCode_Addr2Line does. 0 when the table says the instruction has no line
// (3.10+), or when the offset lies past the table's end. DataLoss when the table is malformed
// (an entry cut off by the end of the span, a varint longer than 32 bits); InvalidArgument for a
// line that does not fit an int.
StatusOr<int> LineForOffset(LineTableFormat format, std::span<const uint8_t> table, int first_line,
                            int64_t byte_offset);

}  // namespace ephemera::runtimes::python

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_PYTHON_LINE_TABLE_H_
