#include "debugpod/runtimes/golang/go_layout.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace ephemera::runtimes::golang {
namespace {

// waitReasonStrings in the order of the waitReason constants, per release.
constexpr std::array<std::string_view, 32> kWaitReasons121 = {
    "",
    "GC assist marking",
    "IO wait",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "dumping heap",
    "garbage collection",
    "garbage collection scan",
    "panicwait",
    "select",
    "select (no cases)",
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "chan receive",
    "chan send",
    "finalizer wait",
    "force gc (idle)",
    "semacquire",
    "sleep",
    "sync.Cond.Wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "trace reader (blocked)",
    "wait for GC cycle",
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",
    "debug call",
    "GC mark termination",
    "stopping the world",
};

// go1.22 and go1.23: go1.21's, then five more.
constexpr std::array<std::string_view, 37> kWaitReasons122 = {
    "",
    "GC assist marking",
    "IO wait",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "dumping heap",
    "garbage collection",
    "garbage collection scan",
    "panicwait",
    "select",
    "select (no cases)",
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "chan receive",
    "chan send",
    "finalizer wait",
    "force gc (idle)",
    "semacquire",
    "sleep",
    "sync.Cond.Wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "trace reader (blocked)",
    "wait for GC cycle",
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",
    "debug call",
    "GC mark termination",
    "stopping the world",
    "flushing proc caches",
    "trace goroutine status",
    "trace proc status",
    "page trace flush",
    "coroutine",
};

// go1.24: sync.WaitGroup.Wait inserted after sync.RWMutex.Lock; weak pointers and synctest added.
constexpr std::array<std::string_view, 44> kWaitReasons124 = {
    "",
    "GC assist marking",
    "IO wait",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "dumping heap",
    "garbage collection",
    "garbage collection scan",
    "panicwait",
    "select",
    "select (no cases)",
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "chan receive",
    "chan send",
    "finalizer wait",
    "force gc (idle)",
    "semacquire",
    "sleep",
    "sync.Cond.Wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "sync.WaitGroup.Wait",
    "trace reader (blocked)",
    "wait for GC cycle",
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",
    "debug call",
    "GC mark termination",
    "stopping the world",
    "flushing proc caches",
    "trace goroutine status",
    "trace proc status",
    "page trace flush",
    "coroutine",
    "GC weak to strong wait",
    "synctest.Run",
    "synctest.Wait",
    "chan receive (synctest)",
    "chan send (synctest)",
    "select (synctest)",
};

// go1.25: GOMAXPROCS updater inserted after force gc; "(synctest)" became "(durable)".
constexpr std::array<std::string_view, 47> kWaitReasons125 = {
    "",
    "GC assist marking",
    "IO wait",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "dumping heap",
    "garbage collection",
    "garbage collection scan",
    "panicwait",
    "select",
    "select (no cases)",
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "chan receive",
    "chan send",
    "finalizer wait",
    "force gc (idle)",
    "GOMAXPROCS updater (idle)",
    "semacquire",
    "sleep",
    "sync.Cond.Wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "sync.WaitGroup.Wait",
    "trace reader (blocked)",
    "wait for GC cycle",
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",
    "debug call",
    "GC mark termination",
    "stopping the world",
    "flushing proc caches",
    "trace goroutine status",
    "trace proc status",
    "page trace flush",
    "coroutine",
    "GC weak to strong wait",
    "synctest.Run",
    "synctest.Wait",
    "chan receive (durable)",
    "chan send (durable)",
    "select (durable)",
    "sync.WaitGroup.Wait (durable)",
    "cleanup wait",
};

// go1.26: the same strings as go1.25, the constants reordered (the ones a synctest bubble may
// durably block on were grouped together).
constexpr std::array<std::string_view, 47> kWaitReasons126 = {
    "",
    "GC assist marking",
    "IO wait",
    "dumping heap",
    "garbage collection",
    "garbage collection scan",
    "panicwait",
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "finalizer wait",
    "force gc (idle)",
    "GOMAXPROCS updater (idle)",
    "semacquire",
    "sleep",
    "chan receive (nil chan)",
    "chan send (nil chan)",
    "select (no cases)",
    "select",
    "chan receive",
    "chan send",
    "sync.Cond.Wait",
    "sync.Mutex.Lock",
    "sync.RWMutex.RLock",
    "sync.RWMutex.Lock",
    "sync.WaitGroup.Wait",
    "trace reader (blocked)",
    "wait for GC cycle",
    "GC worker (idle)",
    "GC worker (active)",
    "preempted",
    "debug call",
    "GC mark termination",
    "stopping the world",
    "flushing proc caches",
    "trace goroutine status",
    "trace proc status",
    "page trace flush",
    "coroutine",
    "GC weak to strong wait",
    "synctest.Run",
    "synctest.Wait",
    "chan receive (durable)",
    "chan send (durable)",
    "select (durable)",
    "sync.WaitGroup.Wait (durable)",
    "cleanup wait",
};

// g: go1.21/22 and go1.25/26 share atomicstatus..waitreason; go1.23/24 have them 8 bytes later
// (g.syscallbp was added before them, and go1.25 dropped gobuf.ret, moving syscallsp back).
constexpr GoLayout kGo121{.minor = "go1.21", .wait_reasons = kWaitReasons121};
constexpr GoLayout kGo122{.minor = "go1.22", .wait_reasons = kWaitReasons122};
constexpr GoLayout kGo123{.minor = "go1.23",
                          .g_atomicstatus = 152,
                          .g_goid = 160,
                          .g_waitsince = 176,
                          .g_waitreason = 184,
                          .g_startpc = 304,
                          .wait_reasons = kWaitReasons122};
constexpr GoLayout kGo124{.minor = "go1.24",
                          .g_atomicstatus = 152,
                          .g_goid = 160,
                          .g_waitsince = 176,
                          .g_waitreason = 184,
                          .g_startpc = 304,
                          .wait_reasons = kWaitReasons124};
constexpr GoLayout kGo125{.minor = "go1.25", .m_procid = 64, .wait_reasons = kWaitReasons125};
constexpr GoLayout kGo126{
    .minor = "go1.26", .g_startpc = 304, .m_procid = 64, .wait_reasons = kWaitReasons126};

constexpr std::array<const GoLayout*, 6> kLayouts = {&kGo121, &kGo122, &kGo123,
                                                     &kGo124, &kGo125, &kGo126};
constexpr int kFirstMinor = 21;

std::optional<int> ParseNumber(std::string_view text, size_t& pos) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data() + pos) return std::nullopt;
  pos = end - text.data();
  return value;
}

}  // namespace

