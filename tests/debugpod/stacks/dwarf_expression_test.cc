#include "debugpod/stacks/dwarf_expression.h"

#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>
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

// DW_OP_const8s <v>: pushes a 64-bit constant.
std::vector<uint8_t> Const8(uint64_t v) {
  std::vector<uint8_t> out = {0x0f};
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return out;
}

std::vector<uint8_t> Concat(std::initializer_list<std::vector<uint8_t>> parts) {
  std::vector<uint8_t> out;
  for (const std::vector<uint8_t>& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

constexpr uint64_t kInt64Min = uint64_t{1} << 63;
constexpr uint64_t kMinusOne = ~uint64_t{0};

// L2: INT64_MIN / -1 has no int64_t result; on x86-64 the division traps (SIGFPE) and killed the
// tool. It must be an error like a division by zero.
TEST(DwarfExpressionTest, DivisionOverflowIsAnErrorNotACrash) {
  std::vector<uint8_t> expr = Concat({Const8(kInt64Min), Const8(kMinusOne), {0x1b}});  // div
  StatusOr<uint64_t> r = EvaluateDwarfExpression(expr, {}, {}, {});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  // Through the CFA-relative form too: the CFA pushed first, divided by -1.
  std::vector<uint8_t> by_minus_one = Concat({Const8(kMinusOne), {0x1b}});
  EXPECT_EQ(EvaluateDwarfExpression(by_minus_one, {}, {}, kInt64Min).status().code(),
            StatusCode::kInvalidArgument);
  // Other signed divisions still work: -7 / 2 = -3 (truncated).
  std::vector<uint8_t> ok = Concat({Const8(static_cast<uint64_t>(-7)), {0x32, 0x1b}});
  EXPECT_EQ(*EvaluateDwarfExpression(ok, {}, {}, {}), static_cast<uint64_t>(-3));
}

TEST(DwarfExpressionTest, DivisionAndModuloByZeroAreErrors) {
  for (uint8_t op : {uint8_t{0x1b}, uint8_t{0x1d}}) {  // div, mod
    std::vector<uint8_t> expr = {0x35, 0x30, op};      // 5 op 0
    EXPECT_EQ(EvaluateDwarfExpression(expr, {}, {}, {}).status().code(),
              StatusCode::kInvalidArgument)
        << static_cast<int>(op);
  }
  std::vector<uint8_t> mod = Concat({Const8(kInt64Min), Const8(kMinusOne), {0x1d}});
  EXPECT_TRUE(EvaluateDwarfExpression(mod, {}, {}, {}).ok());
}

// The other operations whose C++ counterparts have undefined cases are defined here: they wrap,
// or saturate for shifts (the evaluator runs UBSan-clean in the sanitizer and fuzz builds).
TEST(DwarfExpressionTest, OverflowingArithmeticWrapsAndWideShiftsSaturate) {
  auto eval = [](const std::vector<uint8_t>& e) { return *EvaluateDwarfExpression(e, {}, {}, {}); };
  EXPECT_EQ(eval(Concat({Const8(kInt64Min), {0x1f}})), kInt64Min);                     // neg
  EXPECT_EQ(eval(Concat({Const8(kInt64Min), {0x19}})), kInt64Min);                     // abs
  EXPECT_EQ(eval(Concat({Const8(kInt64Min), Const8(kMinusOne), {0x1e}})), kInt64Min);  // mul
  EXPECT_EQ(eval(Concat({Const8(kMinusOne), {0x31, 0x22}})), 0u);                      // plus
  EXPECT_EQ(eval(Concat({Const8(kInt64Min), {0x31, 0x1c}})), kInt64Min - 1);           // minus
  EXPECT_EQ(eval(Concat({Const8(kMinusOne), {0x23, 0x02}})), 1u);                // plus_uconst
  EXPECT_EQ(eval(Concat({Const8(1), Const8(64), {0x24}})), 0u);                  // shl 64
  EXPECT_EQ(eval(Concat({Const8(kMinusOne), Const8(kMinusOne), {0x25}})), 0u);   // shr 2^64-1
  EXPECT_EQ(eval(Concat({Const8(kInt64Min), Const8(200), {0x26}})), kMinusOne);  // shra 200
  EXPECT_EQ(eval(Concat({Const8(kInt64Min), Const8(63), {0x26}})), kMinusOne);   // shra 63
}

}  // namespace
}  // namespace ephemera::stacks
