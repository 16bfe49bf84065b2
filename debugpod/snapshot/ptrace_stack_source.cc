#include "debugpod/snapshot/stack_source.h"

namespace ephemera::snapshot {

StatusOr<stacks::ProcessStacks> PtraceStackSource::Capture(
    int pid, const stacks::StackCaptureOptions& options) {
  return stacks::CaptureStacks(pid, proc_, options);
}

}  // namespace ephemera::snapshot
