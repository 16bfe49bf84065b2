// Fuzzes EvaluateDwarfExpression (debugpod/stacks/dwarf_expression.h): the expressions come from
// the target's CFI (DW_CFA_def_cfa_expression, DW_CFA_expression, DW_CFA_val_expression). Every
// input must evaluate or fail with a status: no trap (INT64_MIN / -1), no undefined behaviour
// (the fuzz build runs UBSan), no unbounded work.
//
// Input: byte 0: bit 0 pushes an initial value (the CFA), bits 1-7 pick which registers are
// known; byte 1: where the expression ends (a fraction of the rest); the expression; the rest is
// the stack copy, which the registers point into.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "debugpod/stacks/dwarf_expression.h"
#include "debugpod/stacks/machine_state.h"

namespace stacks = ephemera::stacks;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const size_t rest_size = size - 2;
  const size_t expression_size = rest_size * (size_t{data[1]} + 1) / 256;
  std::span<const uint8_t> expression(data + 2, expression_size);

  stacks::StackSlice stack;
  stack.base = 0x7ffc0000;
  stack.bytes.assign(data + 2 + expression_size, data + size);
  stacks::RegisterSet registers;
  for (int reg = 0; reg < stacks::kNumRegisters; ++reg) {
    if ((flags >> (1 + reg % 7)) & 1) {
      registers.Set(reg, stack.base + 8 * static_cast<uint64_t>(reg));
    }
  }
  std::optional<uint64_t> initial;
  if (flags & 1) initial = stack.base + 16;
  (void)stacks::EvaluateDwarfExpression(expression, registers, stack, initial);
  return 0;
}
