// ReadGoroutines: every goroutine of a Go process, read from its memory (runtime.allglen and
// runtime.allgptr, the array of *g the runtime's own forEachGRace walks) through a MemoryReader,
// without stopping it. Pure over the MemoryReader and the Pclntab, so unit tests drive it with a
// FakeMemoryReader and hand-made bytes.
//
// What it shows matches Go's own goroutine dump (runtime.Stack(buf, true), GOTRACEBACK=all):
// dead goroutines are skipped, and so are the runtime's system goroutines (those whose start
// function is in package runtime, except runtime.main: GC workers, the scavenger, the finalizer
// goroutine, …), which the default traceback hides too; `total` counts what is shown, like
// runtime.NumGoroutine(). The target keeps running: every value is read racily and checked
// (pointers aligned, statuses known, stack pointers inside the goroutine's stack), and what
// fails a check becomes a `problems` line, never a crash or an unbounded loop.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_GOROUTINES_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_GOROUTINES_H_

#include <cstdint>

#include "base/status.h"
#include "debugpod/runtimes/golang/go_layout.h"
#include "debugpod/runtimes/golang/pclntab.h"
#include "debugpod/runtimes/memory_reader.h"
#include "debugpod/runtimes/runtime_stacks.h"

namespace ephemera::runtimes::golang {

// Where the runtime's state is in this process.
struct GoProcessView {
  const GoLayout* layout = nullptr;
  uint64_t allglen_address = 0;  // runtime addresses (ELF vaddr + load_bias)
  uint64_t allgptr_address = 0;
  uint64_t load_bias = 0;    // 0 for a non-PIE binary
  uint64_t gofunc = 0;       // ELF vaddr of go:func.* (inline trees); 0 if unknown
  int64_t now_nanotime = 0;  // the target's runtime.nanotime() now (CLOCK_MONOTONIC)
};

// Checks that `view` describes this process: allglen is sane, allgptr is an aligned pointer, and
// the first goroutine has goid 1 and starts in runtime.main (the main goroutine, allocated first
// and never freed). FailedPrecondition naming the check that failed; the memory's own errors
// (PermissionDenied, NotFound) as they are.
Status ValidateView(MemoryReader& memory, Pclntab& table, const GoProcessView& view);

// Appends the goroutines to `out.stacks` and sets `out.total`; adds `out.problems`. Stops at
// limits.max_stacks goroutines shown, after scanning 4 × max_stacks + 1024 slots, or at the
// deadline. An error only if nothing at all could be read (allglen / allgptr unreadable).
Status ReadGoroutines(MemoryReader& memory, Pclntab& table, const GoProcessView& view,
                      const VirtualReader* read_virtual, const RuntimeLimits& limits,
                      RuntimeStacks& out);

}  // namespace ephemera::runtimes::golang

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_GOROUTINES_H_
