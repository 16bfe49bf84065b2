#include "debugpod/stacks/call_frame_info.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ephemera::stacks {
namespace {

using Bytes = std::vector<uint8_t>;

void AppendU32(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void AppendU64(Bytes& b, uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PatchU32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
}

// Builds .eh_frame (or .debug_frame) sections byte by byte, the way a linker lays them out.
class CfiBuilder {
 public:
  CfiBuilder(CfiFormat format, uint64_t vaddr) : format_(format), vaddr_(vaddr) {}

  // A CIE with code alignment 1, data alignment -8 and return address column 16.
  size_t AddCie(const std::string& augmentation, const Bytes& augmentation_data,
                const Bytes& instructions, uint8_t version = 1, int data_alignment = -8) {
    size_t start = bytes_.size();
    AppendU32(bytes_, 0);  // length, patched below
    AppendU32(bytes_, format_ == CfiFormat::kEhFrame ? 0 : 0xffffffffu);
    bytes_.push_back(version);
    bytes_.insert(bytes_.end(), augmentation.begin(), augmentation.end());
    bytes_.push_back(0);
    bytes_.push_back(1);                                            // code alignment (uleb)
    bytes_.push_back(static_cast<uint8_t>(data_alignment & 0x7f));  // data alignment (sleb)
    bytes_.push_back(16);                                           // return address column
    if (!augmentation.empty() && augmentation[0] == 'z') {
      bytes_.push_back(static_cast<uint8_t>(augmentation_data.size()));
      bytes_.insert(bytes_.end(), augmentation_data.begin(), augmentation_data.end());
    }
    bytes_.insert(bytes_.end(), instructions.begin(), instructions.end());
    PatchU32(bytes_, start, static_cast<uint32_t>(bytes_.size() - start - 4));
    return start;
  }

  // An FDE for [pc_begin, pc_begin + range). For .eh_frame the CIE must use "zR" with
  // DW_EH_PE_pcrel|sdata4 (0x1b); `augmentation_data` follows when the CIE has 'z'.
  size_t AddFde(size_t cie, uint64_t pc_begin, uint32_t range, const Bytes& instructions,
                const Bytes* augmentation_data = nullptr) {
    size_t start = bytes_.size();
    AppendU32(bytes_, 0);
    size_t id_field = bytes_.size();
    if (format_ == CfiFormat::kEhFrame) {
      AppendU32(bytes_, static_cast<uint32_t>(id_field - cie));
      size_t field = bytes_.size();
      AppendU32(bytes_, static_cast<uint32_t>(pc_begin - (vaddr_ + field)));
      AppendU32(bytes_, range);
      if (augmentation_data) {
        bytes_.push_back(static_cast<uint8_t>(augmentation_data->size()));
        bytes_.insert(bytes_.end(), augmentation_data->begin(), augmentation_data->end());
      } else {
        bytes_.push_back(0);
      }
    } else {
      AppendU32(bytes_, static_cast<uint32_t>(cie));
      AppendU64(bytes_, pc_begin);
      AppendU64(bytes_, range);
    }
    bytes_.insert(bytes_.end(), instructions.begin(), instructions.end());
    PatchU32(bytes_, start, static_cast<uint32_t>(bytes_.size() - start - 4));
    return start;
  }

  Bytes Finish() {
    if (format_ == CfiFormat::kEhFrame) AppendU32(bytes_, 0);  // terminator
    return bytes_;
  }

 private:
  CfiFormat format_;
  uint64_t vaddr_;
  Bytes bytes_;
};

// gcc's x86-64 CIE: CFA = rsp + 8, return address at CFA - 8.
const Bytes kGccCieInstructions = {0x0c, 0x07, 0x08, 0x90, 0x01};
// gcc -O2 with frame pointer: push rbp; mov rbp, rsp; ...; leave; ret.
const Bytes kFramePointerPrologue = {
    0x41,              // advance_loc 1
    0x0e, 0x10,        // def_cfa_offset 16
    0x86, 0x02,        // offset r6 (rbp) at cfa - 16
    0x43,              // advance_loc 3
    0x0d, 0x06,        // def_cfa_register r6
    0x02, 0x30,        // advance_loc1 48
    0x0c, 0x07, 0x08,  // def_cfa r7 8
};

constexpr uint64_t kVaddr = 0x2000;

CallFrameInfo GccLikeCfi() {
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
  b.AddFde(cie, 0x1000, 0x40, kFramePointerPrologue);
  b.AddFde(cie, 0x1100, 0x10, {});
  return CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr);
}

TEST(CallFrameInfoTest, RowAtFunctionEntryHasCfaAtRspPlus8) {
  CallFrameInfo cfi = GccLikeCfi();
  EXPECT_EQ(cfi.ScannedFdeCount(), 2u);
  StatusOr<UnwindRow> row = cfi.FindRow(0x1000);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->cfa.kind, CfaRule::Kind::kRegisterOffset);
  EXPECT_EQ(row->cfa.reg, kRegRsp);
  EXPECT_EQ(row->cfa.offset, 8);
  EXPECT_EQ(row->registers[kRegRip].kind, RegisterRule::Kind::kOffset);
  EXPECT_EQ(row->registers[kRegRip].offset, -8);
  EXPECT_EQ(row->registers[kRegRbp].kind, RegisterRule::Kind::kSameValue);
  EXPECT_EQ(row->pc_begin, 0x1000u);
  EXPECT_EQ(row->pc_end, 0x1040u);
}

