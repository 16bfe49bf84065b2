// The unwinder: walks a stopped thread's stack from its registers and the copied stack slice, using
// DWARF CFI where a module provides it and the rbp chain where it does not. Pure: all knowledge of
// the process's code comes through CodeMap, all memory from the StackSlice.
#ifndef EPHEMERA_DEBUGPOD_STACKS_UNWINDER_H_
#define EPHEMERA_DEBUGPOD_STACKS_UNWINDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "debugpod/stacks/call_frame_info.h"
#include "debugpod/stacks/machine_state.h"

namespace ephemera::stacks {

// What the unwinder needs to know about a process's code. Not required to be thread-safe.
class CodeMap {
 public:
  virtual ~CodeMap() = default;
  // True if runtime address `pc` lies in executable memory.
  virtual bool IsCode(uint64_t pc) = 0;
  // The CFI row for runtime address `pc`, with the CFA and register rules of the module that holds
  // it. NotFound when no CFI covers pc; other errors when the CFI is unusable.
  virtual StatusOr<UnwindRow> FindUnwindRow(uint64_t pc) = 0;
};

struct UnwoundFrame {
  uint64_t pc = 0;
  // True for return addresses (every frame but the first, except right after a signal frame): the
  // call instruction is at pc - 1, which is what symbol and CFI lookups should use.
  bool is_return_address = false;
};

struct UnwoundStack {
  std::vector<UnwoundFrame> frames;  // innermost first
  std::string method;                // "cfi", "frame-pointer" or "mixed"
  std::string stop_reason;           // why the walk ended, e.g. "end of stack", "frame limit"
};

// Walks at most `max_frames` frames. Never fails: a walk that cannot continue ends with the frames
// found so far and says why in stop_reason.
UnwoundStack UnwindStack(const RegisterSet& registers, const StackSlice& stack, CodeMap& code,
                         int max_frames);

// One step with a CFI row: the caller's registers, given the callee's. NotFound when a value it
// needs is outside the slice or unknown; FailedPrecondition with message "end of stack" when the
// row marks the return address undefined (the outermost frame).
StatusOr<RegisterSet> StepWithCfi(const UnwindRow& row, const RegisterSet& registers,
                                  const StackSlice& stack);

// One step along the rbp chain: caller's rip = [rbp + 8], rbp = [rbp], rsp = rbp + 16.
StatusOr<RegisterSet> StepWithFramePointer(const RegisterSet& registers, const StackSlice& stack);

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_UNWINDER_H_
