// SystemToolMeters: the tool's own CPU time (clock_gettime(CLOCK_PROCESS_CPUTIME_ID), every
// thread) and peak resident memory (VmHWM of <proc>/<self>/status), for CaptureBudget.
// Thread safe: each call is a system call or a read through the (thread-safe) ProcFs.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_SYSTEM_TOOL_METERS_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_SYSTEM_TOOL_METERS_H_

#include "debugpod/procfs/proc_fs.h"
#include "debugpod/snapshot/budget.h"

namespace ephemera::snapshot {

class SystemToolMeters final : public ToolMeters {
 public:
  // `proc` is borrowed and must outlive this; `self_pid` is the tool as `proc` sees it.
  SystemToolMeters(const procfs::ProcFs& proc, int self_pid) : proc_(proc), self_pid_(self_pid) {}

  std::chrono::nanoseconds ProcessCpuTime() override;
  std::optional<std::int64_t> PeakRssBytes() override;

 private:
  const procfs::ProcFs& proc_;
  int self_pid_;
};

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_SYSTEM_TOOL_METERS_H_
