#include "debugpod/stacks/stack_capture.h"

namespace ephemera::stacks {

StatusOr<ProcessStacks> CaptureStacks(int /*pid*/, const StackCaptureOptions& /*options*/) {
  return FailedPreconditionError("stack capture not implemented yet");
}

}  // namespace ephemera::stacks
