// Call-frame information (DWARF CFI) for one ELF module: locating the FDE that covers a pc and
// running its CIE and FDE programs to the row that applies there (DWARF 5 section 6.4; the
// .eh_frame variant from the LSB Core specification). Handles .eh_frame (with or without
// .eh_frame_hdr's search table) and .debug_frame (what Go's linker emits), augmentations "z", "R",
// "P", "L", "S", and the DW_CFA_* operations gcc, clang, rustc and Go emit for x86-64. Pure; all
// addresses are ELF virtual addresses of the module (before any load bias).
#ifndef EPHEMERA_DEBUGPOD_STACKS_CALL_FRAME_INFO_H_
#define EPHEMERA_DEBUGPOD_STACKS_CALL_FRAME_INFO_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "debugpod/stacks/machine_state.h"

namespace ephemera::stacks {

struct CfaRule {
  enum class Kind { kRegisterOffset, kExpression };
  Kind kind = Kind::kRegisterOffset;
  int reg = kRegRsp;
  int64_t offset = 0;
  std::span<const uint8_t> expression;  // borrowed from the CallFrameInfo that produced the row
};

struct RegisterRule {
  enum class Kind {
    kSameValue,      // the caller's value is this frame's value
    kUndefined,      // not recoverable (for the return address: the outermost frame)
    kOffset,         // saved at CFA + offset
    kValOffset,      // the value is CFA + offset
    kRegister,       // in register `reg`
    kExpression,     // saved at the address `expression` computes (CFA pushed first)
    kValExpression,  // the value `expression` computes (CFA pushed first)
  };
  Kind kind = Kind::kSameValue;
  int64_t offset = 0;
  int reg = 0;
  std::span<const uint8_t> expression;
};

// How to recover the caller's registers at one pc. Rules for registers beyond the general-purpose
// set (vector registers) are dropped.
struct UnwindRow {
  CfaRule cfa;
  std::array<RegisterRule, kNumRegisters> registers{};
  int return_address_register = kRegRip;
  bool signal_frame =
      false;              // CIE augmentation "S": the caller's pc is exact, not a return address
  uint64_t pc_begin = 0;  // the FDE's range
  uint64_t pc_end = 0;
};

enum class CfiFormat { kEhFrame, kDebugFrame };

class CallFrameInfo {
 public:
  // Takes the section bytes and the ELF address of their first byte. `search_table` is the
  // .eh_frame_hdr section (may be empty; ignored for .debug_frame). Indexes the FDEs up front:
  // through the .eh_frame_hdr table when it is present and well-formed, otherwise by scanning the
  // section.
  static CallFrameInfo Create(CfiFormat format, std::vector<uint8_t> section, uint64_t vaddr,
                              std::vector<uint8_t> search_table = {},
                              uint64_t search_table_vaddr = 0);

  // The row for `pc`. NotFound when no FDE covers pc; DataLoss when the CFI is malformed;
  // InvalidArgument for operations it does not support. The row borrows expression bytes from
  // *this.
  StatusOr<UnwindRow> FindRow(uint64_t pc) const;

  // Number of FDEs indexed by scanning (0 when the .eh_frame_hdr table is used instead).
  size_t ScannedFdeCount() const { return index_.size(); }
  bool UsesSearchTable() const { return table_count_ > 0; }
  bool IsEmpty() const { return section_.empty(); }
  // Heap bytes held: the section, the search table and the FDE index.
  size_t MemoryBytes() const {
    return section_.capacity() + search_table_.capacity() + index_.capacity() * sizeof(IndexEntry);
  }

 private:
  struct IndexEntry {
    uint64_t pc_begin;
    uint64_t pc_end;
    size_t offset;  // of the FDE within section_
  };
  struct Cie;
  struct Fde;

  CallFrameInfo() = default;
  void BuildIndexFromSearchTable();
  void BuildIndexByScanning();
  StatusOr<Cie> ParseCie(size_t offset) const;
  // Parses the FDE at `offset` (and its CIE). NotFound if the entry there is a CIE or a terminator.
  StatusOr<Fde> ParseFde(size_t offset) const;
  StatusOr<UnwindRow> RunPrograms(const Fde& fde, uint64_t pc) const;

  CfiFormat format_ = CfiFormat::kEhFrame;
  std::vector<uint8_t> section_;
  uint64_t vaddr_ = 0;
  std::vector<uint8_t> search_table_;
  uint64_t search_table_vaddr_ = 0;
  // The .eh_frame_hdr binary-search table: entry count, first-entry offset, encoding, entry size.
  size_t table_count_ = 0;
  size_t table_offset_ = 0;
  uint8_t table_encoding_ = 0;
  size_t table_entry_size_ = 0;
  std::vector<IndexEntry> index_;  // sorted by pc_begin
};

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_CALL_FRAME_INFO_H_
