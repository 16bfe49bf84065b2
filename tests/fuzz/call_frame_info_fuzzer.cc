// Fuzzes CallFrameInfo (debugpod/stacks/call_frame_info.h): CIE/FDE parsing and indexing of
// .eh_frame (with an .eh_frame_hdr search table) and .debug_frame, the CFA programs FindRow runs,
// and StepWithCfi over the rows found, with registers and a stack copy taken from the input.
//
// Input: byte 0 picks the format (bit 0: .debug_frame) and whether bytes follow for a search
// table (bit 1); bytes 1-2 give the search table's length; bytes 3-10 and 11-18 the section's and
// the table's ELF addresses (so seeds cut from real files keep their pc-relative pointers); then
// the search table, then the section. The last 64 bytes double as the stack copy.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "debugpod/stacks/call_frame_info.h"
#include "debugpod/stacks/machine_state.h"
#include "debugpod/stacks/unwinder.h"

namespace stacks = ephemera::stacks;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kHeader = 19;
  if (size < kHeader) return 0;
  const bool debug_frame = (data[0] & 1) != 0;
  size_t table_size = (data[0] & 2) != 0 ? (data[1] | (size_t{data[2]} << 8)) : 0;
  uint64_t section_vaddr;
  uint64_t table_vaddr;
  std::memcpy(&section_vaddr, data + 3, sizeof section_vaddr);
  std::memcpy(&table_vaddr, data + 11, sizeof table_vaddr);
  const uint8_t* rest = data + kHeader;
  size_t rest_size = size - kHeader;
  if (table_size > rest_size) table_size = rest_size;
  std::vector<uint8_t> table(rest, rest + table_size);
  std::vector<uint8_t> section(rest + table_size, rest + rest_size);

  stacks::CallFrameInfo cfi = stacks::CallFrameInfo::Create(
      debug_frame ? stacks::CfiFormat::kDebugFrame : stacks::CfiFormat::kEhFrame, section,
      section_vaddr, table, table_vaddr);

  stacks::StackSlice stack;
  stack.base = 0x7ffc0000;
  const size_t stack_bytes = size < 64 ? size : 64;
  stack.bytes.assign(data + size - stack_bytes, data + size);
  stacks::RegisterSet registers;
  for (int reg = 0; reg < stacks::kNumRegisters; ++reg) {
    registers.Set(reg, stack.base + 8 * static_cast<uint64_t>(reg % 8));
  }

  // pcs: small addresses (what hand-made FDEs cover), the section's start, and the input's words
  // read back as pointers the way the encodings do (absolute, and 4-byte offsets from the
  // search table or the field: the FDEs' own initial locations).
  std::vector<uint64_t> pcs = {0, 1, 0x1000, 0x1001, 0x1010, 0x1100, section_vaddr, ~uint64_t{0}};
  for (size_t i = kHeader; i + 8 <= size && pcs.size() < 256; i += 4) {
    uint64_t word;
    int32_t offset;
    std::memcpy(&word, data + i, sizeof word);
    std::memcpy(&offset, data + i, sizeof offset);
    pcs.push_back(word);
    pcs.push_back(table_vaddr + static_cast<uint64_t>(int64_t{offset}));
    pcs.push_back(section_vaddr + (i - kHeader - table_size) +
                  static_cast<uint64_t>(int64_t{offset}));
  }
  for (uint64_t pc : pcs) {
    ephemera::StatusOr<stacks::UnwindRow> row = cfi.FindRow(pc);
    if (!row.ok()) continue;
    registers.Set(stacks::kRegRip, pc);
    (void)stacks::StepWithCfi(*row, registers, stack);
  }
  return 0;
}
