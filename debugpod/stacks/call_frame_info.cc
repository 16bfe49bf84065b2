#include "debugpod/stacks/call_frame_info.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>

#include "debugpod/stacks/byte_reader.h"

namespace ephemera::stacks {

struct CallFrameInfo::Cie {
  uint64_t code_alignment = 1;
  int64_t data_alignment = 1;
  int return_address_register = kRegRip;
  uint8_t fde_encoding = kPeAbsptr;
  uint8_t address_size = 8;
  bool has_augmentation_data = false;
  bool signal_frame = false;
  size_t instructions_begin = 0;  // offsets in section_
  size_t instructions_end = 0;
};

struct CallFrameInfo::Fde {
  Cie cie;
  uint64_t pc_begin = 0;
  uint64_t pc_end = 0;
  size_t instructions_begin = 0;
  size_t instructions_end = 0;
};

namespace {

constexpr size_t kMaxIndexedFdes = size_t{1} << 22;
constexpr size_t kMaxRememberedStates = 64;
constexpr size_t kMaxCfaOperations = 1 << 16;
constexpr size_t kMaxCieHeaderBytes = 256;

// factored * alignment, the way DW_CFA_*_sf and DW_CFA_offset scale their operands; nullopt when
// the product does not fit in int64_t (only hostile CFI gets there, and signed overflow is UB).
std::optional<int64_t> Scaled(int64_t factored, int64_t alignment) {
  int64_t out = 0;
  if (__builtin_mul_overflow(factored, alignment, &out)) return std::nullopt;
  return out;
}

// An unsigned LEB128 operand used as a signed offset; nullopt past INT64_MAX.
std::optional<int64_t> AsSigned(uint64_t value) {
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(value);
}

// DW_CFA_* opcodes (DWARF 5 section 7.24, plus the GNU extensions).
enum : uint8_t {
  kCfaAdvanceLoc = 0x40,  // high two bits
  kCfaOffset = 0x80,
  kCfaRestore = 0xc0,
  kCfaNop = 0x00,
  kCfaSetLoc = 0x01,
  kCfaAdvanceLoc1 = 0x02,
  kCfaAdvanceLoc2 = 0x03,
  kCfaAdvanceLoc4 = 0x04,
  kCfaOffsetExtended = 0x05,
  kCfaRestoreExtended = 0x06,
  kCfaUndefined = 0x07,
  kCfaSameValue = 0x08,
  kCfaRegister = 0x09,
  kCfaRememberState = 0x0a,
  kCfaRestoreState = 0x0b,
  kCfaDefCfa = 0x0c,
  kCfaDefCfaRegister = 0x0d,
  kCfaDefCfaOffset = 0x0e,
  kCfaDefCfaExpression = 0x0f,
  kCfaExpression = 0x10,
  kCfaOffsetExtendedSf = 0x11,
  kCfaDefCfaSf = 0x12,
  kCfaDefCfaOffsetSf = 0x13,
  kCfaValOffset = 0x14,
  kCfaValOffsetSf = 0x15,
  kCfaValExpression = 0x16,
  kCfaMipsAdvanceLoc8 = 0x1d,
  kCfaGnuArgsSize = 0x2e,
  kCfaGnuNegativeOffsetExtended = 0x2f,
};

struct EntryHeader {
  bool terminator = false;
  bool is_cie = false;
  size_t id_offset = 0;  // where the CIE id / CIE pointer field starts
  uint64_t id = 0;
  size_t content = 0;  // first byte after the id field
  size_t end = 0;      // one past the entry
};

// What the CFA and register rules are at one point of a program.
struct RuleState {
  CfaRule cfa;
  std::array<RegisterRule, kNumRegisters> registers{};
};

size_t FixedEncodingSize(uint8_t encoding) {
  switch (encoding & 0x0f) {
    case kPeUdata2:
    case kPeSdata2:
      return 2;
    case kPeUdata4:
    case kPeSdata4:
      return 4;
    case kPeAbsptr:
    case kPeUdata8:
    case kPeSdata8:
      return 8;
    default:
      return 0;
  }
}

StatusOr<EntryHeader> ReadEntryHeader(std::span<const uint8_t> section, size_t offset,
                                      CfiFormat format) {
  ByteReader in(section);
  in.Seek(offset);
  EntryHeader h;
  uint64_t length = in.U32();
  bool is64 = false;
  if (length == 0xffffffffu) {
    length = in.U64();
    is64 = true;
  }
  if (!in.Ok()) return DataLossError("CFI entry header truncated");
  if (length == 0) {
    h.terminator = true;
    h.end = in.Position();
    return h;
  }
  if (length > in.Remaining()) return DataLossError("CFI entry runs past the section");
  h.end = in.Position() + static_cast<size_t>(length);
  h.id_offset = in.Position();
  h.id = is64 ? in.U64() : in.U32();
  h.content = in.Position();
  if (!in.Ok() || h.content > h.end) return DataLossError("CFI entry truncated");
  if (format == CfiFormat::kEhFrame) {
    h.is_cie = h.id == 0;
  } else {
    h.is_cie = is64 ? h.id == ~uint64_t{0} : h.id == 0xffffffffu;
  }
  return h;
}

}  // namespace

CallFrameInfo CallFrameInfo::Create(CfiFormat format, std::vector<uint8_t> section, uint64_t vaddr,
                                    std::vector<uint8_t> search_table,
                                    uint64_t search_table_vaddr) {
  CallFrameInfo cfi;
  cfi.format_ = format;
  cfi.section_ = std::move(section);
  cfi.vaddr_ = vaddr;
  if (format == CfiFormat::kEhFrame) {
    cfi.search_table_ = std::move(search_table);
    cfi.search_table_vaddr_ = search_table_vaddr;
    cfi.BuildIndexFromSearchTable();
  }
  if (cfi.table_count_ == 0) cfi.BuildIndexByScanning();
  return cfi;
}

void CallFrameInfo::BuildIndexFromSearchTable() {
  if (search_table_.size() < 4) return;
  ByteReader in(search_table_, search_table_vaddr_);
  PointerBases bases{.data = search_table_vaddr_};
  uint8_t version = in.U8();
  uint8_t frame_pointer_encoding = in.U8();
  uint8_t count_encoding = in.U8();
  uint8_t table_encoding = in.U8();
  if (version != 1 || count_encoding == kPeOmit || table_encoding == kPeOmit) return;
  std::optional<uint64_t> frame_vaddr = in.EncodedPointer(frame_pointer_encoding, bases);
  std::optional<uint64_t> count = in.EncodedPointer(count_encoding, bases);
  size_t entry_size = 2 * FixedEncodingSize(table_encoding);
  if (!in.Ok() || !count || entry_size == 0 || (table_encoding & kPeIndirect)) return;
  if (frame_vaddr && *frame_vaddr != vaddr_) return;  // the table describes another section
  if (*count == 0 || *count > in.Remaining() / entry_size) return;
  table_count_ = static_cast<size_t>(*count);
  table_offset_ = in.Position();
  table_encoding_ = table_encoding;
  table_entry_size_ = entry_size;
}

void CallFrameInfo::BuildIndexByScanning() {
  size_t offset = 0;
  while (offset < section_.size() && index_.size() < kMaxIndexedFdes) {
    StatusOr<EntryHeader> header = ReadEntryHeader(section_, offset, format_);
    if (!header.ok()) break;
    size_t next = header->end;
    if (!header->terminator && !header->is_cie) {
      StatusOr<Fde> fde = ParseFde(offset);
      if (fde.ok() && fde->pc_end > fde->pc_begin) {
        index_.push_back({fde->pc_begin, fde->pc_end, offset});
      }
    }
    if (next <= offset) break;
    offset = next;
  }
  std::sort(index_.begin(), index_.end(),
            [](const IndexEntry& a, const IndexEntry& b) { return a.pc_begin < b.pc_begin; });
  index_.shrink_to_fit();
}

StatusOr<CallFrameInfo::Cie> CallFrameInfo::ParseCie(size_t offset) const {
  StatusOr<EntryHeader> header = ReadEntryHeader(section_, offset, format_);
  if (!header.ok()) return header.status();
  if (header->terminator || !header->is_cie) {
    return DataLossError("CIE pointer does not point at a CIE");
  }
  // The fields before a CIE's instructions take a few bytes in every real CIE. Reading them
  // through a window keeps this O(1) however large the entry is: every FDE parses its CIE again,
  // so a CIE-sized scan (an unterminated augmentation string, a long LEB128) per FDE would make
  // indexing quadratic in the section size.
  ByteReader in(std::span<const uint8_t>(section_).first(
                    std::min(header->end, header->content + kMaxCieHeaderBytes)),
                vaddr_);
  in.Seek(header->content);
  Cie cie;
  uint8_t version = in.U8();
  if (version != 1 && version != 3 && version != 4) {
    return InvalidArgumentError("unsupported CIE version " + std::to_string(version));
  }
  std::string_view augmentation = in.CString();
  if (version == 4) {
    cie.address_size = in.U8();
    in.U8();  // segment selector size
  }
  cie.code_alignment = in.Uleb128();
  cie.data_alignment = in.Sleb128();
  cie.return_address_register = version == 1 ? in.U8() : static_cast<int>(in.Uleb128());
  if (!in.Ok()) return DataLossError("CIE truncated");
  if (!augmentation.empty()) {
    if (augmentation[0] != 'z') {
      return InvalidArgumentError("unsupported CIE augmentation \"" + std::string(augmentation) +
                                  "\"");
    }
    cie.has_augmentation_data = true;
    uint64_t length = in.Uleb128();
    if (!in.Ok() || length > in.Remaining()) {
      return DataLossError("CIE augmentation data truncated");
    }
    size_t data_end = in.Position() + static_cast<size_t>(length);
    for (char c : augmentation.substr(1)) {
      if (c == 'R') {
        cie.fde_encoding = in.U8();
      } else if (c == 'L') {
        in.U8();  // LSDA encoding: only exception handling needs the LSDA
      } else if (c == 'P') {
        uint8_t encoding = in.U8();
        in.EncodedPointer(encoding, {});  // the personality routine: not needed to unwind
      } else if (c == 'S') {
        cie.signal_frame = true;
      } else if (c == 'B' || c == 'G') {
        // AArch64 key and MTE markers; no data.
      } else {
        break;  // unknown letter: the length lets us skip the rest
      }
    }
    if (!in.Ok() || in.Position() > data_end) {
      return DataLossError("CIE augmentation data malformed");
    }
    in.Seek(data_end);
  }
  if (cie.address_size != 8 && cie.address_size != 4) {
    return InvalidArgumentError("unsupported CIE address size");
  }
  cie.instructions_begin = in.Position();
  cie.instructions_end = header->end;
  return cie;
}

StatusOr<CallFrameInfo::Fde> CallFrameInfo::ParseFde(size_t offset) const {
  StatusOr<EntryHeader> header = ReadEntryHeader(section_, offset, format_);
  if (!header.ok()) return header.status();
  if (header->terminator || header->is_cie) return NotFoundError("not an FDE");
  size_t cie_offset = 0;
  if (format_ == CfiFormat::kEhFrame) {
    if (header->id > header->id_offset) return DataLossError("FDE points before the section");
    cie_offset = header->id_offset - static_cast<size_t>(header->id);
  } else {
    if (header->id >= section_.size()) return DataLossError("FDE points past the section");
    cie_offset = static_cast<size_t>(header->id);
  }
  StatusOr<Cie> cie = ParseCie(cie_offset);
  if (!cie.ok()) return cie.status();
  Fde fde;
  fde.cie = *cie;
  ByteReader in(std::span<const uint8_t>(section_).first(header->end), vaddr_);
  in.Seek(header->content);
  uint64_t begin = 0;
  uint64_t range = 0;
  if (format_ == CfiFormat::kEhFrame) {
    std::optional<uint64_t> b = in.EncodedPointer(cie->fde_encoding, {});
    std::optional<uint64_t> r =
        in.EncodedPointer(static_cast<uint8_t>(cie->fde_encoding & 0x0f), {});
    if (!b || !r) return DataLossError("FDE address range malformed");
    begin = *b;
    range = *r;
  } else if (cie->address_size == 8) {
    begin = in.U64();
    range = in.U64();
  } else {
    begin = in.U32();
    range = in.U32();
  }
  if (cie->has_augmentation_data) in.Skip(static_cast<size_t>(in.Uleb128()));
  if (!in.Ok()) return DataLossError("FDE truncated");
  fde.pc_begin = begin;
  fde.pc_end = begin + range;
  fde.instructions_begin = in.Position();
  fde.instructions_end = header->end;
  return fde;
}

StatusOr<UnwindRow> CallFrameInfo::FindRow(uint64_t pc) const {
  std::optional<size_t> fde_offset;
  if (table_count_ > 0) {
    PointerBases bases{.data = search_table_vaddr_};
    auto decode = [&](size_t i, int field) -> std::optional<uint64_t> {
      size_t at = table_offset_ + i * table_entry_size_ +
                  static_cast<size_t>(field) * (table_entry_size_ / 2);
      ByteReader in(search_table_, search_table_vaddr_);
      in.Seek(at);
      return in.EncodedPointer(table_encoding_, bases);
    };
    // Last entry whose initial location is <= pc.
    size_t lo = 0;
    size_t hi = table_count_;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      std::optional<uint64_t> start = decode(mid, 0);
      if (!start) return DataLossError(".eh_frame_hdr table entry malformed");
      if (*start <= pc) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == 0) return NotFoundError("no FDE covers the pc");
    std::optional<uint64_t> fde_vaddr = decode(lo - 1, 1);
    if (!fde_vaddr || *fde_vaddr < vaddr_ || *fde_vaddr - vaddr_ >= section_.size()) {
      return DataLossError(".eh_frame_hdr points outside .eh_frame");
    }
    fde_offset = static_cast<size_t>(*fde_vaddr - vaddr_);
  } else {
    auto it = std::upper_bound(index_.begin(), index_.end(), pc,
                               [](uint64_t p, const IndexEntry& e) { return p < e.pc_begin; });
    if (it == index_.begin()) return NotFoundError("no FDE covers the pc");
    --it;
    if (pc >= it->pc_end) return NotFoundError("no FDE covers the pc");
    fde_offset = it->offset;
  }
  StatusOr<Fde> fde = ParseFde(*fde_offset);
  if (!fde.ok()) return fde.status();
  if (pc < fde->pc_begin || pc >= fde->pc_end) return NotFoundError("no FDE covers the pc");
  return RunPrograms(*fde, pc);
}