TEST(CallFrameInfoTest, FollowsPrologueAdvances) {
  CallFrameInfo cfi = GccLikeCfi();
  StatusOr<UnwindRow> after_push = cfi.FindRow(0x1001);
  ASSERT_TRUE(after_push.ok());
  EXPECT_EQ(after_push->cfa.offset, 16);
  EXPECT_EQ(after_push->registers[kRegRbp].kind, RegisterRule::Kind::kOffset);
  EXPECT_EQ(after_push->registers[kRegRbp].offset, -16);

  StatusOr<UnwindRow> body = cfi.FindRow(0x1020);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->cfa.reg, kRegRbp);
  EXPECT_EQ(body->cfa.offset, 16);

  StatusOr<UnwindRow> epilogue = cfi.FindRow(0x1034);
  ASSERT_TRUE(epilogue.ok());
  EXPECT_EQ(epilogue->cfa.reg, kRegRsp);
  EXPECT_EQ(epilogue->cfa.offset, 8);
}

TEST(CallFrameInfoTest, PcOutsideEveryFdeIsNotFound) {
  CallFrameInfo cfi = GccLikeCfi();
  EXPECT_EQ(cfi.FindRow(0xfff).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cfi.FindRow(0x1040).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cfi.FindRow(0x1110).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(cfi.FindRow(0x110f).ok());
}

TEST(CallFrameInfoTest, RememberAndRestoreState) {
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
  b.AddFde(cie, 0x1000, 0x40,
           {0x41, 0x0e, 0x10,  // +1: cfa rsp+16
            0x41, 0x0a,        // +1: remember
            0x0e, 0x08,        //     cfa rsp+8 (an early return path)
            0x41, 0x0b});      // +1: restore -> rsp+16
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr);
  EXPECT_EQ(cfi.FindRow(0x1002)->cfa.offset, 8);
  EXPECT_EQ(cfi.FindRow(0x1003)->cfa.offset, 16);
}

TEST(CallFrameInfoTest, ParsesZplrAugmentationWithPersonalityAndLsda) {
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  // "zPLR": personality encoding 0x9b (indirect pcrel sdata4) + 4 bytes, LSDA 0x1b, FDE 0x1b.
  size_t cie = b.AddCie("zPLR", {0x9b, 0x10, 0x00, 0x00, 0x00, 0x1b, 0x1b}, kGccCieInstructions);
  Bytes lsda = {0x20, 0x00, 0x00, 0x00};
  b.AddFde(cie, 0x3000, 0x20, {0x41, 0x0e, 0x10}, &lsda);
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr);
  StatusOr<UnwindRow> row = cfi.FindRow(0x3005);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->cfa.offset, 16);
  EXPECT_FALSE(row->signal_frame);
}

TEST(CallFrameInfoTest, SignalFrameAugmentationIsReported) {
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zRS", {0x1b}, kGccCieInstructions);
  b.AddFde(cie, 0x4000, 0x10, {});
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr);
  EXPECT_TRUE(cfi.FindRow(0x4000)->signal_frame);
}

