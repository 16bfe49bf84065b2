// The language-level stacks of one target process, as a language runtime sees them: Go goroutines,
// CPython threads' Python frames, HotSpot's Java threads. Each runtime's reader (golang/, python/,
// jvm/) fills a RuntimeStacks; the snapshot tool groups identical stacks (GroupStacks), redacts the
// text and writes the process's `runtime` object (docs/snapshot-format.md).
//
// Everything here came from the target (its memory, or its JVM's answer) and is hostile: readers
// bound every count with RuntimeLimits and mark what they cut in `problems`.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_RUNTIME_STACKS_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_RUNTIME_STACKS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace ephemera::runtimes {

// A lock a frame holds or waits for (JVM only, as jstack prints under the frame).
struct LockNote {
  std::string action;      // "locked", "waiting to lock", "waiting on", "parking to wait for"
  std::string class_name;  // "java.lang.Object"
  std::string id;          // the runtime's identity for the object, "0x000000071a0b2c48"
};

struct SourceFrame {
  std::string function;  // "main.(*Server).handle", "handle_request", "com.example.Orders.run"
  std::string file;      // as the runtime records it; "" if unknown
  int line = 0;          // 0 if unknown
  std::vector<LockNote> locks;
};

// One goroutine, Python thread or Java thread.
struct RuntimeStack {
  std::string id;    // goroutine id "17", Python thread id, Java thread name's tid "0x00007f…"
  std::string name;  // Java thread name, Python thread name; "" for goroutines
  std::optional<int> tid;  // the OS thread it runs on, when known
  // Go: "running", "runnable", "syscall", or the wait reason ("chan receive", "sync.Mutex.Lock",
  // "IO wait", "sleep", …). Python: "running" (holds the GIL) or "waiting". JVM: the
  // java.lang.Thread.State ("RUNNABLE", "BLOCKED", "WAITING", "TIMED_WAITING").
  std::string state;
  std::optional<int64_t> wait_seconds;  // how long it has waited, when the runtime records it
  std::vector<SourceFrame> frames;      // innermost first, at most RuntimeLimits::max_frames
  bool frames_truncated = false;        // the stack was deeper than what is in `frames`
};

// A deadlock the runtime reported (JVM: "Found one Java-level deadlock").
struct Deadlock {
  std::vector<std::string> members;  // RuntimeStack::name of each thread in the cycle
  std::string description;           // the runtime's own words, one line per edge
};

struct RuntimeStacks {
  std::string language;  // "go", "python", "java"
  std::string version;   // "go1.22.5", "3.11.2", "17.0.15+6"
  std::string method;    // "memory" (read from the process's memory) or "attach" (JVM attach)
  // How long the target was stopped, in total, to take these stacks: 0 for memory reads; the
  // JVM's safepoint pause (as far as the reader can measure it) for "attach".
  std::chrono::microseconds freeze{0};
  size_t total = 0;  // goroutines / threads the runtime has, even beyond `stacks`
  std::vector<RuntimeStack> stacks;
  std::vector<Deadlock> deadlocks;
  // What could not be read or was cut, each a sentence for the document's `degraded`
  // ("goroutine 17: stack unreadable: EFAULT", "only the first 100000 of 1000000 goroutines").
  std::vector<std::string> problems;
};

// Bounds on what one process may cost. A reader never allocates or loops beyond these, whatever
// the target's memory says; what it cuts is named in RuntimeStacks::problems.
struct RuntimeLimits {
  size_t max_stacks = 100000;              // goroutines / threads read
  size_t max_frames = 64;                  // frames per stack
  size_t max_total_frames = 1'000'000;     // frames over all stacks; later stacks keep none
  size_t max_string_bytes = 1024;          // one function, file or thread name
  uint64_t max_read_bytes = 256ull << 20;  // target memory read, in total
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Another reason to stop, asked wherever the deadline is (the snapshot tool's CPU and memory
  // budget, debugpod/snapshot/budget.h). Must be cheap and thread safe. Empty: none.
  std::function<bool()> stop_early = {};

  // "deadline" once the deadline has passed, "budget reached" once stop_early says so; nullopt
  // while the reader may go on.
  std::optional<std::string> StopReason() const;
};

// Stacks with the same state and the same frames (function, file, line, locks), as a Go dump
// reader expects them: "512 goroutines: chan receive, 14 min".
struct StackGroup {
  std::string state;
  size_t count = 0;
  std::optional<int64_t> min_wait_seconds;
  std::optional<int64_t> max_wait_seconds;
  std::vector<const RuntimeStack*> members;  // borrowed from the RuntimeStacks; the first few
  // The shared stack: the first member's frames, borrowed from the RuntimeStacks (not copied: a
  // 100k-stack model would double).
  std::span<const SourceFrame> frames;
  bool frames_truncated = false;
};

// Groups `stacks` (borrowed: the groups point into it) by state and frames, largest group first,
// then by the first member's order; keeps at most `max_members` member pointers per group.
std::vector<StackGroup> GroupStacks(const RuntimeStacks& stacks, size_t max_members = 16);

}  // namespace ephemera::runtimes

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_RUNTIME_STACKS_H_
