// Which cgroups a process is in (/proc/<pid>/cgroup) and what they account: CPU usage, CFS
// throttling and memory, from cgroup v1 (cpuacct, cpu, memory controllers) or v2 (unified).
//
// ParseCgroup and the Parse* helpers are pure. ReadCgroupUsage reads through a CgroupFs, so tests
// run it on a fixture tree. Thread safety: stateless.
#ifndef EPHEMERA_DEBUGPOD_PROCFS_CGROUP_H_
#define EPHEMERA_DEBUGPOD_PROCFS_CGROUP_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "debugpod/procfs/proc_fs.h"

namespace ephemera::procfs {

// One line of /proc/<pid>/cgroup: "4:memory:/kubepods/pod1" (v1), "1:name=systemd:/" (v1 named
// hierarchy), "0::/kubepods/pod1" (v2).
struct CgroupMembership {
  int hierarchy_id = 0;
  std::vector<std::string> controllers;  // empty for the v2 line; "name=systemd" kept as is
  std::string path;                      // as printed: relative to the reader's cgroup namespace
};

// Fails with InvalidArgument on a line without the two ':' separators.
StatusOr<std::vector<CgroupMembership>> ParseCgroup(std::string_view text);

struct CgroupUsage {
  int version = 0;  // 1 or 2
  std::string cpu_path;
  std::string memory_path;
  std::optional<uint64_t> cpu_usage_nanos;  // v1 cpuacct.usage; v2 cpu.stat usage_usec * 1000
  std::optional<uint64_t> nr_periods;
  std::optional<uint64_t> nr_throttled;
  std::optional<uint64_t> throttled_nanos;  // v1 throttled_time; v2 throttled_usec * 1000
  std::optional<int64_t> cpu_quota_micros;  // -1 when unlimited
  std::optional<uint64_t> cpu_period_micros;
  std::optional<uint64_t> memory_usage_bytes;  // v1 memory.usage_in_bytes; v2 memory.current
  std::optional<uint64_t> memory_limit_bytes;  // absent when unlimited or unknown
  bool memory_unlimited = false;
  // One entry per file that could not be read or parsed ("EACCES: open ...", "cgroup path
  // /../x escapes the mounted hierarchy"): the usage is partial, never silently.
  std::vector<std::string> errors;
};

// Reads the usage of the cgroups in `memberships` from `fs`. cgroup v2 is used when the v2 line is
// present and `fs` has "cgroup.controllers" at its root; otherwise v1, with each controller mounted
// at <root>/<controller> (a "cpu,cpuacct" directory is tried too). A path that leaves the hierarchy
// ("/.." from another cgroup namespace) is reported in `errors`. Fails with NotFound only when
// nothing at all could be read.
StatusOr<CgroupUsage> ReadCgroupUsage(const CgroupFs& fs,
                                      const std::vector<CgroupMembership>& memberships);

// "nr_periods 5\nnr_throttled 1\n..." → value of `key`.
std::optional<uint64_t> FindFlatKey(std::string_view text, std::string_view key);

// The text of a one-value file ("4096\n") without its trailing newline and spaces.
std::string_view TrimTrailingSpace(std::string_view text);

// A file of a cgroup under the hierarchy root: "cpu" + "kubepods/pod1" + "cpu.stat" →
// "cpu/kubepods/pod1/cpu.stat"; empty parts are skipped (the v2 root has no controller folder).
std::string CgroupFilePath(std::string_view dir, std::string_view cgroup, std::string_view file);

// Normalizes a cgroup path ("/a/../b" → "b") into a path relative to the hierarchy root; nullopt if
// it leaves the root. The root itself is "".
std::optional<std::string> NormalizeCgroupPath(std::string_view path);

}  // namespace ephemera::procfs

#endif  // EPHEMERA_DEBUGPOD_PROCFS_CGROUP_H_