TEST(CallFrameInfoTest, ExpressionValOffsetRegisterAndUndefinedRules) {
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
  b.AddFde(cie, 0x1000, 0x40, {0x0f, 0x02, 0x77, 0x20,        // def_cfa_expression { breg7 +32 }
                               0x10, 0x03, 0x02, 0x76, 0x00,  // expression r3 { breg6 +0 }
                               0x14, 0x0c, 0x01,              // val_offset r12 = cfa + 1*-8
                               0x09, 0x0d, 0x00,              // register r13 in r0
                               0x07, 0x0e,                    // undefined r14
                               0x11, 0x0f, 0x7e,  // offset_extended_sf r15 at cfa + -2*-8 = +16
                               0x2e, 0x10});      // GNU_args_size 16 (ignored)
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr);
  StatusOr<UnwindRow> row = cfi.FindRow(0x1000);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->cfa.kind, CfaRule::Kind::kExpression);
  EXPECT_EQ(row->cfa.expression.size(), 2u);
  EXPECT_EQ(row->registers[kRegRbx].kind, RegisterRule::Kind::kExpression);
  EXPECT_EQ(row->registers[12].kind, RegisterRule::Kind::kValOffset);
  EXPECT_EQ(row->registers[12].offset, -8);
  EXPECT_EQ(row->registers[13].kind, RegisterRule::Kind::kRegister);
  EXPECT_EQ(row->registers[13].reg, kRegRax);
  EXPECT_EQ(row->registers[14].kind, RegisterRule::Kind::kUndefined);
  EXPECT_EQ(row->registers[15].offset, 16);
}

TEST(CallFrameInfoTest, RestoreReturnsToTheCieRule) {
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
  b.AddFde(cie, 0x1000, 0x40, {0x07, 0x10, 0x41, 0xd0});  // undefined rip; +1: restore rip
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr);
  EXPECT_EQ(cfi.FindRow(0x1000)->registers[kRegRip].kind, RegisterRule::Kind::kUndefined);
  EXPECT_EQ(cfi.FindRow(0x1001)->registers[kRegRip].kind, RegisterRule::Kind::kOffset);
}

TEST(CallFrameInfoTest, UsesEhFrameHdrSearchTable) {
  constexpr uint64_t kHdrVaddr = 0x1800;
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
  size_t first = b.AddFde(cie, 0x1000, 0x40, kFramePointerPrologue);
  size_t second = b.AddFde(cie, 0x1100, 0x10, {0x0e, 0x20});
  Bytes section = b.Finish();

  Bytes hdr = {1, 0x1b, 0x03,
               0x3b};  // version, eh_frame_ptr pcrel|sdata4, count udata4, datarel|sdata4
  AppendU32(hdr, static_cast<uint32_t>(kVaddr - (kHdrVaddr + 4)));
  AppendU32(hdr, 2);
  for (auto [pc, fde] : {std::pair<uint64_t, size_t>{0x1000, first}, {0x1100, second}}) {
    AppendU32(hdr, static_cast<uint32_t>(pc - kHdrVaddr));
    AppendU32(hdr, static_cast<uint32_t>(kVaddr + fde - kHdrVaddr));
  }
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, section, kVaddr, hdr, kHdrVaddr);
  EXPECT_TRUE(cfi.UsesSearchTable());
  EXPECT_EQ(cfi.FindRow(0x1020)->cfa.reg, kRegRbp);
  EXPECT_EQ(cfi.FindRow(0x1105)->cfa.offset, 32);
  EXPECT_EQ(cfi.FindRow(0x1050).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cfi.FindRow(0x0fff).status().code(), StatusCode::kNotFound);
}

TEST(CallFrameInfoTest, MalformedSearchTableFallsBackToScanning) {
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
  b.AddFde(cie, 0x1000, 0x40, {});
  Bytes hdr = {1, 0x1b, 0x03, 0x3b, 0, 0, 0, 0, 0xff, 0xff, 0, 0};  // claims 65535 entries
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr, hdr, 0x1800);
  EXPECT_FALSE(cfi.UsesSearchTable());
  EXPECT_TRUE(cfi.FindRow(0x1000).ok());
}

TEST(CallFrameInfoTest, ParsesGoStyleDebugFrame) {
  // Go's linker: .debug_frame, CIE version 3, no augmentation, data alignment -4, absolute
  // 8-byte addresses, and DW_CFA_def_cfa_offset_sf for every stack adjustment.
  CfiBuilder b(CfiFormat::kDebugFrame, 0);
  size_t cie = b.AddCie("", {}, {0x0c, 0x07, 0x08, 0x05, 0x10, 0x02}, /*version=*/3,
                        /*data_alignment=*/-4);
  b.AddFde(cie, 0x401000, 0xde, {0x13, 0x7e, 0x4b, 0x13, 0x7c, 0x47, 0x13, 0x78});
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kDebugFrame, b.Finish(), 0);
  StatusOr<UnwindRow> entry = cfi.FindRow(0x401000);
  ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_EQ(entry->cfa.offset, 8);
  EXPECT_EQ(entry->registers[kRegRip].offset, -8);
  EXPECT_EQ(cfi.FindRow(0x40100b)->cfa.offset, 16);
  EXPECT_EQ(cfi.FindRow(0x401012)->cfa.offset, 32);
  EXPECT_EQ(cfi.FindRow(0x4010de).status().code(), StatusCode::kNotFound);
}

