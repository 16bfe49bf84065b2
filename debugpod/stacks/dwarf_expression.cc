#include "debugpod/stacks/dwarf_expression.h"

#include <limits>
#include <string>
#include <vector>

#include "debugpod/stacks/byte_reader.h"

namespace ephemera::stacks {
namespace {

constexpr size_t kMaxOperations = 10000;
constexpr size_t kMaxStackDepth = 256;

// DW_OP_* opcodes (DWARF 5, section 7.7.1).
enum : uint8_t {
  kOpAddr = 0x03,
  kOpDeref = 0x06,
  kOpConst1u = 0x08,
  kOpConst1s = 0x09,
  kOpConst2u = 0x0a,
  kOpConst2s = 0x0b,
  kOpConst4u = 0x0c,
  kOpConst4s = 0x0d,
  kOpConst8u = 0x0e,
  kOpConst8s = 0x0f,
  kOpConstu = 0x10,
  kOpConsts = 0x11,
  kOpDup = 0x12,
  kOpDrop = 0x13,
  kOpOver = 0x14,
  kOpPick = 0x15,
  kOpSwap = 0x16,
  kOpRot = 0x17,
  kOpAbs = 0x19,
  kOpAnd = 0x1a,
  kOpDiv = 0x1b,
  kOpMinus = 0x1c,
  kOpMod = 0x1d,
  kOpMul = 0x1e,
  kOpNeg = 0x1f,
  kOpNot = 0x20,
  kOpOr = 0x21,
  kOpPlus = 0x22,
  kOpPlusUconst = 0x23,
  kOpShl = 0x24,
  kOpShr = 0x25,
  kOpShra = 0x26,
  kOpXor = 0x27,
  kOpBra = 0x28,
  kOpEq = 0x29,
  kOpGe = 0x2a,
  kOpGt = 0x2b,
  kOpLe = 0x2c,
  kOpLt = 0x2d,
  kOpNe = 0x2e,
  kOpSkip = 0x2f,
  kOpLit0 = 0x30,
  kOpLit31 = 0x4f,
  kOpBreg0 = 0x70,
  kOpBreg31 = 0x8f,
  kOpBregx = 0x92,
  kOpDerefSize = 0x94,
  kOpNop = 0x96,
};

std::string Hex(uint8_t op) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[op >> 4] + kDigits[op & 0xf];
}

}  // namespace