uint32_t GoLayout::GReadSize() const {
  uint32_t end =
      std::max({g_stack_hi, g_m, g_sched_sp, g_sched_pc, g_goid, g_waitsince, g_startpc}) + 8;
  return std::max({end, g_atomicstatus + 4, g_waitreason + 1});
}

std::optional<std::pair<int, int>> ParseGoVersion(std::string_view version) {
  size_t at = version.find("go1.");
  if (at == std::string_view::npos) return std::nullopt;
  size_t pos = at + 4;
  std::optional<int> minor = ParseNumber(version, pos);
  if (!minor) return std::nullopt;
  return std::pair{1, *minor};
}

std::optional<LayoutChoice> LayoutForVersion(std::string_view version) {
  std::optional<std::pair<int, int>> parsed = ParseGoVersion(version);
  if (!parsed) return LayoutChoice{kLayouts.back(), false};
  int minor = parsed->second;
  if (minor < kFirstMinor) return std::nullopt;
  size_t index = static_cast<size_t>(minor - kFirstMinor);
  if (index >= kLayouts.size()) return LayoutChoice{kLayouts.back(), false};
  return LayoutChoice{kLayouts[index], true};
}

std::string GoroutineStateText(const GoLayout& layout, uint32_t status, uint8_t wait_reason) {
  if ((status == kGoStatusWaiting || status == kGoStatusLeaked) && wait_reason != 0) {
    std::string text = wait_reason < layout.wait_reasons.size()
                           ? std::string(layout.wait_reasons[wait_reason])
                           : "wait reason " + std::to_string(wait_reason);
    if (status == kGoStatusLeaked) text += " (leaked)";
    return text;
  }
  switch (status) {
    case 0:
      return "idle";
    case kGoStatusRunnable:
      return "runnable";
    case kGoStatusRunning:
      return "running";
    case kGoStatusSyscall:
      return "syscall";
    case kGoStatusWaiting:
      return "waiting";
    case 8:
      return "copystack";
    case 9:
      return "preempted";
    case kGoStatusLeaked:
      return "leaked";
    default:
      return "status " + std::to_string(status);
  }
}

}  // namespace ephemera::runtimes::golang
