// Which processes a snapshot covers.
//
// DiscoverTargets reads the process list through ProcFs (so tests run it on a fixture tree): every
// user-space process of the PID namespace except the tool itself and its ancestors, or, with an
// explicit pid, that process and its descendants. Kernel threads are never targets. Thread safety:
// stateless.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_TARGETS_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_TARGETS_H_

#include <optional>
#include <string>
#include <vector>

#include "debugpod/procfs/proc_fs.h"
#include "status/status.h"

namespace ephemera::snapshot {

struct ProcessNode {
  int pid = 0;
  int ppid = 0;
  std::string name;  // comm, unredacted: callers redact before emitting it
};

struct Targets {
  int main_pid = 0;
  std::vector<ProcessNode> processes;  // the main process first, then ascending pid
};

// Errors: NotFound if `pid` is given but does not exist (or is a kernel thread), or if no process
// other than the tool exists; InvalidArgument if `pid` is the tool or one of its ancestors;
// whatever ListPids fails with. Processes that exit while being listed are left out.
StatusOr<Targets> DiscoverTargets(const procfs::ProcFs& proc, int self_pid, std::optional<int> pid);

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_TARGETS_H_
