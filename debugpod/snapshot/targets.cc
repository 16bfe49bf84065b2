#include "debugpod/snapshot/targets.h"

#include <algorithm>
#include <map>
#include <set>

#include "debugpod/procfs/process_files.h"

namespace ephemera::snapshot {
namespace {

bool IsIdChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Whether the tool runs in the node's PID namespace: its ns/pid link names the initial namespace's
// inode. When the link cannot be read, PID 1 being systemd or init says the same.
bool InInitialPidNamespace(const procfs::ProcFs& proc, int self_pid) {
  StatusOr<std::string> link = proc.ReadLink(self_pid, "ns/pid");
  if (link.ok()) return *link == "pid:[" + std::to_string(kInitialPidNamespaceInode) + "]";
  StatusOr<std::string> comm = proc.ReadFile(1, "comm");
  if (!comm.ok()) return false;
  std::string name = *comm;
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name == "systemd" || name == "init";
}

}  // namespace

bool CgroupNamesContainer(std::string_view cgroup_text, std::string_view container_id) {
  if (container_id.size() < 12) return false;
  size_t start = 0;
  while (start < cgroup_text.size()) {
    size_t end = cgroup_text.find('\n', start);
    if (end == std::string_view::npos) end = cgroup_text.size();
    std::string_view line = cgroup_text.substr(start, end - start);
    start = end + 1;
    // hierarchy-ID:controllers:path; the path may itself hold ':'.
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view path = line.substr(second + 1);
    // The ID must stand alone: not part of a longer run of letters and digits.
    for (size_t at = path.find(container_id); at != std::string_view::npos;
         at = path.find(container_id, at + 1)) {
      const size_t after = at + container_id.size();
      if ((at == 0 || !IsIdChar(path[at - 1])) &&
          (after == path.size() || !IsIdChar(path[after]))) {
        return true;
      }
    }
  }
  return false;
}

StatusOr<Targets> DiscoverTargets(const procfs::ProcFs& proc, int self_pid, std::optional<int> pid,
                                  const TargetScope& scope) {
  if (InInitialPidNamespace(proc, self_pid)) {
    if (!scope.host_namespaces) {
      return FailedPreconditionError(
          "the snapshot tool runs in the node's PID namespace (the target pod has hostPID) and "
          "this is not a host session; it captures nothing there without --host-namespaces "
          "allow");
    }
  }
  StatusOr<std::vector<int>> pids = proc.ListPids();
  if (!pids.ok()) return pids.status();

  std::map<int, ProcessNode> nodes;
  std::set<int> kernel_threads;
  for (int p : *pids) {
    StatusOr<std::string> text = proc.ReadFile(p, "stat");
    if (!text.ok()) continue;  // exited since the listing, or unreadable: not a target
    StatusOr<procfs::ProcStat> stat = procfs::ParseProcStat(*text);
    if (!stat.ok()) continue;
    if (stat->IsKernelThread() || p == 2) {
      kernel_threads.insert(p);
      continue;
    }
    nodes[p] = ProcessNode{p, stat->ppid, stat->comm};
  }
  // Processes outside the target container: kept in `nodes` (the tool's ancestry walk needs
  // them) but never chosen.
  std::set<int> outside;
  if (!scope.container_id.empty()) {
    for (const auto& [p, node] : nodes) {
      StatusOr<std::string> cgroup = proc.ReadFile(p, "cgroup");
      if (!cgroup.ok() || !CgroupNamesContainer(*cgroup, scope.container_id)) outside.insert(p);
    }
  }

  std::set<int> excluded = {self_pid};
  for (int p = self_pid; nodes.count(p) != 0;) {
    p = nodes[p].ppid;
    if (!excluded.insert(p).second) break;  // a cycle would be a kernel bug; do not loop
  }

  std::map<int, std::vector<int>> children;
  for (const auto& [p, node] : nodes) children[node.ppid].push_back(p);

  Targets targets;
  std::vector<int> chosen;
  if (pid) {
    if (excluded.count(*pid) != 0) {
      return InvalidArgumentError("--pid " + std::to_string(*pid) +
                                  " is the snapshot tool itself or one of its ancestors");
    }
    if (nodes.count(*pid) == 0) {
      return NotFoundError("process " + std::to_string(*pid) +
                           (kernel_threads.count(*pid) ? " is a kernel thread"
                                                       : " not found in this PID namespace"));
    }
    if (outside.count(*pid) != 0) {
      return NotFoundError("process " + std::to_string(*pid) + " is not in container " +
                           scope.container_id);
    }
    std::vector<int> stack = {*pid};
    while (!stack.empty()) {
      int p = stack.back();
      stack.pop_back();
      if (excluded.count(p) != 0) continue;
      if (outside.count(p) == 0) chosen.push_back(p);
      for (int child : children[p]) stack.push_back(child);
    }
    targets.main_pid = *pid;
  } else {
    for (const auto& [p, node] : nodes) {
      if (excluded.count(p) == 0 && outside.count(p) == 0) chosen.push_back(p);
    }
    if (chosen.empty() && !scope.container_id.empty()) {
      return NotFoundError(
          "no process of container " + scope.container_id +
          " is visible to the snapshot tool (none names it in /proc/<pid>/cgroup)");
    }
    if (chosen.empty()) return NotFoundError("no process to snapshot besides the tool itself");
    std::sort(chosen.begin(), chosen.end());
    targets.main_pid = chosen.front();
  }
  std::sort(chosen.begin(), chosen.end());
  targets.processes.push_back(nodes[targets.main_pid]);
  for (int p : chosen) {
    if (p != targets.main_pid) targets.processes.push_back(nodes[p]);
  }
  return targets;
}

}  // namespace ephemera::snapshot