StatusOr<uint64_t> EvaluateDwarfExpression(std::span<const uint8_t> expression,
                                           const RegisterSet& registers, const StackSlice& memory,
                                           std::optional<uint64_t> initial) {
  std::vector<uint64_t> stack;
  if (initial) stack.push_back(*initial);
  ByteReader in(expression);

  auto need = [&](size_t n) { return stack.size() >= n; };
  auto pop = [&] {
    uint64_t v = stack.back();
    stack.pop_back();
    return v;
  };
  auto push_register = [&](uint64_t reg, int64_t offset) -> Status {
    std::optional<uint64_t> v = reg < static_cast<uint64_t>(kNumRegisters)
                                    ? registers.Get(static_cast<int>(reg))
                                    : std::nullopt;
    if (!v) return NotFoundError("expression uses unknown register " + std::to_string(reg));
    stack.push_back(*v + static_cast<uint64_t>(offset));
    return OkStatus();
  };

  for (size_t steps = 0; !in.AtEnd(); ++steps) {
    if (steps >= kMaxOperations) return ResourceExhaustedError("DWARF expression did not finish");
    if (stack.size() > kMaxStackDepth) {
      return ResourceExhaustedError("DWARF expression stack overflow");
    }
    uint8_t op = in.U8();
    if (op >= kOpLit0 && op <= kOpLit31) {
      stack.push_back(op - kOpLit0);
      continue;
    }
    if (op >= kOpBreg0 && op <= kOpBreg31) {
      int64_t offset = in.Sleb128();
      if (!in.Ok()) break;
      EPHEMERA_RETURN_IF_ERROR(push_register(op - kOpBreg0, offset));
      continue;
    }
    switch (op) {
      case kOpAddr:
        stack.push_back(in.U64());
        break;
      case kOpConst1u:
        stack.push_back(in.U8());
        break;
      case kOpConst1s:
        stack.push_back(static_cast<uint64_t>(int64_t{in.S8()}));
        break;
      case kOpConst2u:
        stack.push_back(in.U16());
        break;
      case kOpConst2s:
        stack.push_back(static_cast<uint64_t>(int64_t{in.S16()}));
        break;
      case kOpConst4u:
        stack.push_back(in.U32());
        break;
      case kOpConst4s:
        stack.push_back(static_cast<uint64_t>(int64_t{in.S32()}));
        break;
      case kOpConst8u:
      case kOpConst8s:
        stack.push_back(in.U64());
        break;
      case kOpConstu:
        stack.push_back(in.Uleb128());
        break;
      case kOpConsts:
        stack.push_back(static_cast<uint64_t>(in.Sleb128()));
        break;
      case kOpBregx: {
        uint64_t reg = in.Uleb128();
        int64_t offset = in.Sleb128();
        if (!in.Ok()) break;
        EPHEMERA_RETURN_IF_ERROR(push_register(reg, offset));
        break;
      }
      case kOpNop:
        break;
      case kOpSkip:
      case kOpBra: {
        int16_t delta = in.S16();
        if (!in.Ok()) break;
        bool jump = true;
        if (op == kOpBra) {
          if (!need(1)) return InvalidArgumentError("DW_OP_bra on empty stack");
          jump = pop() != 0;
        }
        if (jump) {
          int64_t target = static_cast<int64_t>(in.Position()) + delta;
          if (target < 0 || static_cast<size_t>(target) > expression.size()) {
            return InvalidArgumentError("DWARF expression branches out of bounds");
          }
          in.Seek(static_cast<size_t>(target));
        }
        break;
      }
      case kOpDup:
      case kOpDrop:
      case kOpDeref:
      case kOpDerefSize:
      case kOpAbs:
      case kOpNeg:
      case kOpNot:
      case kOpPlusUconst: {
        if (!need(1)) return InvalidArgumentError("DWARF expression stack underflow");
        uint64_t a = pop();
        if (op == kOpDup) {
          stack.push_back(a);
          stack.push_back(a);
        } else if (op == kOpDeref || op == kOpDerefSize) {
          unsigned size = op == kOpDeref ? 8 : in.U8();
          if (size == 0 || size > 8) return InvalidArgumentError("bad DW_OP_deref_size");
          std::optional<uint64_t> v = memory.Read64(a);
          if (!v) return NotFoundError("DW_OP_deref outside the copied stack");
          stack.push_back(size == 8 ? *v : *v & ((uint64_t{1} << (size * 8)) - 1));
        } else if (op == kOpAbs) {
          int64_t s = static_cast<int64_t>(a);
          stack.push_back(s < 0 ? static_cast<uint64_t>(0) - a : a);
        } else if (op == kOpNeg) {
          stack.push_back(static_cast<uint64_t>(0) - a);
        } else if (op == kOpNot) {
          stack.push_back(~a);
        } else if (op == kOpPlusUconst) {
          stack.push_back(a + in.Uleb128());
        }
        break;
      }
      case kOpOver:
        if (!need(2)) return InvalidArgumentError("DWARF expression stack underflow");
        stack.push_back(stack[stack.size() - 2]);
        break;
      case kOpPick: {
        uint8_t index = in.U8();
        if (!need(size_t{index} + 1)) return InvalidArgumentError("DW_OP_pick out of range");
        stack.push_back(stack[stack.size() - 1 - index]);
        break;
      }
      case kOpSwap:
        if (!need(2)) return InvalidArgumentError("DWARF expression stack underflow");
        std::swap(stack[stack.size() - 1], stack[stack.size() - 2]);
        break;
      case kOpRot: {
        if (!need(3)) return InvalidArgumentError("DWARF expression stack underflow");
        size_t n = stack.size();
        uint64_t top = stack[n - 1];
        stack[n - 1] = stack[n - 2];
        stack[n - 2] = stack[n - 3];
        stack[n - 3] = top;
        break;
      }
      case kOpAnd:
      case kOpDiv:
      case kOpMinus:
      case kOpMod:
      case kOpMul:
      case kOpOr:
      case kOpPlus:
      case kOpShl:
      case kOpShr:
      case kOpShra:
      case kOpXor:
      case kOpEq:
      case kOpGe:
      case kOpGt:
      case kOpLe:
      case kOpLt:
      case kOpNe: {
        if (!need(2)) return InvalidArgumentError("DWARF expression stack underflow");
        uint64_t b = pop();
        uint64_t a = pop();
        auto sa = static_cast<int64_t>(a);
        auto sb = static_cast<int64_t>(b);
        uint64_t r = 0;
        switch (op) {
          case kOpAnd:
            r = a & b;
            break;
          case kOpDiv:
            // Signed, as DWARF 5 section 2.5.1.4 says; INT64_MIN / -1 has no int64_t result (and
            // traps on x86-64), so it is refused like a division by zero.
            if (b == 0) return InvalidArgumentError("DWARF expression divides by zero");
            if (sa == std::numeric_limits<int64_t>::min() && sb == -1) {
              return InvalidArgumentError("DWARF expression division overflows");
            }
            r = static_cast<uint64_t>(sa / sb);
            break;
          case kOpMinus:
            r = a - b;
            break;
          case kOpMod:
            if (b == 0) return InvalidArgumentError("DWARF expression divides by zero");
            r = a % b;
            break;
          case kOpMul:
            r = a * b;
            break;
          case kOpOr:
            r = a | b;
            break;
          case kOpPlus:
            r = a + b;
            break;
          case kOpShl:
            r = b >= 64 ? 0 : a << b;
            break;
          case kOpShr:
            r = b >= 64 ? 0 : a >> b;
            break;
          case kOpShra:
            r = static_cast<uint64_t>(b >= 64 ? (sa < 0 ? -1 : 0) : sa >> b);
            break;
          case kOpXor:
            r = a ^ b;
            break;
          case kOpEq:
            r = sa == sb;
            break;
          case kOpGe:
            r = sa >= sb;
            break;
          case kOpGt:
            r = sa > sb;
            break;
          case kOpLe:
            r = sa <= sb;
            break;
          case kOpLt:
            r = sa < sb;
            break;
          case kOpNe:
            r = sa != sb;
            break;
          default:
            break;
        }
        stack.push_back(r);
        break;
      }
      default:
        return InvalidArgumentError("unsupported DWARF expression operation " + Hex(op));
    }
    if (!in.Ok()) break;
  }
  if (!in.Ok()) return InvalidArgumentError("truncated DWARF expression");
  if (stack.empty()) return InvalidArgumentError("DWARF expression left an empty stack");
  return stack.back();
}

}  // namespace ephemera::stacks
