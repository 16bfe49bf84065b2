// Pure parser for pressure stall information (PSI): cgroup v2 cpu.pressure, memory.pressure,
// io.pressure and the system-wide /proc/pressure/{cpu,memory,io}.
//
// Format (Documentation/accounting/psi.rst):
//   some avg10=0.22 avg60=0.17 avg300=1.11 total=58761459
//   full avg10=0.00 avg60=0.00 avg300=0.00 total=0
// "some" is the share of wall time in which at least one task was stalled waiting for the
// resource, "full" the share in which all non-idle tasks were stalled at once; avgN are percentages
// over the last N seconds, total the cumulative stall time in microseconds. Thread safety: pure.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_PRESSURE_H_
#define EPHEMERA_DEBUGPOD_PROCFS_PRESSURE_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/status.h"

namespace ephemera::procfs {

struct PressureLine {
  double avg10_percent = 0;
  double avg60_percent = 0;
  double avg300_percent = 0;
  uint64_t total_micros = 0;
};

struct Pressure {
  PressureLine some;
  // Absent in the cpu file of kernels before 5.13, where only "some" is printed.
  std::optional<PressureLine> full;
};

// Largest PSI text ParsePressure accepts; the kernel's is under 200 bytes.
inline constexpr size_t kMaxPressureBytes = 4096;

// Requires a "some" line with avg10, avg60, avg300 (a decimal with at most two fractional
// digits, 0 to 100) and total; "full" is optional. Lines of another kind are ignored (a future
// kernel may add some); a kind given twice, a missing or repeated key, a value out of range, or
// text over kMaxPressureBytes fail with InvalidArgument.
StatusOr<Pressure> ParsePressure(std::string_view text);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_PRESSURE_H_
