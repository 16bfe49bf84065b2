// User-space stack capture with minimal freeze (x86-64 Linux).
//
// CaptureStacks stops each thread of a process just long enough to copy its registers and a bounded
// slice of its stack, then resumes it (a few threads are interrupted at once, and each is copied
// and resumed as soon as it stops); unwinding (DWARF CFI from .eh_frame, frame-pointer fallback)
// and symbolization (ELF .symtab/.dynsym of the binaries under <proc_root>/<pid>/root) happen only
// after the thread runs again. The result holds program counters, symbol names and module paths
// only, never memory contents.
//
// Thread safety: CaptureStacks is reentrant; concurrent captures of the same pid fail for the
// threads another tracer holds. It blocks SIGCHLD on the calling thread while threads are being
// stopped (stop notifications arrive as SIGCHLD) and raises one SIGCHLD afterwards if the caller
// has a handler and may have missed one. Callers with other threads should block SIGCHLD in them
// too: a stop notification taken by another thread is lost, and each stop is then noticed by
// polling (every 50 µs at first, backing off to 1 ms) instead of at once. Requires CAP_SYS_PTRACE,
// or the same uid with kernel.yama.ptrace_scope 0.
#ifndef EPHEMERA_DEBUGPOD_STACKS_STACK_CAPTURE_H_
#define EPHEMERA_DEBUGPOD_STACKS_STACK_CAPTURE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "debugpod/procfs/proc_fs.h"

namespace ephemera::stacks {

// The most of /proc/<pid>/maps read. The target chooses how many mappings it has (up to
// vm.max_map_count, 65530 by default) and their paths (up to PATH_MAX each), so the text could
// reach hundreds of MiB, held three times over (text, entries, the copy for the capture). 16 MiB
// is 65530 lines of 256 bytes; a map larger than that is refused and stacks keep their pcs only.
// The ProcFs given to CaptureStacks should allow reads this large.
inline constexpr size_t kMaxMapsBytes = size_t{16} << 20;

// One frame of a user-space stack, innermost first.
struct Frame {
  uint64_t pc = 0;
  std::string symbol;  // demangled function name, empty if unknown
  uint64_t symbol_offset = 0;
  std::string module;  // path of the ELF the pc falls in, as seen in /proc/<pid>/maps
};

struct ThreadStack {
  int tid = 0;
  std::vector<Frame> frames;
  // Time this thread was stopped, an upper bound: from the last moment the tool knew it was not
  // stopped (its PTRACE_INTERRUPT, or a later wait that found no thread stopped) until
  // PTRACE_DETACH returned. Time a busy thread spent runnable, waiting for a CPU before reaching
  // its stop, is not counted. Rounded up, so > 0 once it was seen stopped; 0 if it never was.
  // See CapturedThread::freeze for threads given up on.
  std::chrono::microseconds freeze{0};
  // From the tool seeing the stop until PTRACE_DETACH returned (registers and stack copied): the
  // tool's own share of the freeze, a lower bound; the rest is the tool noticing the stop (being
  // woken and scheduled) and, when several threads stopped together, the copies taken before.
  std::chrono::microseconds held{0};
  std::string unwind;       // "cfi", "frame-pointer", "mixed"; empty when error is set
  std::string error;        // non-empty if this thread could not be captured, with the reason
  std::string stop_reason;  // why the walk ended ("end of stack", "frame limit", ...), if captured
};

struct StackCaptureOptions {
  size_t stack_bytes =
      size_t{32} * 1024;  // bounded slice of each thread's stack copied while stopped
  int max_frames = 64;
  std::chrono::steady_clock::time_point deadline;  // give up (resume everything) once passed
  // Another reason to give up (the snapshot tool's CPU and memory budget:
  // debugpod/snapshot/budget.h): asked before each further thread is stopped and before each
  // binary is read for symbols, on the capture's ptrace thread or the caller's, so it must be
  // thread safe. Unlike the deadline, threads already interrupted are still captured. Empty: none.
  std::function<bool()> stop_early;
  // Where the binaries (<proc_root>/<pid>/root/..., map_files/) and <pid>/mem are opened: files
  // read as bytes, not text, so not through ProcFs. Give the same root as the ProcFs.
  std::string proc_root = "/proc";
  // How long one thread may take to reach its stop; a thread in uninterruptible sleep never does
  // and is reported with an ETIMEDOUT error instead (it is released when the capture finishes).
  std::chrono::milliseconds stop_timeout{500};
};

struct ProcessStacks {
  std::vector<ThreadStack> threads;
  std::chrono::microseconds total_freeze{0};
  std::chrono::microseconds max_thread_freeze{0};
  // "path: reason" for binaries that could not be read or were refused by a cap (ElfLimits, the
  // per-process module budget), and the reason when the memory map itself was too large to read.
  // Their frames keep pc and module but have no symbol (and no CFI-based unwinding).
  std::vector<std::string> module_errors;
};

// Captures every thread of `pid`. The memory map (maps) and the thread list (task/) come from
// `proc`, so tests can point it at a fixture or fail a read. Per thread: PTRACE_SEIZE +
// PTRACE_INTERRUPT, wait for the stop, copy registers (PTRACE_GETREGSET NT_PRSTATUS) and up to
// stack_bytes above SP (process_vm_readv, falling back to /proc/<pid>/mem), PTRACE_DETACH
// immediately; unwind and symbolize only AFTER the thread runs again (while the capture waits for
// other threads to stop, so at most 2 x kStopWindow stack copies are held at a time; when the
// memory map could not be read beforehand, after every thread). Up to kStopWindow threads
// (ptrace_thread_capture.h) wait for their stop at once, so threads that each wait long for a busy
// CPU are waited for together; threads that stop at once are taken one at a time.
//
// A default-constructed (epoch) deadline means "no deadline". Once it passes, no further thread is
// stopped (those left are reported with error "deadline exceeded before this thread was stopped"),
// stops in progress are waited for no longer ("deadline exceeded while waiting for this thread to
// stop"), and no further binary is read for symbols (frames keep their pc and module). Once
// stop_early says so, no further thread is stopped either (error "budget reached before this thread
// was stopped") and no further binary is read, but stops in progress are still taken. Nothing stays
// stopped or traced after the call returns.
//
// Errors: PermissionDenied (with the errno name, e.g. "EPERM: ptrace not permitted (needs
// CAP_SYS_PTRACE or same uid and ptrace_scope 0)") if no thread could be attached; NotFound if the
// process does not exist; InvalidArgument for pid <= 0; FailedPrecondition for the calling process
// itself and on architectures other than x86-64. Per-thread failures are reported in
// ThreadStack::error and do not fail the call.
StatusOr<ProcessStacks> CaptureStacks(int pid, const procfs::ProcFs& proc,
                                      const StackCaptureOptions& options);

}  // namespace ephemera::stacks

#endif  // EPHEMERA_DEBUGPOD_STACKS_STACK_CAPTURE_H_
