// Evaluation of the DWARF expressions that call-frame information uses (DW_CFA_def_cfa_expression,
// DW_CFA_expression, DW_CFA_val_expression): the stack-machine subset of DWARF 5 section 2.5 that
// compilers emit for x86-64 PLT entries and signal trampolines. Pure.
#ifndef EPHEMERA_DEBUGPOD_STACKS_DWARF_EXPRESSION_H_
#define EPHEMERA_DEBUGPOD_STACKS_DWARF_EXPRESSION_H_

#include <cstdint>
#include <optional>
#include <span>

#include "base/status.h"
#include "debugpod/stacks/machine_state.h"

namespace ephemera::stacks {

// Evaluates `expression` and returns the value on top of the stack. `initial`, when set, is pushed
// before evaluation (the CFA, for DW_CFA_expression and DW_CFA_val_expression). Memory reads
// (DW_OP_deref) are served from `memory` only.
// Errors: InvalidArgument for malformed or unsupported operations and for arithmetic with no
// defined result (division or modulo by zero, INT64_MIN / -1), NotFound when a register it needs
// is unknown or a read falls outside `memory`, ResourceExhausted past 10000 operations or 256
// stack entries. Arithmetic otherwise wraps modulo 2^64, and shifts by 64 or more give 0 (or the
// sign for DW_OP_shra), so no input is undefined behaviour.
StatusOr<uint64_t> EvaluateDwarfExpression(std::span<const uint8_t> expression,
                                           const RegisterSet& registers, const StackSlice& memory,
                                           std::optional<uint64_t> initial);

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_DWARF_EXPRESSION_H_
