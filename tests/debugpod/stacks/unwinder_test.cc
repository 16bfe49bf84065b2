#include "debugpod/stacks/unwinder.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>
#include <vector>

namespace ephemera::stacks {
namespace {

// Code ranges, each with an optional CFI row that applies to the whole range.
class FakeCodeMap : public CodeMap {
 public:
  void AddCode(uint64_t begin, uint64_t end, std::optional<UnwindRow> row) {
    ranges_[begin] = {end, row};
  }
  bool IsCode(uint64_t pc) override { return Find(pc) != nullptr; }
  StatusOr<UnwindRow> FindUnwindRow(uint64_t pc) override {
    const Range* r = Find(pc);
    if (!r || !r->row) return NotFoundError("no CFI");
    return *r->row;
  }

 private:
  struct Range {
    uint64_t end;
    std::optional<UnwindRow> row;
  };
  const Range* Find(uint64_t pc) const {
    auto it = ranges_.upper_bound(pc);
    if (it == ranges_.begin()) return nullptr;
    --it;
    return pc < it->second.end ? &it->second : nullptr;
  }
  std::map<uint64_t, Range> ranges_;
};

UnwindRow RspRow(int64_t cfa_offset) {
  UnwindRow row;
  row.cfa = {CfaRule::Kind::kRegisterOffset, kRegRsp, cfa_offset, {}};
  row.registers[kRegRip] = {RegisterRule::Kind::kOffset, -8, 0, {}};
  return row;
}

UnwindRow RbpRow() {
  UnwindRow row;
  row.cfa = {CfaRule::Kind::kRegisterOffset, kRegRbp, 16, {}};
  row.registers[kRegRip] = {RegisterRule::Kind::kOffset, -8, 0, {}};
  row.registers[kRegRbp] = {RegisterRule::Kind::kOffset, -16, 0, {}};
  return row;
}

UnwindRow OutermostRow() {
  UnwindRow row = RspRow(8);
  row.registers[kRegRip] = {RegisterRule::Kind::kUndefined, 0, 0, {}};
  return row;
}

constexpr uint64_t kStackBase = 0x8000;

// A stack slice of `words` 8-byte slots starting at kStackBase, with the given slots filled.
StackSlice Stack(size_t words, const std::map<uint64_t, uint64_t>& values) {
  StackSlice s;
  s.base = kStackBase;
  s.bytes.assign(words * 8, 0);
  for (auto [address, value] : values) std::memcpy(&s.bytes[address - kStackBase], &value, 8);
  return s;
}

RegisterSet Registers(uint64_t rip, uint64_t rsp, std::optional<uint64_t> rbp = std::nullopt) {
  RegisterSet r;
  r.Set(kRegRip, rip);
  r.Set(kRegRsp, rsp);
  if (rbp) r.Set(kRegRbp, *rbp);
  return r;
}

std::vector<uint64_t> Pcs(const UnwoundStack& s) {
  std::vector<uint64_t> out;
  for (const UnwoundFrame& f : s.frames) out.push_back(f.pc);
  return out;
}

TEST(UnwinderTest, WalksCfiFramesToTheOutermostFrame) {
  FakeCodeMap code;
  code.AddCode(0x1000, 0x1100, RspRow(16));
  code.AddCode(0x2000, 0x2100, RspRow(32));
  code.AddCode(0x3000, 0x3100, OutermostRow());
  StackSlice stack = Stack(16, {{0x8008, 0x2100}, {0x8028, 0x3050}});
  UnwoundStack s = UnwindStack(Registers(0x1010, 0x8000), stack, code, 64);
  // 0x2100 is one past mid's range: only the pc - 1 lookup finds mid's row.
  EXPECT_EQ(Pcs(s), (std::vector<uint64_t>{0x1010, 0x2100, 0x3050}));
  EXPECT_EQ(s.method, "cfi");
  EXPECT_EQ(s.stop_reason, "end of stack");
  EXPECT_FALSE(s.frames[0].is_return_address);
  EXPECT_TRUE(s.frames[1].is_return_address);
}

TEST(UnwinderTest, FollowsTheFramePointerChainWithoutCfi) {
  FakeCodeMap code;
  code.AddCode(0x1000, 0x4000, std::nullopt);
  StackSlice stack = Stack(16, {{0x8020, 0x8040}, {0x8028, 0x2050}, {0x8040, 0}, {0x8048, 0x3050}});
  UnwoundStack s = UnwindStack(Registers(0x1010, 0x8000, 0x8020), stack, code, 64);
  EXPECT_EQ(Pcs(s), (std::vector<uint64_t>{0x1010, 0x2050, 0x3050}));
  EXPECT_EQ(s.method, "frame-pointer");
  EXPECT_EQ(s.stop_reason, "no frame pointer");
}

TEST(UnwinderTest, MixesCfiAndFramePointer) {
  FakeCodeMap code;
  code.AddCode(0x1000, 0x1100, RspRow(16));    // leaf without a frame pointer, with CFI
  code.AddCode(0x2000, 0x2100, std::nullopt);  // caller with a frame pointer, no CFI
  code.AddCode(0x3000, 0x3100, OutermostRow());
  StackSlice stack = Stack(16, {{0x8008, 0x2050}, {0x8020, 0x8040}, {0x8028, 0x3050}});
  UnwoundStack s = UnwindStack(Registers(0x1010, 0x8000, 0x8020), stack, code, 64);
  EXPECT_EQ(Pcs(s), (std::vector<uint64_t>{0x1010, 0x2050, 0x3050}));
  EXPECT_EQ(s.method, "mixed");
}

TEST(UnwinderTest, RbpBasedCfaRestoresCallerRbp) {
  FakeCodeMap code;
  code.AddCode(0x1000, 0x1100, RbpRow());
  code.AddCode(0x2000, 0x2100, RbpRow());
  code.AddCode(0x3000, 0x3100, OutermostRow());
  StackSlice stack = Stack(16, {{0x8010, 0x8030}, {0x8018, 0x2050}, {0x8030, 0}, {0x8038, 0x3050}});
  UnwoundStack s = UnwindStack(Registers(0x1010, 0x8000, 0x8010), stack, code, 64);
  EXPECT_EQ(Pcs(s), (std::vector<uint64_t>{0x1010, 0x2050, 0x3050}));
  EXPECT_EQ(s.method, "cfi");
}

TEST(UnwinderTest, FallsBackToFramePointerWhenCfiReadsPastTheSlice) {
  FakeCodeMap code;
  code.AddCode(0x1000, 0x1100, RspRow(0x1000));  // CFA far above the 128-byte copy
  code.AddCode(0x2000, 0x2100, std::nullopt);
  StackSlice stack = Stack(16, {{0x8020, 0}, {0x8028, 0x2050}});
  UnwoundStack s = UnwindStack(Registers(0x1010, 0x8000, 0x8020), stack, code, 64);
  EXPECT_EQ(Pcs(s), (std::vector<uint64_t>{0x1010, 0x2050}));
  EXPECT_EQ(s.method, "frame-pointer");
}

TEST(UnwinderTest, StopsAtTheFrameLimit) {
  FakeCodeMap code;
  code.AddCode(0x1000, 0x4000, std::nullopt);
  StackSlice stack = Stack(16, {{0x8020, 0x8040}, {0x8028, 0x2050}, {0x8040, 0}, {0x8048, 0x3050}});
  UnwoundStack s = UnwindStack(Registers(0x1010, 0x8000, 0x8020), stack, code, 2);
  EXPECT_EQ(s.frames.size(), 2u);
  EXPECT_EQ(s.stop_reason, "frame limit");
}

TEST(UnwinderTest, StopsWhenTheStackPointerDoesNotMoveUp) {
  FakeCodeMap code;
  UnwindRow same_sp = RspRow(8);
  same_sp.cfa.offset = 0;  // claims the CFA is rsp itself: would loop forever
  code.AddCode(0x1000, 0x1100, same_sp);
  StackSlice stack = Stack(16, {{0x8000, 0x1020}});
  UnwoundStack s = UnwindStack(Registers(0x1010, 0x8008), stack, code, 64);
  EXPECT_EQ(s.frames.size(), 1u);
  EXPECT_EQ(s.stop_reason, "stack pointer did not move up");
}

TEST(UnwinderTest, StopsAtReturnAddressOutsideCode) {
  FakeCodeMap code;
  code.AddCode(0x1000, 0x1100, RspRow(16));
  StackSlice stack = Stack(16, {{0x8008, 0xdead0000}});
  UnwoundStack s = UnwindStack(Registers(0x1010, 0x8000), stack, code, 64);
  EXPECT_EQ(Pcs(s), std::vector<uint64_t>{0x1010});
  EXPECT_EQ(s.stop_reason, "return address outside executable memory");
}

TEST(UnwinderTest, FrameAfterSignalFrameUsesExactPc) {
  FakeCodeMap code;
  // The handler returns into the trampoline; the trampoline's row (signal frame) recovers the
  // interrupted rip and rsp from the saved context: here rip at CFA + 0, rsp at CFA + 8.
  code.AddCode(0x1000, 0x1100, RspRow(16));
  UnwindRow trampoline;
  trampoline.signal_frame = true;
  trampoline.cfa = {CfaRule::Kind::kRegisterOffset, kRegRsp, 0, {}};
  trampoline.registers[kRegRip] = {RegisterRule::Kind::kOffset, 0, 0, {}};
  trampoline.registers[kRegRsp] = {RegisterRule::Kind::kOffset, 8, 0, {}};
  code.AddCode(0x5000, 0x5010, trampoline);
  // The interrupted function starts exactly at 0x2000: a pc - 1 lookup would miss its row.
  code.AddCode(0x2000, 0x2100, OutermostRow());
  StackSlice stack = Stack(16, {{0x8008, 0x5001}, {0x8010, 0x2000}, {0x8018, 0x8060}});
  UnwoundStack s = UnwindStack(Registers(0x1010, 0x8000), stack, code, 64);
  EXPECT_EQ(Pcs(s), (std::vector<uint64_t>{0x1010, 0x5001, 0x2000}));
  ASSERT_EQ(s.frames.size(), 3u);
  EXPECT_FALSE(s.frames[2].is_return_address);
  EXPECT_EQ(s.stop_reason, "end of stack");
}

TEST(UnwinderTest, NoInstructionPointerGivesNoFrames) {
  FakeCodeMap code;
  UnwoundStack s = UnwindStack(RegisterSet{}, StackSlice{}, code, 64);
  EXPECT_TRUE(s.frames.empty());
}

TEST(UnwinderTest, StepWithCfiEvaluatesExpressionRules) {
  // CFA = *(rsp + 8) (a sigcontext-style pointer), rbx = CFA + 24 (val_expression).
  static const uint8_t kCfaExpr[] = {0x77, 0x08, 0x06};
  static const uint8_t kRbxExpr[] = {0x23, 0x18};
  UnwindRow row;
  row.cfa = {CfaRule::Kind::kExpression, 0, 0, kCfaExpr};
  row.registers[kRegRip] = {RegisterRule::Kind::kOffset, -8, 0, {}};
  row.registers[kRegRbx] = {RegisterRule::Kind::kValExpression, 0, 0, kRbxExpr};
  StackSlice stack = Stack(16, {{0x8008, 0x8040}, {0x8038, 0x1234}});
  StatusOr<RegisterSet> caller = StepWithCfi(row, Registers(0x1010, 0x8000), stack);
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->Get(kRegRsp), std::optional<uint64_t>(0x8040));
  EXPECT_EQ(caller->Get(kRegRip), std::optional<uint64_t>(0x1234));
  EXPECT_EQ(caller->Get(kRegRbx), std::optional<uint64_t>(0x8058));
}

}  // namespace
}  // namespace ephemera::stacks
