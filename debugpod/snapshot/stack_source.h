// StackSource: where the snapshot gets user-space stacks from. PtraceStackSource is the production
// one (debugpod/stacks over ptrace); tests use a fake with canned stacks.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_STACK_SOURCE_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_STACK_SOURCE_H_

#include "base/status.h"
#include "debugpod/procfs/proc_fs.h"
#include "debugpod/stacks/stack_capture.h"

namespace ephemera::snapshot {

class StackSource {
 public:
  virtual ~StackSource() = default;
  // Same contract as stacks::CaptureStacks: stops each thread of `pid` briefly, never past
  // options.deadline; per-thread failures are in ThreadStack::error.
  virtual StatusOr<stacks::ProcessStacks> Capture(int pid,
                                                  const stacks::StackCaptureOptions& options) = 0;
};

// Captures with stacks::CaptureStacks, reading maps and the thread list through `proc` (borrowed;
// it must outlive this and allow reads of stacks::kMaxMapsBytes). Safe to share.
class PtraceStackSource final : public StackSource {
 public:
  explicit PtraceStackSource(const procfs::ProcFs& proc) : proc_(proc) {}
  StatusOr<stacks::ProcessStacks> Capture(int pid,
                                          const stacks::StackCaptureOptions& options) override;

 private:
  const procfs::ProcFs& proc_;
};

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_STACK_SOURCE_H_
