// Which processes a snapshot covers.
//
// DiscoverTargets reads the process list through ProcFs (so tests run it on a fixture tree): every
// user-space process of the PID namespace except the tool itself and its ancestors, or, with an
// explicit pid, that process and its descendants. Kernel threads are never targets.
//
// Container scoping (H2): with a container ID, only processes whose /proc/<pid>/cgroup names that
// ID in a cgroup path are targets. The runtime puts every process of a container in a cgroup named
// after the container's ID (".../<pod uid>/<id>" on cgroup v1 and cgroupfs; ".../cri-containerd-
// <id>.scope" or "crio-<id>.scope" with the systemd driver), on v1 and v2 alike, and a container's
// processes cannot leave it without write access to the cgroup filesystem. So under
// shareProcessNamespace the pause container, sidecars and the tool's own container are left out,
// and in the node's PID namespace (hostPID) every other process of the node is. A process whose
// cgroup file cannot be read is left out (fail closed).
//
// The node's PID namespace: when the tool's own PID namespace is the initial one (its ns/pid link
// is pid:[4026531836], the kernel's PROC_PID_INIT_INO), discovery is refused unless the session is
// a host session (--host-namespaces allow; the controller passes --container-id with it, so the
// capture is still scoped to the container). Thread safety: stateless.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_TARGETS_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_TARGETS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "debugpod/procfs/proc_fs.h"

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

struct TargetScope {
  std::string container_id;      // "" = every process of the namespace
  bool host_namespaces = false;  // --host-namespaces allow
};

// The inode number of the initial PID namespace (PROC_PID_INIT_INO in the kernel).
inline constexpr unsigned long kInitialPidNamespaceInode = 0xEFFFFFFCUL;

// Whether /proc/<pid>/cgroup text names `container_id` in one of its cgroup paths.
bool CgroupNamesContainer(std::string_view cgroup_text, std::string_view container_id);

// Errors: NotFound if `pid` is given but does not exist (or is a kernel thread, or is outside the
// scoped container), or if no process other than the tool exists (in the container);
// InvalidArgument if `pid` is the tool or one of its ancestors; FailedPrecondition when the tool
// runs in the node's PID namespace and `scope` is not a host session; whatever ListPids fails with.
// Processes that exit while being listed are left out.
StatusOr<Targets> DiscoverTargets(const procfs::ProcFs& proc, int self_pid, std::optional<int> pid,
                                  const TargetScope& scope = {});

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_TARGETS_H_
