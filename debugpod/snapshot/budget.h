// CaptureBudget: what the snapshot tool may spend, and whether it may go on.
//
// Ephemeral containers cannot have resource limits (the kubelet gives them none; they use the pod's
// spare capacity), so the tool enforces its own: wall-clock time (--deadline), CPU time
// (--cpu-budget) and peak resident memory (--memory-budget). The capture asks Reached() between
// units of work (a section of a process, a thread, an fd, a runtime reader, a binary loaded for
// symbols); once it says yes, the current section stops, it and every section not yet captured are
// reported `degraded` with Reason(), and the document is written as usual. The first budget
// reached is the one reported, and it stays reached. The kernel backstops (RLIMIT_CPU, RLIMIT_DATA,
// set by main a margin above these budgets) stop a tool that runs away between two checks.
//
// Pure over its seams: time from a base::Clock, CPU and memory from ToolMeters, so tests drive all
// three by hand. Thread safety: Reached() may be called from any thread (the stack capture asks it
// from its ptrace thread).
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_BUDGET_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_BUDGET_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/mutex.h"

namespace ephemera::snapshot {

// The tool's own consumption. Implementations must be callable from any thread.
class ToolMeters {
 public:
  virtual ~ToolMeters() = default;
  // CPU time of the whole tool process, every thread, user and system.
  virtual std::chrono::nanoseconds ProcessCpuTime() = 0;
  // The tool's peak resident memory so far (VmHWM), in bytes; nullopt when it cannot be read.
  virtual std::optional<std::int64_t> PeakRssBytes() = 0;
};

struct BudgetLimits {
  std::chrono::steady_clock::time_point deadline;  // wall clock: reached once the clock passes it
  std::optional<std::chrono::milliseconds> cpu;    // unset: no CPU budget
  std::optional<std::int64_t> memory_bytes;        // unset: no memory budget
};

enum class BudgetKind { kWall, kCpu, kMemory };

// "wall", "cpu", "memory": the document's overhead.budgetReached (api/debug_session.h).
std::string_view BudgetKindName(BudgetKind kind);

// "64Mi", "1536Ki" or "1000000 bytes", for reasons people read.
std::string FormatBytes(std::int64_t bytes);

// How often the peak RSS is read at most: reading /proc/self/status costs tens of microseconds,
// and the checks come per thread and per fd. A capture can outgrow its budget by what it allocates
// in this time; the RLIMIT_DATA backstop bounds the rest.
inline constexpr std::chrono::milliseconds kMemoryCheckInterval{5};
// How often the CPU time is read at most: a system call (the process clock is not in the vDSO),
// while the language-runtime readers ask per goroutine and per frame. The tool may overshoot its
// CPU budget by about this much.
inline constexpr std::chrono::milliseconds kCpuCheckInterval{1};

// The kernel's backstops, a margin above the budgets that CaptureBudget enforces between units of
// work: they stop a tool that runs away inside one unit (a parser loop on hostile input).
// RLIMIT_CPU: soft at twice the CPU budget and at least 1s above it, rounded up to whole seconds
// (the kernel counts seconds); the hard limit one second later. The kernel sends SIGXCPU at the
// soft limit (main writes the pre-sealed backstop document and exits 3) and SIGKILL at the hard.
struct CpuBackstop {
  std::chrono::seconds soft;
  std::chrono::seconds hard;
};
CpuBackstop CpuBackstopFor(std::chrono::milliseconds cpu_budget);
// RLIMIT_DATA (private writable memory: heap, thread stacks, anonymous mappings): the memory budget
// plus kDataBackstopMargin. The budget is checked between units of work, so one unit may start just
// under it; the largest legitimate unit is loading one binary for symbols (at most 128 MiB of parse
// bytes, debugpod/stacks/elf_module.h, and its separate debug file), and the margin sits above it
// (and above the thread stacks and malloc arenas that count in VmData before they count in RSS),
// so that the backstop never turns a capture that would have been degraded into one that is lost.
// An allocation past it fails (std::bad_alloc: the tool exits 1 without a document).
inline constexpr std::int64_t kDataBackstopMargin = std::int64_t{320} << 20;
std::int64_t DataBackstopBytesFor(std::int64_t memory_budget_bytes);

class CaptureBudget {
 public:
  // `clock` and `meters` are borrowed and must outlive the budget. `meters` may be null: then only
  // the deadline applies.
  CaptureBudget(const BudgetLimits& limits, base::Clock& clock, ToolMeters* meters);
  CaptureBudget(const CaptureBudget&) = delete;
  CaptureBudget& operator=(const CaptureBudget&) = delete;

  // True once any budget is reached (then for good). Checks the deadline on each call, the CPU
  // time at most every kCpuCheckInterval and the peak RSS at most every kMemoryCheckInterval.
  bool Reached();
  // Which budget was reached first; nullopt while none is.
  std::optional<BudgetKind> ReachedKind() const;
  // The degraded reason: "deadline" (the wall budget, as before budgets existed), "CPU budget of
  // 500ms reached", "memory budget of 64Mi reached". "" while none is reached.
  std::string Reason() const;

 private:
  BudgetLimits limits_;
  base::Clock& clock_;
  ToolMeters* meters_;
  mutable base::Mutex mu_;
  std::optional<BudgetKind> reached_ EPHEMERA_GUARDED_BY(mu_);
  std::optional<std::chrono::steady_clock::time_point> cpu_checked_at_ EPHEMERA_GUARDED_BY(mu_);
  std::optional<std::chrono::steady_clock::time_point> memory_checked_at_ EPHEMERA_GUARDED_BY(mu_);
};

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_BUDGET_H_
