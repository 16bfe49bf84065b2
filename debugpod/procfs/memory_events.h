// Pure parsers for a cgroup's memory pressure and OOM history: cgroup v2 memory.events and
// cgroup v1 memory.oom_control. Counts are since the cgroup was created. Thread safety: pure.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_MEMORY_EVENTS_H_
#define EPHEMERA_DEBUGPOD_PROCFS_MEMORY_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"

namespace ephemera::procfs {

// cgroup v2 memory.events (Documentation/admin-guide/cgroup-v2.rst). Absent fields were not
// printed by this kernel (oom_group_kill appeared in 5.17).
struct MemoryEvents {
  std::optional<uint64_t> low;             // reclaimed below memory.low (protection not enough)
  std::optional<uint64_t> high;            // throttled and reclaimed for crossing memory.high
  std::optional<uint64_t> max;             // usage reached memory.max and reclaim was forced
  std::optional<uint64_t> oom;             // memory.max reached and reclaim failed: OOM
  std::optional<uint64_t> oom_kill;        // processes killed by the OOM killer in this cgroup
  std::optional<uint64_t> oom_group_kill;  // times the whole cgroup was killed (memory.oom.group)
};

// cgroup v1 memory.oom_control.
struct OomControl {
  bool oom_kill_disable = false;     // the OOM killer is off: tasks hang instead of being killed
  bool under_oom = false;            // the cgroup is at its limit and stalled right now
  std::optional<uint64_t> oom_kill;  // kills in this cgroup; printed since Linux 4.13
};

// Largest text either parser accepts; the kernel's is under 200 bytes.
inline constexpr size_t kMaxMemoryEventsBytes = 4096;

// "key value" lines; unknown keys are ignored. A known key twice, a value that is not an unsigned
// decimal, or text over kMaxMemoryEventsBytes fail with InvalidArgument.
StatusOr<MemoryEvents> ParseMemoryEvents(std::string_view text);

// Requires under_oom; same refusals as ParseMemoryEvents.
StatusOr<OomControl> ParseOomControl(std::string_view text);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_MEMORY_EVENTS_H_
