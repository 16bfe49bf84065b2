// The signals an on-call engineer looks at first when a service drops requests, read for one
// target process: the network namespace's drop/retransmit/reset counters and its listeners' accept
// queues, pressure stall information, the memory cgroup's OOM history, open fds against the
// limit, and threads in uninterruptible sleep.
//
// ReadIncidentEvidence reads through ProcFs and CgroupFs, so tests run it on fixture trees. It
// never fails as a whole: every part that could not be read or parsed is absent and its section's
// `errors` says why ("net/netstat: EACCES: open ...", "no PSI: ..."), never a silent zero. What
// the target controls is bounded: files by the ProcFs/CgroupFs read cap and the parsers' own
// limits, and the scans by the kMax* constants below, with `truncated` set when one was hit.
// Thread safety: stateless.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_INCIDENT_EVIDENCE_H_
#define EPHEMERA_DEBUGPOD_PROCFS_INCIDENT_EVIDENCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "debugpod/procfs/cgroup.h"
#include "debugpod/procfs/memory_events.h"
#include "debugpod/procfs/net_counters.h"
#include "debugpod/procfs/pressure.h"
#include "debugpod/procfs/proc_fs.h"

namespace ephemera::procfs {

// Scan bounds.
inline constexpr size_t kMaxListenersReported = 256;
inline constexpr size_t kMaxThreadsScanned = 4096;
inline constexpr size_t kMaxBlockedThreadsReported = 256;
inline constexpr size_t kMaxErrorsPerSection = 16;

// A TCP listener of the target's network namespace (every container of the pod).
struct ListenerQueue {
  std::string protocol;  // "tcp" or "tcp6"
  std::string local;     // "0.0.0.0:8080", "[::]:8080"
  uint64_t inode = 0;
  uint64_t accept_queue = 0;  // connections waiting for accept()
};

struct NetworkEvidence {
  std::optional<DroppedRequestCounters> counters;  // absent if neither netstat nor snmp parsed
  std::vector<ListenerQueue> listeners;
  bool listeners_truncated = false;
  // net.core.somaxconn: the ceiling of every listener's accept-queue limit (the limit itself is
  // min(listen() backlog, somaxconn) and not readable from /proc).
  std::optional<uint64_t> somaxconn;
  std::vector<std::string> errors;
};

struct PressureEvidence {
  // "cgroup": the target's cgroup v2 *.pressure files; "system": /proc/pressure, the whole
  // machine (cgroup v1, or a v2 cgroup without PSI files); empty when neither was readable.
  std::string source;
  std::optional<Pressure> cpu;
  std::optional<Pressure> memory;
  std::optional<Pressure> io;
  std::vector<std::string> errors;
};

struct MemoryEvidence {
  int cgroup_version = 0;                 // 1 or 2; 0 when no memory cgroup was found
  std::string cgroup_path;                // as in /proc/<pid>/cgroup
  std::optional<MemoryEvents> events;     // v2 memory.events
  std::optional<OomControl> oom_control;  // v1 memory.oom_control
  std::optional<uint64_t> failcnt;        // v1 memory.failcnt: times usage hit the limit
  std::vector<std::string> errors;
};

struct FdEvidence {
  std::optional<uint64_t> open;        // entries of /proc/<pid>/fd
  std::optional<uint64_t> soft_limit;  // "Max open files" of /proc/<pid>/limits
  bool unlimited = false;              // the soft limit is "unlimited"
  std::vector<std::string> errors;
};

struct BlockedThread {
  int tid = 0;
  std::string name;  // comm
  // Kernel function the thread sleeps in ("futex_wait_queue", "io_schedule"); empty when the
  // kernel hides it ("0" without ptrace access) or it could not be read.
  std::string wchan;
};

// Threads in state D (uninterruptible sleep: waiting on I/O, a page fault, a kernel lock).
struct BlockedThreadEvidence {
  std::vector<BlockedThread> threads;
  size_t threads_scanned = 0;
  bool truncated = false;  // more than kMaxThreadsScanned threads, or more than
                           // kMaxBlockedThreadsReported blocked ones
  std::vector<std::string> errors;
};

struct IncidentEvidence {
  NetworkEvidence network;
  PressureEvidence pressure;
  MemoryEvidence memory;
  FdEvidence fds;
  BlockedThreadEvidence blocked_threads;
};

// Reads the evidence for process `pid`, whose cgroups are `memberships` (ParseCgroup of
// /proc/<pid>/cgroup; may be empty when that file was unreadable, which is then reported in the
// pressure and memory errors). cgroup v2 is used when the v2 line is present and `cgroups` has
// "cgroup.controllers" at its root, as in ReadCgroupUsage.
IncidentEvidence ReadIncidentEvidence(const ProcFs& proc, const CgroupFs& cgroups, int pid,
                                      const std::vector<CgroupMembership>& memberships);

// The parts of ReadIncidentEvidence, for a caller that reads them at different times (the
// snapshot reads the namespace and cgroup parts once, for the main target, under its deadline).
// Same contracts as above.
NetworkEvidence ReadNetworkEvidence(const ProcFs& proc, int pid);
PressureEvidence ReadPressureEvidence(const ProcFs& proc, const CgroupFs& cgroups,
                                      const std::vector<CgroupMembership>& memberships);
MemoryEvidence ReadMemoryEvidence(const CgroupFs& cgroups,
                                  const std::vector<CgroupMembership>& memberships);

// Keeps only [A-Za-z0-9_.] text of at most 64 bytes from a wchan file; "" for "0" or anything
// else (the kernel prints a symbol name, but the bytes pass through a hostile target's view).
std::string SanitizeWchan(std::string_view text);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_INCIDENT_EVIDENCE_H_
