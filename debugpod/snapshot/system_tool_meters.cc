#include "debugpod/snapshot/system_tool_meters.h"

#include <time.h>

#include "debugpod/procfs/process_files.h"

namespace ephemera::snapshot {

std::chrono::nanoseconds SystemToolMeters::ProcessCpuTime() {
  timespec ts{};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return std::chrono::nanoseconds::zero();
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

std::optional<std::int64_t> SystemToolMeters::PeakRssBytes() {
  StatusOr<std::string> text = proc_.ReadFile(self_pid_, "status");
  if (!text.ok()) return std::nullopt;
  StatusOr<procfs::ProcStatus> status = procfs::ParseProcStatus(*text);
  if (!status.ok() || !status->vm_hwm_kib) return std::nullopt;
  return static_cast<std::int64_t>(*status->vm_hwm_kib) * 1024;
}

}  // namespace ephemera::snapshot
