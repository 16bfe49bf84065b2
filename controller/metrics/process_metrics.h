// The process_* metrics every Prometheus client library exports, read from /proc when /metrics is
// rendered: CPU time, resident and virtual memory, start time, open and maximum file descriptors.
#ifndef EPHEMERA_CONTROLLER_METRICS_PROCESS_METRICS_H_
#define EPHEMERA_CONTROLLER_METRICS_PROCESS_METRICS_H_

#include <optional>
#include <string>
#include <string_view>

#include "controller/metrics/registry.h"

namespace ephemera::metrics {

// What /proc/<pid>/stat says, in its own units (clock ticks, pages, bytes).
struct ProcessStat {
  unsigned long long user_ticks = 0;     // utime
  unsigned long long system_ticks = 0;   // stime
  unsigned long long start_ticks = 0;    // starttime, since boot
  unsigned long long virtual_bytes = 0;  // vsize
  long long resident_pages = 0;          // rss
};

// Parses /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses: fields are
// counted from the last ')'. nullopt when the text does not have the fields.
std::optional<ProcessStat> ParseProcessStat(std::string_view text);

// The boot time (seconds since the epoch) from /proc/stat's "btime" line.
std::optional<long long> ParseBootTime(std::string_view proc_stat);

// Registers process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds and process_max_fds
// (unprefixed, as every client names them), read from `proc_self` (a /proc/<pid> directory) and
// `proc_stat` each time /metrics is rendered. A value that cannot be read is 0.
void RegisterProcessMetrics(Registry& registry, const std::string& proc_self = "/proc/self",
                            const std::string& proc_stat = "/proc/stat");

}  // namespace ephemera::metrics

#endif  // EPHEMERA_CONTROLLER_METRICS_PROCESS_METRICS_H_
