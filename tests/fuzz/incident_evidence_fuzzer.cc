// Fuzzes the parsers of the snapshot tool's incident evidence (debugpod/procfs): net/netstat and
// net/snmp counters, PSI, memory.events, memory.oom_control and wchan. The files are written by
// the kernel but read through a view the target can influence, so each parser must take any bytes
// and either refuse them or keep its bounds. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "debugpod/procfs/incident_evidence.h"
#include "debugpod/procfs/memory_events.h"
#include "debugpod/procfs/net_counters.h"
#include "debugpod/procfs/pressure.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace procfs = ephemera::procfs;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      procfs::NetCounters counters;
      const ephemera::Status status = procfs::ParseNetCounters(text, "netstat", counters);
      if (!status.ok() && !counters.empty()) std::abort();  // a refusal leaves the map unchanged
      if (counters.size() > procfs::kMaxNetCounterGroups) std::abort();
      (void)procfs::SummarizeDroppedRequests(counters);
      break;
    }
    case 1: {
      const ephemera::StatusOr<procfs::Pressure> pressure = procfs::ParsePressure(text);
      if (pressure.ok() &&
          !(pressure->some.avg10_percent >= 0 && pressure->some.avg10_percent <= 100)) {
        std::abort();
      }
      break;
    }
    case 2:
      (void)procfs::ParseMemoryEvents(text);
      break;
    case 3:
      (void)procfs::ParseOomControl(text);
      break;
    default:
      if (procfs::SanitizeWchan(text).size() > 64) std::abort();
      break;
  }
  return 0;
}
