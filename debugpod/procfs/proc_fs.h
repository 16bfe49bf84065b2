// ProcFs and CgroupFs: the only way Ephemera reads /proc and /sys/fs/cgroup.
//
// Everything the snapshot tool learns about a process comes through these two interfaces, so tests
// point them at a fixture tree (RealProcFs on tests/testdata/procfs/...) or a Fake*. The stack
// capture (debugpod/stacks) reads maps and the thread list through ProcFs too; it opens only what
// it reads as bytes by path under the same root: <pid>/mem and the binaries under <pid>/root. Paths
// given to them are relative ("status", "task/12/comm", "memory/kubepods/cpu.stat"); absolute paths
// and ".." components are rejected with InvalidArgument.
//
// Error contract (every method): the errno of the failing call decides the code, and the message
// starts with the errno name so it can be shown as a degraded reason as is:
//   EACCES, EPERM  → PermissionDenied  "EACCES: open /proc/12/environ"
//   ENOENT, ESRCH  → NotFound          the process (or file) is gone
//   file too large → ResourceExhausted reads are capped; nothing is returned truncated
//   anything else  → Unavailable
// Implementations are thread-compatible: const methods may be called concurrently.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_PROC_FS_H_
#define EPHEMERA_DEBUGPOD_PROCFS_PROC_FS_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::procfs {

// Largest file a reader returns by default (maps of a big JVM stay below this).
inline constexpr size_t kDefaultMaxFileBytes = 1 << 20;

class ProcFs {
 public:
  virtual ~ProcFs() = default;

  // Contents of <root>/<pid>/<relative>.
  virtual StatusOr<std::string> ReadFile(int pid, std::string_view relative) const = 0;
  // Contents of <root>/<pid>/task/<tid>/<relative>.
  virtual StatusOr<std::string> ReadTaskFile(int pid, int tid, std::string_view relative) const = 0;
  // Target of the symbolic link <root>/<pid>/<relative> ("fd/3" → "socket:[1234]").
  virtual StatusOr<std::string> ReadLink(int pid, std::string_view relative) const = 0;
  // Contents of <root>/<pid>/net/<name> ("tcp", "tcp6", "udp", "udp6", "unix"): the sockets of the
  // network namespace `pid` lives in.
  virtual StatusOr<std::string> ReadNetFile(int pid, std::string_view name) const = 0;
  // Contents of <root>/<relative> for files of no process: "pressure/cpu" (the whole machine's
  // stalls), "sys/net/core/somaxconn" (the reader's network namespace, which the snapshot tool
  // shares with its target's pod). The default, for test doubles that model only processes,
  // fails with NotFound.
  virtual StatusOr<std::string> ReadSystemFile(std::string_view relative) const;

  // Numeric entries of <root>, ascending.
  virtual StatusOr<std::vector<int>> ListPids() const = 0;
  // Numeric entries of <root>/<pid>/task, ascending.
  virtual StatusOr<std::vector<int>> ListTasks(int pid) const = 0;
  // Numeric entries of <root>/<pid>/fd, ascending.
  virtual StatusOr<std::vector<int>> ListFds(int pid) const = 0;
};

// The cgroup filesystem (v1 controllers mounted as <root>/<controller>, or v2 unified at <root>).
class CgroupFs {
 public:
  virtual ~CgroupFs() = default;

  // Contents of <root>/<relative>, e.g. "cpuacct/kubepods/pod1/cpuacct.usage".
  virtual StatusOr<std::string> ReadFile(std::string_view relative) const = 0;
};

// Maps an errno from operation `what` ("open /proc/12/environ") to a Status as described above.
Status ErrnoToStatus(int err, std::string_view what);

// OK if `relative` is a non-empty relative path without "." or ".." components.
Status ValidateRelativePath(std::string_view relative);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_PROC_FS_H_