StatusOr<UnwindRow> CallFrameInfo::RunPrograms(const Fde& fde, uint64_t pc) const {
  const Cie& cie = fde.cie;
  RuleState state;
  RuleState initial;
  std::vector<RuleState> remembered;
  uint64_t loc = fde.pc_begin;
  std::span<const uint8_t> bytes(section_);

  // Runs one program; returns true when it advanced past `pc` (the row is complete).
  auto run = [&](size_t begin, size_t end, bool is_cie) -> StatusOr<bool> {
    ByteReader in(bytes.first(end), vaddr_);
    in.Seek(begin);
    auto reg_rule = [&](uint64_t reg) -> RegisterRule* {
      return reg < static_cast<uint64_t>(kNumRegisters) ? &state.registers[reg] : nullptr;
    };
    auto advance = [&](uint64_t delta) {
      loc += delta * cie.code_alignment;
      return loc > pc;
    };
    for (size_t ops = 0; !in.AtEnd(); ++ops) {
      if (ops >= kMaxCfaOperations) return ResourceExhaustedError("CFA program too long");
      uint8_t op = in.U8();
      uint8_t high = op & 0xc0;
      uint8_t low = op & 0x3f;
      if (high == kCfaAdvanceLoc) {
        if (!is_cie && advance(low)) return true;
        continue;
      }
      if (high == kCfaOffset) {
        std::optional<int64_t> factored = AsSigned(in.Uleb128());
        std::optional<int64_t> offset =
            factored ? Scaled(*factored, cie.data_alignment) : std::nullopt;
        if (!offset) return DataLossError("DW_CFA_offset out of range");
        if (RegisterRule* r = reg_rule(low)) *r = {RegisterRule::Kind::kOffset, *offset, 0, {}};
        continue;
      }
      if (high == kCfaRestore) {
        if (RegisterRule* r = reg_rule(low)) *r = initial.registers[low];
        continue;
      }
      switch (op) {
        case kCfaNop:
          break;
        case kCfaSetLoc: {
          std::optional<uint64_t> target =
              format_ == CfiFormat::kEhFrame ? in.EncodedPointer(cie.fde_encoding, {})
              : cie.address_size == 8        ? std::optional<uint64_t>(in.U64())
                                             : std::optional<uint64_t>(in.U32());
          if (!target) return DataLossError("DW_CFA_set_loc malformed");
          loc = *target;
          if (!is_cie && loc > pc) return true;
          break;
        }
        case kCfaAdvanceLoc1:
          if (uint64_t d = in.U8(); !is_cie && advance(d)) return true;
          break;
        case kCfaAdvanceLoc2:
          if (uint64_t d = in.U16(); !is_cie && advance(d)) return true;
          break;
        case kCfaAdvanceLoc4:
          if (uint64_t d = in.U32(); !is_cie && advance(d)) return true;
          break;
        case kCfaMipsAdvanceLoc8:
          if (uint64_t d = in.U64(); !is_cie && advance(d)) return true;
          break;
        case kCfaOffsetExtended:
        case kCfaOffsetExtendedSf:
        case kCfaGnuNegativeOffsetExtended:
        case kCfaValOffset:
        case kCfaValOffsetSf: {
          uint64_t reg = in.Uleb128();
          std::optional<int64_t> factored;
          if (op == kCfaOffsetExtendedSf || op == kCfaValOffsetSf) {
            factored = in.Sleb128();
          } else if (op == kCfaGnuNegativeOffsetExtended) {
            factored = AsSigned(in.Uleb128());
            if (factored) factored = -*factored;
          } else {
            factored = AsSigned(in.Uleb128());
          }
          std::optional<int64_t> offset =
              factored ? Scaled(*factored, cie.data_alignment) : std::nullopt;
          if (!offset) return DataLossError("CFA register offset out of range");
          auto kind = (op == kCfaValOffset || op == kCfaValOffsetSf)
                          ? RegisterRule::Kind::kValOffset
                          : RegisterRule::Kind::kOffset;
          if (RegisterRule* r = reg_rule(reg)) *r = {kind, *offset, 0, {}};
          break;
        }
        case kCfaRestoreExtended: {
          uint64_t reg = in.Uleb128();
          if (RegisterRule* r = reg_rule(reg)) *r = initial.registers[reg];
          break;
        }
        case kCfaUndefined:
        case kCfaSameValue: {
          uint64_t reg = in.Uleb128();
          auto kind =
              op == kCfaUndefined ? RegisterRule::Kind::kUndefined : RegisterRule::Kind::kSameValue;
          if (RegisterRule* r = reg_rule(reg)) *r = {kind, 0, 0, {}};
          break;
        }
        case kCfaRegister: {
          uint64_t reg = in.Uleb128();
          uint64_t from = in.Uleb128();
          if (RegisterRule* r = reg_rule(reg)) {
            if (from >= static_cast<uint64_t>(kNumRegisters)) {
              *r = {RegisterRule::Kind::kUndefined, 0, 0, {}};
            } else {
              *r = {RegisterRule::Kind::kRegister, 0, static_cast<int>(from), {}};
            }
          }
          break;
        }
        case kCfaRememberState:
          if (remembered.size() >= kMaxRememberedStates) {
            return ResourceExhaustedError("DW_CFA_remember_state nested too deeply");
          }
          remembered.push_back(state);
          break;
        case kCfaRestoreState:
          if (remembered.empty()) return DataLossError("DW_CFA_restore_state without remember");
          state = remembered.back();
          remembered.pop_back();
          break;
        case kCfaDefCfa:
        case kCfaDefCfaSf: {
          uint64_t reg = in.Uleb128();
          std::optional<int64_t> offset =
              op == kCfaDefCfa ? AsSigned(in.Uleb128()) : Scaled(in.Sleb128(), cie.data_alignment);
          if (!offset) return DataLossError("CFA offset out of range");
          state.cfa = {CfaRule::Kind::kRegisterOffset, static_cast<int>(reg), *offset, {}};
          break;
        }
        case kCfaDefCfaRegister:
          state.cfa.kind = CfaRule::Kind::kRegisterOffset;
          state.cfa.reg = static_cast<int>(in.Uleb128());
          break;
        case kCfaDefCfaOffset:
        case kCfaDefCfaOffsetSf: {
          std::optional<int64_t> offset = op == kCfaDefCfaOffset
                                              ? AsSigned(in.Uleb128())
                                              : Scaled(in.Sleb128(), cie.data_alignment);
          if (!offset) return DataLossError("CFA offset out of range");
          state.cfa.offset = *offset;
          break;
        }
        case kCfaDefCfaExpression: {
          uint64_t length = in.Uleb128();
          state.cfa = {CfaRule::Kind::kExpression, 0, 0, in.Bytes(static_cast<size_t>(length))};
          break;
        }
        case kCfaExpression:
        case kCfaValExpression: {
          uint64_t reg = in.Uleb128();
          uint64_t length = in.Uleb128();
          std::span<const uint8_t> expression = in.Bytes(static_cast<size_t>(length));
          auto kind = op == kCfaExpression ? RegisterRule::Kind::kExpression
                                           : RegisterRule::Kind::kValExpression;
          if (RegisterRule* r = reg_rule(reg)) *r = {kind, 0, 0, expression};
          break;
        }
        case kCfaGnuArgsSize:
          in.Uleb128();
          break;
        default:
          return InvalidArgumentError("unsupported CFA operation " + std::to_string(op));
      }
      if (!in.Ok()) return DataLossError("CFA program truncated");
    }
    if (!in.Ok()) return DataLossError("CFA program truncated");
    return false;
  };

  StatusOr<bool> cie_done = run(cie.instructions_begin, cie.instructions_end, /*is_cie=*/true);
  if (!cie_done.ok()) return cie_done.status();
  initial = state;
  remembered.clear();
  StatusOr<bool> fde_done = run(fde.instructions_begin, fde.instructions_end, /*is_cie=*/false);
  if (!fde_done.ok()) return fde_done.status();

  UnwindRow row;
  row.cfa = state.cfa;
  row.registers = state.registers;
  row.return_address_register = cie.return_address_register;
  row.signal_frame = cie.signal_frame;
  row.pc_begin = fde.pc_begin;
  row.pc_end = fde.pc_end;
  if (row.return_address_register < 0 || row.return_address_register >= kNumRegisters) {
    return InvalidArgumentError("unsupported return address register");
  }
  return row;
}

}  // namespace ephemera::stacks
