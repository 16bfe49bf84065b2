// The part of stack capture that touches the target: stop threads with ptrace, a few at a time,
// copy each one's registers and a bounded slice of its stack as soon as it stops, and resume it.
// Nothing here unwinds or symbolizes; that happens after each thread runs again.
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

// The most threads interrupted and not yet seen stopped at once. A busy thread reaches its stop
// only when the scheduler next runs it: with 1000 threads spinning on one CPU that took 50-130 ms
// each, so stopping one thread at a time took 60-90 s; waiting for 16 at a time, the same capture
// took under a second (ephemera-bench-freeze, docs/performance.md). Each
// stop is still copied and detached as soon as it is seen, so a thread waits behind at most the
// copies (~10-50 us each) of the threads that stopped at the same moment. The window only widens
// while threads are slow to stop (see kWidenAfter in the .cc): threads that stop at once are taken
// one at a time, as before. Each thread in the window holds a stack_bytes buffer (16 x 32 KiB).
inline constexpr size_t kStopWindow = 16;

struct CapturedThread {
  int tid = 0;
  RegisterSet registers;
  StackSlice stack;  // empty when the copy failed (see copy_error)
  // How long the thread may have been stopped, an upper bound: from the last moment it was known
  // not to be stopped (its PTRACE_INTERRUPT, or the start of a later wait that found no thread
  // stopped) until PTRACE_DETACH returned. It covers the tool noticing the stop and the copies of
  // threads that stopped just before it, but not the time an interrupted thread spent waiting for
  // a CPU before it reached its stop (it was runnable then, as it would have been anyway). Rounded
  // up, so > 0 once the thread was seen stopped; 0 for a thread never seen stopped. A thread given
  // up on (ETIMEDOUT) that stops while the capture still runs is detached at once and this counts
  // that stop; one that stops after the capture's last look is released by the kernel when the
  // capture thread exits, microseconds later, and that is not counted.
  std::chrono::microseconds freeze{0};
  // From this tool seeing the stop until PTRACE_DETACH returned: the copy itself, a lower bound
  // of the freeze.
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
  // Asked before each further thread is stopped (not past the deadline), on the calling thread;
  // once true, no further thread is stopped: those never interrupted are reported with ECANCELED
  // "budget reached before this thread was stopped", while threads already interrupted are still
  // waited for (up to stop_timeout) and captured. Empty: never.
  std::function<bool()> stop_early;
  // How long one thread may take from its PTRACE_INTERRUPT to the stop (a thread in
  // uninterruptible sleep never gets there).
  std::chrono::milliseconds stop_timeout{500};
  // The target's memory map, read before stopping anything: the stack copy never runs past the end
  // of the mapping that holds the stack pointer.
  std::vector<procfs::MapEntry> maps;
  // If set, called on the capture thread with each thread after it was resumed (or failed), in
  // two kinds of moments: when no thread is interrupted at all (then it delays no one), and while
  // the tool waits for the window's threads to reach their stops and none has been seen stopped
  // (then a thread that stops meanwhile waits for the call to return). It may consume the thread's
  // stack copy (unwind it, then free it): at most kStopWindow results wait for it, so memory stays
  // bounded by 2 x kStopWindow copies instead of one per thread. The window opens only after the
  // first captured thread was handed to it, so that the first unwind, which loads the modules
  // most threads share, runs while nothing is interrupted. Not called for threads skipped at the
  // deadline.
  std::function<void(CapturedThread&)> on_resumed;
};

// Captures every thread `proc` lists for the pid (ProcFs::ListTasks), re-listing once more for
// threads created meanwhile; a thread's TracerPid, for the error when another tracer holds it, and
// while waiting for the release below, is read through `proc` too; results are sorted by tid.
//
// Per thread: PTRACE_SEIZE + PTRACE_INTERRUPT, and up to kStopWindow threads are waiting for
// their stop at once; whichever stops first is copied and detached, then the window is refilled.
// Stops are waited for with waitpid(-1, __WALL | __WNOTHREAD | WNOHANG), which sees only this
// capture's tracees, never the caller's children. A thread that does not stop within stop_timeout
// (uninterruptible sleep) gets an ETIMEDOUT error; one that exits meanwhile an ESRCH error. Once
// the deadline passes no further thread is interrupted, the window's threads are given up on
// (ETIMEDOUT, "deadline exceeded while waiting ...") and those never reached get "deadline exceeded
// before this thread was stopped".
//
// No thread is left stopped or traced when this returns: a stopped thread is detached right after
// its copy, a given-up thread that stops later is detached as soon as it is seen, and the ptrace
// work runs on a dedicated thread whose exit makes the kernel release the threads that never
// reached a stop (they cannot be detached otherwise); this waits for that release (up to 1 s).
// While it runs, SIGCHLD is blocked on the calling thread (stop notifications arrive as SIGCHLD and
// are waited for with sigtimedwait); if the caller has a SIGCHLD handler and a SIGCHLD was
// consumed, one is raised again for it. Per-thread failures are reported in CapturedThread::error;
// the call itself fails only when the task list cannot be read (NotFound / PermissionDenied), when
// the capture thread cannot be started (ResourceExhausted) or on a non-x86-64 build
// (FailedPrecondition).
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
