#include "debugpod/snapshot/targets.h"

#include <algorithm>
#include <map>
#include <set>

#include "debugpod/procfs/process_files.h"

namespace ephemera::snapshot {

StatusOr<Targets> DiscoverTargets(const procfs::ProcFs& proc, int self_pid,
                                  std::optional<int> pid) {
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
    std::vector<int> stack = {*pid};
    while (!stack.empty()) {
      int p = stack.back();
      stack.pop_back();
      if (excluded.count(p) != 0) continue;
      chosen.push_back(p);
      for (int child : children[p]) stack.push_back(child);
    }
    targets.main_pid = *pid;
  } else {
    for (const auto& [p, node] : nodes) {
      if (excluded.count(p) == 0) chosen.push_back(p);
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
