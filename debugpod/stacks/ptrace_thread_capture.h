// The part of stack capture that touches the target: stop one thread with ptrace, copy its
// registers and a bounded slice of its stack, resume it, then the next. Nothing here unwinds or
// symbolizes; that happens after every thread runs again.
#ifndef EPHEMERA_DEBUGPOD_STACKS_PTRACE_THREAD_CAPTURE_H_
#define EPHEMERA_DEBUGPOD_STACKS_PTRACE_THREAD_CAPTURE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "debugpod/procfs/maps.h"
#include "debugpod/procfs/proc_fs.h"
#include "debugpod/stacks/machine_state.h"

namespace ephemera::stacks {

enum class MemorySource { kNone, kProcessVmReadv, kProcMem };

struct CapturedThread {
  int tid = 0;
  RegisterSet registers;
  StackSlice stack;                     // empty when the copy failed (see copy_error)
  std::chrono::microseconds freeze{0};  // PTRACE_INTERRUPT until PTRACE_DETACH returned
  // From seeing the stop until PTRACE_DETACH returned: the copy itself, a lower bound of the
  // freeze (the thread stopped somewhere between PTRACE_INTERRUPT and this tool seeing it).
  std::chrono::microseconds held{0};
  int error_number = 0;  // errno behind `error`, 0 when captured
  std::string error;     // empty when captured
  MemorySource memory_source = MemorySource::kNone;
  std::string copy_error;  // why the stack could not be copied, if it could not
};

struct ThreadCaptureRequest {
  int pid = 0;
  std::string proc_root = "/proc";  // where <pid>/mem is opened (the fallback of the stack copy)
  size_t stack_bytes = size_t{32} * 1024;
  // Threads not yet stopped when it passes are reported with an error; default: none.
  std::chrono::steady_clock::time_point deadline;
  // Asked before each thread is stopped, on the capture's ptrace thread; true: threads not yet
  // stopped are reported with an error, as after the deadline. Empty: never.
  std::function<bool()> stop_early;
  // How long one thread may take to reach the stop (a thread in uninterruptible sleep never does).
  std::chrono::milliseconds stop_timeout{500};
  // The target's memory map, read before stopping anything: the stack copy never runs past the end
  // of the mapping that holds the stack pointer.
  std::vector<procfs::MapEntry> maps;
  // If set, called on the capture thread with each thread right after it was resumed (or failed),
  // before the next one is stopped. It may consume the thread's stack copy (unwind it, then free
  // it), which keeps memory bounded by one copy instead of one per thread.
  std::function<void(CapturedThread&)> on_resumed;
};

// Captures every thread `proc` lists for the pid (ProcFs::ListTasks), re-listing once more for
// threads created meanwhile; a thread's TracerPid, for the error when another tracer holds it, is
// read through `proc` too; results are sorted by tid. Runs the ptrace work on a dedicated thread
// that exits before this returns, so the kernel releases any thread that could not be detached in
// time (one that did not reach the stop before its timeout). Only one target thread is stopped at a
// time. While it runs, SIGCHLD is blocked on the calling thread (stop notifications arrive as
// SIGCHLD and are waited for with sigtimedwait); if the caller has a SIGCHLD handler and a SIGCHLD
// was consumed, one is raised again for it. Per-thread failures are reported in
// CapturedThread::error; the call itself fails only when the task list cannot be read (NotFound /
// PermissionDenied) or on a non-x86-64 build (FailedPrecondition).
StatusOr<std::vector<CapturedThread>> CaptureThreadStates(const procfs::ProcFs& proc,
                                                          const ThreadCaptureRequest& request);

// Copies `pid`'s memory at `address` into `out` with process_vm_readv and returns the number of
// bytes copied: fewer than out.size() when an unreadable page follows. Fails (with the errno name)
// if not even one byte is readable. Allocates nothing on success (it runs while a thread is
// stopped).
StatusOr<size_t> ReadMemoryWithProcessVmReadv(int pid, uint64_t address, std::span<uint8_t> out);
// The same through an open /proc/<pid>/mem descriptor.
StatusOr<size_t> ReadMemoryWithProcMem(int mem_fd, uint64_t address, std::span<uint8_t> out);

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_PTRACE_THREAD_CAPTURE_H_