TEST(CallFrameInfoTest, UnsupportedOperationIsInvalidArgument) {
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
  b.AddFde(cie, 0x1000, 0x40, {0x2d});  // DW_CFA_GNU_window_save (SPARC)
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr);
  EXPECT_EQ(cfi.FindRow(0x1000).status().code(), StatusCode::kInvalidArgument);
}

TEST(CallFrameInfoTest, TruncatedSectionIndexesWhatItCan) {
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
  b.AddFde(cie, 0x1000, 0x40, {});
  b.AddFde(cie, 0x2000, 0x40, {0x41, 0x0e, 0x10});
  Bytes section = b.Finish();
  section.resize(section.size() - 9);  // cut into the second FDE
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, section, kVaddr);
  EXPECT_EQ(cfi.ScannedFdeCount(), 1u);
  EXPECT_TRUE(cfi.FindRow(0x1000).ok());
  EXPECT_EQ(cfi.FindRow(0x2000).status().code(), StatusCode::kNotFound);
}

TEST(CallFrameInfoTest, GarbageDoesNotCrash) {
  Bytes garbage;
  for (int i = 0; i < 512; ++i) garbage.push_back(static_cast<uint8_t>((i * 131 + 7) & 0xff));
  CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, garbage, kVaddr, garbage, 0);
  for (uint64_t pc = 0; pc < 0x10000; pc += 0x333) {
    StatusOr<UnwindRow> row = cfi.FindRow(pc);
    if (row.ok()) {
      EXPECT_LT(row->pc_begin, row->pc_end);
    }
  }
}

Bytes Uleb(uint64_t v) {
  Bytes out;
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    out.push_back(v != 0 ? byte | 0x80 : byte);
  } while (v != 0);
  return out;
}

Bytes Sleb(int64_t v) {
  Bytes out;
  while (true) {
    uint8_t byte = static_cast<uint8_t>(v) & 0x7f;
    v >>= 7;
    bool done = (v == 0 && (byte & 0x40) == 0) || (v == -1 && (byte & 0x40) != 0);
    out.push_back(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

Bytes Cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Offsets are factored by the CIE's data alignment (-8 here). Operands whose scaled value does not
// fit in int64_t (signed overflow, undefined behaviour before) make the row an error.
TEST(CallFrameInfoTest, OffsetsThatOverflowWhenScaledAreDataLoss) {
  constexpr int64_t kHuge = int64_t{1} << 62;
  const std::vector<std::pair<std::string, Bytes>> programs = {
      {"offset_extended_sf", Cat({0x11, 0x06}, Sleb(kHuge))},
      {"val_offset_sf", Cat({0x15, 0x06}, Sleb(-kHuge))},
      {"offset", Cat({0x86}, Uleb(uint64_t{1} << 62))},
      {"offset_extended past INT64_MAX", Cat({0x05, 0x06}, Uleb(uint64_t{1} << 63))},
      {"GNU_negative_offset_extended of 2^63", Cat({0x2f, 0x06}, Uleb(uint64_t{1} << 63))},
      {"def_cfa_sf", Cat({0x12, 0x07}, Sleb(kHuge))},
      {"def_cfa_offset_sf", Cat({0x13}, Sleb(-kHuge))},
      {"def_cfa_offset past INT64_MAX", Cat({0x0e}, Uleb(~uint64_t{0}))},
  };
  for (const auto& [name, program] : programs) {
    CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
    size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
    b.AddFde(cie, 0x1000, 0x40, program);
    CallFrameInfo cfi = CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr);
    EXPECT_EQ(cfi.FindRow(0x1000).status().code(), StatusCode::kDataLoss) << name;
  }
  // The largest offsets that do fit are kept.
  CfiBuilder b(CfiFormat::kEhFrame, kVaddr);
  size_t cie = b.AddCie("zR", {0x1b}, kGccCieInstructions);
  b.AddFde(cie, 0x1000, 0x40, Cat({0x11, 0x06}, Sleb(kHuge / 4)));
  StatusOr<UnwindRow> row =
      CallFrameInfo::Create(CfiFormat::kEhFrame, b.Finish(), kVaddr).FindRow(0x1000);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->registers[kRegRbp].offset, -2 * kHuge);
}

}  // namespace
}  // namespace ephemera::stacks
