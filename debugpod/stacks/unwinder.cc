#include "debugpod/stacks/unwinder.h"

#include "debugpod/stacks/dwarf_expression.h"

namespace ephemera::stacks {

StatusOr<RegisterSet> StepWithCfi(const UnwindRow& row, const RegisterSet& registers,
                                  const StackSlice& stack) {
  uint64_t cfa = 0;
  if (row.cfa.kind == CfaRule::Kind::kRegisterOffset) {
    std::optional<uint64_t> base = registers.Get(row.cfa.reg);
    if (!base) return NotFoundError("CFA register unknown");
    cfa = *base + static_cast<uint64_t>(row.cfa.offset);
  } else {
    StatusOr<uint64_t> v = EvaluateDwarfExpression(row.cfa.expression, registers, stack, {});
    if (!v.ok()) return v.status();
    cfa = *v;
  }

  RegisterSet caller = registers;
  for (int reg = 0; reg < kNumRegisters; ++reg) {
    const RegisterRule& rule = row.registers[static_cast<size_t>(reg)];
    std::optional<uint64_t> value;
    switch (rule.kind) {
      case RegisterRule::Kind::kSameValue:
        continue;
      case RegisterRule::Kind::kUndefined:
        break;
      case RegisterRule::Kind::kOffset:
        value = stack.Read64(cfa + static_cast<uint64_t>(rule.offset));
        break;
      case RegisterRule::Kind::kValOffset:
        value = cfa + static_cast<uint64_t>(rule.offset);
        break;
      case RegisterRule::Kind::kRegister:
        value = registers.Get(rule.reg);
        break;
      case RegisterRule::Kind::kExpression: {
        StatusOr<uint64_t> address =
            EvaluateDwarfExpression(rule.expression, registers, stack, cfa);
        if (address.ok()) value = stack.Read64(*address);
        break;
      }
      case RegisterRule::Kind::kValExpression: {
        StatusOr<uint64_t> v = EvaluateDwarfExpression(rule.expression, registers, stack, cfa);
        if (v.ok()) value = *v;
        break;
      }
    }
    if (value) {
      caller.Set(reg, *value);
    } else {
      caller.Forget(reg);
    }
  }

  const RegisterRule& ra_rule = row.registers[static_cast<size_t>(row.return_address_register)];
  if (ra_rule.kind == RegisterRule::Kind::kUndefined) {
    return FailedPreconditionError("end of stack");
  }
  std::optional<uint64_t> ra = caller.Get(row.return_address_register);
  if (!ra) return NotFoundError("return address outside the copied stack");
  if (row.registers[kRegRsp].kind == RegisterRule::Kind::kSameValue) caller.Set(kRegRsp, cfa);
  caller.Set(kRegRip, *ra);
  return caller;
}

StatusOr<RegisterSet> StepWithFramePointer(const RegisterSet& registers, const StackSlice& stack) {
  std::optional<uint64_t> rbp = registers.Get(kRegRbp);
  std::optional<uint64_t> rsp = registers.Get(kRegRsp);
  if (!rbp || *rbp == 0) return NotFoundError("no frame pointer");
  if (rsp && *rbp < *rsp) return NotFoundError("frame pointer below the stack pointer");
  if (*rbp % 8 != 0) return NotFoundError("frame pointer misaligned");
  std::optional<uint64_t> saved_rbp = stack.Read64(*rbp);
  std::optional<uint64_t> ra = stack.Read64(*rbp + 8);
  if (!saved_rbp || !ra) return NotFoundError("frame pointer outside the copied stack");
  // Only rbp, rsp and rip are known to be right after a frame-pointer step.
  RegisterSet caller;
  caller.Set(kRegRbp, *saved_rbp);
  caller.Set(kRegRsp, *rbp + 16);
  caller.Set(kRegRip, *ra);
  return caller;
}

UnwoundStack UnwindStack(const RegisterSet& registers, const StackSlice& stack, CodeMap& code,
                         int max_frames) {
  UnwoundStack out;
  std::optional<uint64_t> pc = registers.Get(kRegRip);
  if (!pc || max_frames <= 0) {
    out.method = "cfi";
    out.stop_reason = pc ? "frame limit" : "no instruction pointer";
    return out;
  }
  out.frames.push_back({*pc, false});
  RegisterSet current = registers;
  bool exact_pc = true;  // the first frame, and the frame after a signal frame
  int cfi_steps = 0;
  int fp_steps = 0;
  bool first_had_cfi = false;

  while (true) {
    if (static_cast<int>(out.frames.size()) >= max_frames) {
      out.stop_reason = "frame limit";
      break;
    }
    uint64_t here = *current.Get(kRegRip);
    uint64_t lookup = exact_pc ? here : here - 1;
    StatusOr<RegisterSet> caller = NotFoundError("no CFI");
    bool signal_frame = false;
    bool used_cfi = false;
    StatusOr<UnwindRow> row = code.FindUnwindRow(lookup);
    if (row.ok()) {
      if (out.frames.size() == 1) first_had_cfi = true;
      signal_frame = row->signal_frame;
      caller = StepWithCfi(*row, current, stack);
      if (!caller.ok() && caller.status().code() == StatusCode::kFailedPrecondition) {
        out.stop_reason = "end of stack";
        break;
      }
      used_cfi = caller.ok();
    }
    if (!caller.ok()) {
      signal_frame = false;
      caller = StepWithFramePointer(current, stack);
      if (!caller.ok()) {
        out.stop_reason = caller.status().message();
        break;
      }
    }
    uint64_t next_pc = *caller->Get(kRegRip);
    std::optional<uint64_t> old_sp = current.Get(kRegRsp);
    std::optional<uint64_t> new_sp = caller->Get(kRegRsp);
    if (next_pc == 0) {
      out.stop_reason = "end of stack";
      break;
    }
    // A return address may sit one past its function (a call to a noreturn function ends it).
    if (!code.IsCode(signal_frame ? next_pc : next_pc - 1)) {
      out.stop_reason = "return address outside executable memory";
      break;
    }
    if (!signal_frame && old_sp && (!new_sp || *new_sp <= *old_sp)) {
      out.stop_reason = "stack pointer did not move up";
      break;
    }
    (used_cfi ? cfi_steps : fp_steps) += 1;
    exact_pc = signal_frame;
    out.frames.push_back({next_pc, !exact_pc});
    current = *caller;
  }

  if (cfi_steps > 0 && fp_steps > 0) {
    out.method = "mixed";
  } else if (fp_steps > 0 || (cfi_steps == 0 && !first_had_cfi)) {
    out.method = "frame-pointer";
  } else {
    out.method = "cfi";
  }
  return out;
}

}  // namespace ephemera::stacks
