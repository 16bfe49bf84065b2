// GoLayout: where the Go runtime keeps what the goroutine reader needs, per Go minor version
// (linux/amd64): field offsets in runtime.g, runtime.m and runtime.moduledata, the goroutine
// status values and the wait-reason strings. These are facts read from each release's runtime
// source (runtime2.go, traceback.go) and checked against the DWARF of binaries built with that
// release; docs/decisions/go-stacks.md lists them. Values, no state: thread-safe.
#ifndef EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_GO_LAYOUT_H_
#define EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_GO_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ephemera::runtimes::golang {

struct GoLayout {
  std::string_view minor;  // "go1.22": the release this table describes
  // runtime.g
  uint32_t g_stack_lo = 0;  // g.stack.lo
  uint32_t g_stack_hi = 8;  // g.stack.hi
  uint32_t g_m = 48;        // *m while the goroutine runs or is in a syscall
  uint32_t g_sched_sp = 56;
  uint32_t g_sched_pc = 64;
  uint32_t g_atomicstatus = 144;
  uint32_t g_goid = 152;
  uint32_t g_waitsince = 168;
  uint32_t g_waitreason = 176;  // one byte
  uint32_t g_startpc = 296;
  // runtime.m
  uint32_t m_procid = 72;
  // runtime.moduledata
  uint32_t moduledata_text = 176;
  uint32_t moduledata_gofunc = 320;
  // runtime.waitReason → its String(); index = the byte in g.waitreason.
  std::span<const std::string_view> wait_reasons;

  // Bytes of runtime.g read per goroutine: enough for every field above.
  uint32_t GReadSize() const;
};

// Goroutine status values (runtime2.go; the same from go1.21 to go1.26, with _Gleaked and
// _Gdeadextra new in go1.26).
inline constexpr uint32_t kGoStatusRunnable = 1;
inline constexpr uint32_t kGoStatusRunning = 2;
inline constexpr uint32_t kGoStatusSyscall = 3;
inline constexpr uint32_t kGoStatusWaiting = 4;
inline constexpr uint32_t kGoStatusDead = 6;
inline constexpr uint32_t kGoStatusLeaked = 10;
inline constexpr uint32_t kGoStatusDeadExtra = 11;
inline constexpr uint32_t kGoStatusScanBit = 0x1000;

// The layout for a buildinfo version string ("go1.22.12", "go1.23rc1", "devel go1.24-…").
// `exact` is false when the version is newer than every table (the newest one is returned, to be
// validated against the process) or unparsable; nullopt when it is older than go1.21.
struct LayoutChoice {
  const GoLayout* layout = nullptr;
  bool exact = false;
};
std::optional<LayoutChoice> LayoutForVersion(std::string_view version);

// "go1.22.12" → {1, 22}; nullopt if the string names no Go release.
std::optional<std::pair<int, int>> ParseGoVersion(std::string_view version);

// The status text Go's own traceback prints in "goroutine 7 [chan receive]:": the wait reason
// for waiting goroutines, else the status name. `status` has the scan bit removed.
std::string GoroutineStateText(const GoLayout& layout, uint32_t status, uint8_t wait_reason);

}  // namespace ephemera::runtimes::golang

#endif  // EPHEMERA_DEBUGPOD_RUNTIMES_GOLANG_GO_LAYOUT_H_
