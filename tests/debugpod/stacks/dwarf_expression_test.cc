#include "debugpod/stacks/dwarf_expression.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace ephemera::stacks {
namespace {

StackSlice SliceWith(uint64_t base, std::vector<uint64_t> words) {
  StackSlice slice;
  slice.base = base;
  slice.bytes.resize(words.size() * 8);
  std::memcpy(slice.bytes.data(), words.data(), slice.bytes.size());
  return slice;
}

TEST(DwarfExpressionTest, EvaluatesGlibcPltCfaExpression) {
  // The CFA expression x86-64 linkers emit for .plt: rsp + 8 + ((rip & 15) >= 11 ? 8 : 0).
  std::vector<uint8_t> expr = {0x77, 0x08,  // DW_OP_breg7 (rsp) 8
                               0x80, 0x00,  // DW_OP_breg16 (rip) 0
                               0x3f,        // DW_OP_lit15
                               0x1a,        // DW_OP_and
                               0x3b,        // DW_OP_lit11
                               0x2a,        // DW_OP_ge
                               0x33,        // DW_OP_lit3
                               0x24,        // DW_OP_shl
                               0x22};       // DW_OP_plus
  RegisterSet regs;
  regs.Set(kRegRsp, 0x7000);
  regs.Set(kRegRip, 0x1000 + 12);
  EXPECT_EQ(*EvaluateDwarfExpression(expr, regs, {}, {}), 0x7010u);
  regs.Set(kRegRip, 0x1000 + 4);
  EXPECT_EQ(*EvaluateDwarfExpression(expr, regs, {}, {}), 0x7008u);
}

TEST(DwarfExpressionTest, DereferencesOnlyTheCopiedStack) {
  StackSlice stack = SliceWith(0x8000, {0x1111, 0x2222});
  RegisterSet regs;
  regs.Set(kRegRsp, 0x8000);
  std::vector<uint8_t> expr = {0x77, 0x08, 0x06};  // *(rsp + 8)
  EXPECT_EQ(*EvaluateDwarfExpression(expr, regs, stack, {}), 0x2222u);
  std::vector<uint8_t> outside = {0x77, 0x10, 0x06};  // *(rsp + 16): past the copy
  StatusOr<uint64_t> r = EvaluateDwarfExpression(outside, regs, stack, {});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(DwarfExpressionTest, PushesInitialValueForRegisterRules) {
  std::vector<uint8_t> expr = {0x23, 0x10};  // DW_OP_plus_uconst 16
  EXPECT_EQ(*EvaluateDwarfExpression(expr, {}, {}, 0x100), 0x110u);
}

TEST(DwarfExpressionTest, BranchesAndStackOperations) {
  // lit1 bra +1 (skips lit5) lit7 dup plus -> 14; then const1s -2 minus -> 16; swap over pick.
  std::vector<uint8_t> expr = {0x31, 0x28, 0x01, 0x00, 0x35, 0x37, 0x12, 0x22, 0x09, 0xfe, 0x1c};
  EXPECT_EQ(*EvaluateDwarfExpression(expr, {}, {}, {}), 16u);
  std::vector<uint8_t> rot = {0x31, 0x32, 0x33, 0x17, 0x13, 0x13};  // 1 2 3 rot -> 3 1 2; drop x2
  EXPECT_EQ(*EvaluateDwarfExpression(rot, {}, {}, {}), 3u);
}

TEST(DwarfExpressionTest, RejectsUnknownRegisterAndUnsupportedOps) {
  std::vector<uint8_t> uses_rbx = {0x73, 0x00};  // DW_OP_breg3 (rbx)
  EXPECT_EQ(EvaluateDwarfExpression(uses_rbx, {}, {}, {}).status().code(), StatusCode::kNotFound);
  std::vector<uint8_t> fbreg = {0x91, 0x00};  // DW_OP_fbreg: not meaningful in CFI
  EXPECT_EQ(EvaluateDwarfExpression(fbreg, {}, {}, {}).status().code(),
            StatusCode::kInvalidArgument);
  std::vector<uint8_t> underflow = {0x22};
  EXPECT_EQ(EvaluateDwarfExpression(underflow, {}, {}, {}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(DwarfExpressionTest, InfiniteLoopIsBounded) {
  std::vector<uint8_t> loop = {0x2f, 0xfd, 0xff};  // DW_OP_skip -3: jumps to itself
  EXPECT_EQ(EvaluateDwarfExpression(loop, {}, {}, {}).status().code(),
            StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace ephemera::stacks
