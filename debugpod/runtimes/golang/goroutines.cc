#include "debugpod/runtimes/golang/goroutines.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_set>
#include <vector>

#include "debugpod/runtimes/hex.h"

namespace ephemera::runtimes::golang {
namespace {

constexpr uint64_t kMaxSaneAllglen = 100'000'000;
constexpr size_t kPointerBatch = 256;
// The stack bytes read at once from a goroutine's saved SP; deeper words are read one by one. A
// parked goroutine's innermost frames (gopark and its callers) usually fit, and 1 KiB keeps a
// 100k-goroutine process well inside the read budget (16 KiB ran it out after ~16k goroutines).
constexpr size_t kStackWindow = 1024;
constexpr size_t kMaxProblemLines = 32;
constexpr int64_t kMaxTid = 1 << 22;  // PID_MAX_LIMIT

template <typename T>
T Field(const std::vector<uint8_t>& bytes, uint32_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// Problems, at most kMaxProblemLines of them, then one line counting the rest.
class ProblemList {
 public:
  explicit ProblemList(std::vector<std::string>& out) : out_(out) {}
  ~ProblemList() {
    if (dropped_ > 0) {
      out_.push_back("… and " + std::to_string(dropped_) + " more goroutine problems");
    }
  }
  ProblemList(const ProblemList&) = delete;
  ProblemList& operator=(const ProblemList&) = delete;
  void Add(std::string line) {
    if (added_ < kMaxProblemLines) {
      out_.push_back(std::move(line));
      ++added_;
    } else {
      ++dropped_;
    }
  }

 private:
  std::vector<std::string>& out_;
  size_t added_ = 0;
  size_t dropped_ = 0;
};

// Whether Go's traceback would hide a goroutine that started at `startpc` (isSystemGoroutine,
// without the finalizer/cleanup special case: those are hidden here even while running user code).
class SystemGoroutineFilter {
 public:
  SystemGoroutineFilter(Pclntab& table, uint64_t load_bias) : table_(table), bias_(load_bias) {}
  bool IsSystem(uint64_t startpc) {
    auto it = cache_.find(startpc);
    if (it != cache_.end()) return it->second;
    bool system = false;
    if (startpc >= bias_) {
      if (StatusOr<GoFunc> f = table_.FindFunc(startpc - bias_); f.ok()) {
        if (StatusOr<std::string> name = table_.Name(f->name_offset, 256); name.ok()) {
          system = name->starts_with("runtime.") && *name != "runtime.main" &&
                   *name != "runtime.handleAsyncEvent" && *name != "runtime.corostart";
        }
      }
    }
    if (cache_.size() < 4096) cache_.emplace(startpc, system);
    return system;
  }

 private:
  Pclntab& table_;
  uint64_t bias_;
  std::map<uint64_t, bool> cache_;
};

// Serves the words of one goroutine's stack from a window read at once, other words one by one.
class StackWords {
 public:
  StackWords(MemoryReader& memory, uint64_t sp, uint64_t hi) : memory_(memory) {
    uint64_t length = std::min<uint64_t>(kStackWindow, hi > sp ? hi - sp : 0);
    length &= ~uint64_t{7};
    if (length == 0) return;
    window_.resize(length);
    if (memory_.Read(sp, window_).ok()) {
      start_ = sp;
    } else {
      window_.clear();
    }
  }
  StatusOr<uint64_t> Read(uint64_t address) {
    if (!window_.empty() && address >= start_ && address + 8 <= start_ + window_.size()) {
      uint64_t value;
      std::memcpy(&value, window_.data() + (address - start_), sizeof value);
      return value;
    }
    return memory_.ReadValue<uint64_t>(address);
  }

 private:
  MemoryReader& memory_;
  std::vector<uint8_t> window_;
  uint64_t start_ = 0;
};

}  // namespace

Status ValidateView(MemoryReader& memory, Pclntab& table, const GoProcessView& view) {
  StatusOr<uint64_t> allglen = memory.ReadValue<uint64_t>(view.allglen_address);
  if (!allglen.ok()) return allglen.status().WithContext("runtime.allglen");
  StatusOr<uint64_t> allgptr = memory.ReadValue<uint64_t>(view.allgptr_address);
  if (!allgptr.ok()) return allgptr.status().WithContext("runtime.allgptr");
  if (*allglen == 0 || *allglen > kMaxSaneAllglen) {
    return FailedPreconditionError("runtime.allglen " + std::to_string(*allglen) +
                                   " is not a goroutine count");
  }
  if (*allgptr == 0 || (*allgptr & 7) != 0) {
    return FailedPreconditionError("runtime.allgptr " + Hex(*allgptr) + " is not a pointer");
  }
  StatusOr<uint64_t> first = memory.ReadValue<uint64_t>(*allgptr);
  if (!first.ok()) return first.status().WithContext("allgptr[0]");
  if (*first == 0 || (*first & 7) != 0) {
    return FailedPreconditionError("allgptr[0] " + Hex(*first) + " is not a pointer");
  }
  StatusOr<uint64_t> goid = memory.ReadValue<uint64_t>(*first + view.layout->g_goid);
  if (!goid.ok()) return goid.status().WithContext("the main goroutine's goid");
  if (*goid != 1) {
    return FailedPreconditionError("the first goroutine's id reads " + std::to_string(*goid) +
                                   ", not 1");
  }
  StatusOr<uint64_t> startpc = memory.ReadValue<uint64_t>(*first + view.layout->g_startpc);
  if (!startpc.ok()) return startpc.status().WithContext("the main goroutine's startpc");
  StatusOr<GoFunc> f = *startpc >= view.load_bias ? table.FindFunc(*startpc - view.load_bias)
                                                  : StatusOr<GoFunc>(NotFoundError("below"));
  StatusOr<std::string> name =
      f.ok() ? table.Name(f->name_offset, 64) : StatusOr<std::string>(f.status());
  if (!name.ok() || *name != "runtime.main") {
    return FailedPreconditionError("the first goroutine does not start in runtime.main");
  }
  return OkStatus();
}

Status ReadGoroutines(MemoryReader& memory, Pclntab& table, const GoProcessView& view,
                      const VirtualReader* read_virtual, const RuntimeLimits& limits,
                      RuntimeStacks& out) {
  const GoLayout& layout = *view.layout;
  StatusOr<uint64_t> allglen = memory.ReadValue<uint64_t>(view.allglen_address);
  if (!allglen.ok()) return allglen.status().WithContext("reading runtime.allglen");
  StatusOr<uint64_t> allgptr = memory.ReadValue<uint64_t>(view.allgptr_address);
  if (!allgptr.ok()) return allgptr.status().WithContext("reading runtime.allgptr");
  ProblemList problems(out.problems);
  uint64_t slots = *allglen;
  if (slots > kMaxSaneAllglen) {
    problems.Add("runtime.allglen reads " + std::to_string(slots) + "; read as " +
                 std::to_string(kMaxSaneAllglen));
    slots = kMaxSaneAllglen;
  }
  const uint64_t max_scan = 4 * static_cast<uint64_t>(limits.max_stacks) + 1024;
  SystemGoroutineFilter filter(table, view.load_bias);
  std::unordered_set<uint64_t> seen;
  std::vector<uint64_t> batch;
  std::vector<uint8_t> g(layout.GReadSize());
  size_t running_without_frames = 0;
  size_t unreadable = 0;
  size_t frames_kept = 0;                 // over all goroutines, against limits.max_total_frames
  size_t stacks_cut_by_total_frames = 0;  // goroutines cut (or left empty) by that limit
  uint64_t scanned = 0;
  std::string stop_reason;
  for (uint64_t base = 0; base < slots && stop_reason.empty(); base += kPointerBatch) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kPointerBatch, slots - base));
    batch.assign(n, 0);
    Status s = memory.Read(*allgptr + base * 8,
                           std::span(reinterpret_cast<uint8_t*>(batch.data()), n * 8));
    std::string list_end;
    if (!s.ok()) {
      // Keep the slots before the unreadable one (the list's end may be torn or unmapped).
      size_t readable = 0;
      while (readable < n) {
        StatusOr<uint64_t> one = memory.ReadValue<uint64_t>(*allgptr + (base + readable) * 8);
        if (!one.ok()) break;
        batch[readable++] = *one;
      }
      batch.resize(readable);
      list_end = "the goroutine list became unreadable at slot " + std::to_string(base + readable) +
                 " (" + s.message() + ")";
    }
    for (uint64_t gp : batch) {
      if (out.stacks.size() >= limits.max_stacks) {
        stop_reason = "only the first " + std::to_string(limits.max_stacks) + " goroutines";
        break;
      }
      if (scanned >= max_scan) {
        stop_reason = "scanned " + std::to_string(max_scan) + " goroutine slots";
        break;
      }
      if (std::optional<std::string> stop = limits.StopReason()) {
        stop_reason = *stop;
        break;
      }
      ++scanned;
      if (gp == 0 || (gp & 7) != 0 || !seen.insert(gp).second) {
        ++unreadable;
        continue;
      }
      if (!memory.Read(gp, g).ok()) {
        ++unreadable;
        continue;
      }
      uint32_t status = Field<uint32_t>(g, layout.g_atomicstatus) & ~kGoStatusScanBit;
      if (status == kGoStatusDead || status == kGoStatusDeadExtra) continue;
      if (status > kGoStatusDeadExtra) {
        ++unreadable;
        continue;
      }
      if (filter.IsSystem(Field<uint64_t>(g, layout.g_startpc))) continue;
      ++out.total;
      RuntimeStack stack;
      uint64_t goid = Field<uint64_t>(g, layout.g_goid);
      stack.id = std::to_string(goid);
      stack.state = GoroutineStateText(layout, status, Field<uint8_t>(g, layout.g_waitreason));
      int64_t waitsince = Field<int64_t>(g, layout.g_waitsince);
      if ((status == kGoStatusWaiting || status == kGoStatusSyscall) && waitsince > 0 &&
          view.now_nanotime >= waitsince) {
        stack.wait_seconds = (view.now_nanotime - waitsince) / 1'000'000'000;
      }
      uint64_t m = Field<uint64_t>(g, layout.g_m);
      if (m != 0 && (m & 7) == 0 && (status == kGoStatusRunning || status == kGoStatusSyscall)) {
        StatusOr<uint64_t> procid = memory.ReadValue<uint64_t>(m + layout.m_procid);
        if (procid.ok() && *procid > 0 && *procid < static_cast<uint64_t>(kMaxTid)) {
          stack.tid = static_cast<int>(*procid);
        }
      }
      if (status == kGoStatusRunning) {
        // Its registers are live on a CPU and g.sched is stale (gogo clears sched.sp); only a
        // stop would give its stack, and this reader never stops the target.
        ++running_without_frames;
        out.stacks.push_back(std::move(stack));
        continue;
      }
      uint64_t lo = Field<uint64_t>(g, layout.g_stack_lo);
      uint64_t hi = Field<uint64_t>(g, layout.g_stack_hi);
      uint64_t sp = Field<uint64_t>(g, layout.g_sched_sp);
      uint64_t pc = Field<uint64_t>(g, layout.g_sched_pc);
      if (lo >= hi || hi - lo > (1ull << 30) || sp == 0 || pc == 0) {
        problems.Add("goroutine " + stack.id + " (" + stack.state +
                     "): no saved registers to unwind from");
        out.stacks.push_back(std::move(stack));
        continue;
      }
      if (frames_kept >= limits.max_total_frames) {
        stack.frames_truncated = true;
        ++stacks_cut_by_total_frames;
        out.stacks.push_back(std::move(stack));
        continue;
      }
      RuntimeLimits walk_limits = limits;
      walk_limits.max_frames = std::min(limits.max_frames, limits.max_total_frames - frames_kept);
      StackWords words(memory, sp, hi);
      StackWordReader read_word = [&words](uint64_t address) { return words.Read(address); };
      GoStackWalk walk = WalkGoStack(table, pc, sp, lo, hi, view.load_bias, read_word, read_virtual,
                                     view.gofunc, walk_limits);
      frames_kept += walk.frames.size();
      if (walk.truncated && walk_limits.max_frames < limits.max_frames) {
        ++stacks_cut_by_total_frames;
      }
      stack.frames = std::move(walk.frames);
      stack.frames_truncated = walk.truncated;
      if (!walk.problem.empty()) problems.Add("goroutine " + stack.id + ": " + walk.problem);
      out.stacks.push_back(std::move(stack));
    }
    if (stop_reason.empty()) stop_reason = std::move(list_end);
  }
  if (running_without_frames > 0) {
    problems.Add(std::to_string(running_without_frames) +
                 " running goroutine(s) without frames: their registers are on a CPU and the "
                 "target is not stopped");
  }
  if (stacks_cut_by_total_frames > 0) {
    problems.Add(std::to_string(stacks_cut_by_total_frames) +
                 " goroutine(s) cut or without frames: " + std::to_string(limits.max_total_frames) +
                 " frames kept in total");
  }
  if (unreadable > 0) {
    problems.Add(std::to_string(unreadable) +
                 " goroutine slot(s) unreadable or inconsistent (changed while read?)");
  }
  if (!stop_reason.empty()) {
    uint64_t unexamined = slots - scanned;
    out.total += unexamined;
    problems.Add(stop_reason + ": " + std::to_string(unexamined) + " of " + std::to_string(slots) +
                 " goroutine slots not examined (total counts them as goroutines)");
  }
  return OkStatus();
}

}  // namespace ephemera::runtimes::golang
