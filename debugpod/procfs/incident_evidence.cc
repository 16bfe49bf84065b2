#include "debugpod/procfs/incident_evidence.h"

#include <algorithm>
#include <utility>

#include "debugpod/procfs/net.h"
#include "debugpod/procfs/process_files.h"

namespace ephemera::procfs {
namespace {

constexpr size_t kMaxWchanBytes = 64;

// Appends `error`, keeping at most kMaxErrorsPerSection and saying so once when more came.
void AddError(std::vector<std::string>& errors, std::string error) {
  if (errors.size() < kMaxErrorsPerSection) {
    errors.push_back(std::move(error));
  } else if (errors.size() == kMaxErrorsPerSection) {
    errors.push_back("further errors omitted");
  }
}

const CgroupMembership* FindUnified(const std::vector<CgroupMembership>& memberships) {
  for (const CgroupMembership& m : memberships) {
    if (m.hierarchy_id == 0 && m.controllers.empty()) return &m;
  }
  return nullptr;
}

// The v2 membership, when there is one and `cgroups` is a v2 hierarchy ("cgroup.controllers" at
// its root), as ReadCgroupUsage decides.
const CgroupMembership* UnifiedMembership(const CgroupFs& cgroups,
                                          const std::vector<CgroupMembership>& memberships) {
  const CgroupMembership* unified = FindUnified(memberships);
  if (unified != nullptr && !cgroups.ReadFile("cgroup.controllers").ok()) return nullptr;
  return unified;
}

const CgroupMembership* FindController(const std::vector<CgroupMembership>& memberships,
                                       std::string_view controller) {
  for (const CgroupMembership& m : memberships) {
    if (std::find(m.controllers.begin(), m.controllers.end(), controller) != m.controllers.end()) {
      return &m;
    }
  }
  return nullptr;
}

void ReadNetwork(const ProcFs& proc, int pid, NetworkEvidence& out) {
  NetCounters counters;
  bool any_counters = false;
  for (std::string_view file : {"netstat", "snmp"}) {
    StatusOr<std::string> text = proc.ReadNetFile(pid, file);
    if (!text.ok()) {
      AddError(out.errors, text.status().message());
      continue;
    }
    Status parsed = ParseNetCounters(*text, file, counters);
    if (!parsed.ok()) {
      AddError(out.errors, parsed.message());
      continue;
    }
    any_counters = true;
  }
  if (any_counters) out.counters = SummarizeDroppedRequests(counters);

  for (std::string_view protocol : {"tcp", "tcp6"}) {
    StatusOr<std::string> text = proc.ReadNetFile(pid, protocol);
    if (!text.ok()) {
      AddError(out.errors, text.status().message());
      continue;
    }
    StatusOr<std::vector<NetSocket>> sockets = ParseNetSockets(*text, protocol);
    if (!sockets.ok()) {
      AddError(out.errors, sockets.status().message());
      continue;
    }
    for (const NetSocket& socket : *sockets) {
      if (!socket.accept_queue) continue;
      if (out.listeners.size() >= kMaxListenersReported) {
        out.listeners_truncated = true;
        break;
      }
      out.listeners.push_back({socket.protocol, socket.local, socket.inode, *socket.accept_queue});
    }
  }

  StatusOr<std::string> somaxconn = proc.ReadSystemFile("sys/net/core/somaxconn");
  if (!somaxconn.ok()) {
    AddError(out.errors, somaxconn.status().message());
  } else if (auto value = ParseUnsigned(TrimTrailingSpace(*somaxconn))) {
    out.somaxconn = *value;
  } else {
    AddError(out.errors, "malformed sys/net/core/somaxconn");
  }
}

// Reads cpu/memory/io pressure with `read` ("cpu" → file text); returns how many were read.
template <typename ReadFn>
int ReadPressureFiles(ReadFn read, std::string_view where, PressureEvidence& out) {
  int read_count = 0;
  for (std::string_view resource : {"cpu", "memory", "io"}) {
    std::optional<Pressure>& slot = resource == "cpu"      ? out.cpu
                                    : resource == "memory" ? out.memory
                                                           : out.io;
    StatusOr<std::string> text = read(resource);
    if (!text.ok()) {
      AddError(out.errors, text.status().message());
      continue;
    }
    ++read_count;
    StatusOr<Pressure> pressure = ParsePressure(*text);
    if (!pressure.ok()) {
      AddError(out.errors, std::string(where) + " " + std::string(resource) + ": " +
                               pressure.status().message());
      continue;
    }
    slot = *pressure;
  }
  return read_count;
}

void ReadPressure(const ProcFs& proc, const CgroupFs& cgroups, const CgroupMembership* unified,
                  PressureEvidence& out) {
  if (unified != nullptr) {
    std::optional<std::string> rel = NormalizeCgroupPath(unified->path);
    if (!rel) {
      AddError(out.errors, "cgroup path " + unified->path + " escapes the mounted hierarchy");
    } else {
      auto read = [&](std::string_view resource) {
        return cgroups.ReadFile(CgroupFilePath("", *rel, std::string(resource) + ".pressure"));
      };
      if (ReadPressureFiles(read, "cgroup", out) > 0) {
        out.source = "cgroup";
        return;
      }
      out.errors.clear();
      AddError(out.errors, "cgroup " + unified->path +
                               " has no *.pressure files (kernel without PSI, or psi=0); "
                               "using /proc/pressure");
    }
  }
  auto read = [&](std::string_view resource) {
    return proc.ReadSystemFile("pressure/" + std::string(resource));
  };
  if (ReadPressureFiles(read, "/proc/pressure", out) > 0) out.source = "system";
}

void ReadMemory(const CgroupFs& cgroups, const std::vector<CgroupMembership>& memberships,
                const CgroupMembership* unified, MemoryEvidence& out) {
  if (unified != nullptr) {
    out.cgroup_version = 2;
    out.cgroup_path = unified->path;
    std::optional<std::string> rel = NormalizeCgroupPath(unified->path);
    if (!rel) {
      AddError(out.errors, "cgroup path " + unified->path + " escapes the mounted hierarchy");
      return;
    }
    StatusOr<std::string> text = cgroups.ReadFile(CgroupFilePath("", *rel, "memory.events"));
    if (!text.ok()) {
      AddError(out.errors, text.status().message());
      return;
    }
    StatusOr<MemoryEvents> events = ParseMemoryEvents(*text);
    if (!events.ok()) {
      AddError(out.errors, events.status().message());
      return;
    }
    out.events = *events;
    return;
  }
  const CgroupMembership* m = FindController(memberships, "memory");
  if (m == nullptr) {
    AddError(out.errors, "no memory cgroup membership");
    return;
  }
  out.cgroup_version = 1;
  out.cgroup_path = m->path;
  std::optional<std::string> rel = NormalizeCgroupPath(m->path);
  if (!rel) {
    AddError(out.errors, "cgroup path " + m->path + " escapes the mounted hierarchy");
    return;
  }
  // The memory controller is mounted at <root>/memory, or with others ("memory,blkio").
  std::vector<std::string> dirs = {"memory"};
  if (m->controllers.size() > 1) {
    std::string joined;
    for (const std::string& c : m->controllers) joined += (joined.empty() ? "" : ",") + c;
    dirs.push_back(joined);
  }
  auto read = [&](std::string_view file) -> StatusOr<std::string> {
    StatusOr<std::string> text = NotFoundError("no memory controller directory");
    for (const std::string& dir : dirs) {
      text = cgroups.ReadFile(CgroupFilePath(dir, *rel, file));
      if (text.ok()) break;
    }
    return text;
  };
  StatusOr<std::string> oom = read("memory.oom_control");
  if (!oom.ok()) {
    AddError(out.errors, oom.status().message());
  } else if (StatusOr<OomControl> control = ParseOomControl(*oom); control.ok()) {
    out.oom_control = *control;
  } else {
    AddError(out.errors, control.status().message());
  }
  StatusOr<std::string> failcnt = read("memory.failcnt");
  if (!failcnt.ok()) {
    AddError(out.errors, failcnt.status().message());
  } else if (auto value = ParseUnsigned(TrimTrailingSpace(*failcnt))) {
    out.failcnt = *value;
  } else {
    AddError(out.errors, "malformed memory.failcnt");
  }
}

void ReadFds(const ProcFs& proc, int pid, FdEvidence& out) {
  StatusOr<std::vector<int>> fds = proc.ListFds(pid);
  if (fds.ok()) {
    out.open = fds->size();
  } else {
    AddError(out.errors, fds.status().message());
  }
  StatusOr<std::string> text = proc.ReadFile(pid, "limits");
  if (!text.ok()) {
    AddError(out.errors, text.status().message());
    return;
  }
  StatusOr<std::vector<Limit>> limits = ParseLimits(*text);
  if (!limits.ok()) {
    AddError(out.errors, limits.status().message());
    return;
  }
  for (const Limit& limit : *limits) {
    if (limit.name != "Max open files") continue;
    out.soft_limit = limit.soft;
    out.unlimited = !limit.soft.has_value();
    return;
  }
  AddError(out.errors, "limits has no \"Max open files\" row");
}

void ReadBlockedThreads(const ProcFs& proc, int pid, BlockedThreadEvidence& out) {
  StatusOr<std::vector<int>> tasks = proc.ListTasks(pid);
  if (!tasks.ok()) {
    AddError(out.errors, tasks.status().message());
    return;
  }
  if (tasks->size() > kMaxThreadsScanned) {
    out.truncated = true;
    tasks->resize(kMaxThreadsScanned);
  }
  for (int tid : *tasks) {
    StatusOr<std::string> text = proc.ReadTaskFile(pid, tid, "stat");
    if (!text.ok()) {
      // A thread that exited between the listing and the read is no evidence of anything.
      if (text.status().code() != StatusCode::kNotFound) {
        AddError(out.errors, text.status().message());
      }
      continue;
    }
    ++out.threads_scanned;
    StatusOr<ProcStat> stat = ParseProcStat(*text);
    if (!stat.ok()) {
      AddError(out.errors, "task " + std::to_string(tid) + ": " + stat.status().message());
      continue;
    }
    if (stat->state != 'D') continue;
    if (out.threads.size() >= kMaxBlockedThreadsReported) {
      out.truncated = true;
      continue;
    }
    BlockedThread thread{tid, stat->comm, ""};
    if (StatusOr<std::string> wchan = proc.ReadTaskFile(pid, tid, "wchan"); wchan.ok()) {
      thread.wchan = SanitizeWchan(*wchan);
    }
    out.threads.push_back(std::move(thread));
  }
}

}  // namespace

std::string SanitizeWchan(std::string_view text) {
  text = TrimTrailingSpace(text);
  if (text.empty() || text == "0" || text.size() > kMaxWchanBytes) return "";
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.';
    if (!ok) return "";
  }
  return std::string(text);
}

IncidentEvidence ReadIncidentEvidence(const ProcFs& proc, const CgroupFs& cgroups, int pid,
                                      const std::vector<CgroupMembership>& memberships) {
  IncidentEvidence evidence;
  evidence.network = ReadNetworkEvidence(proc, pid);
  evidence.pressure = ReadPressureEvidence(proc, cgroups, memberships);
  evidence.memory = ReadMemoryEvidence(cgroups, memberships);
  ReadFds(proc, pid, evidence.fds);
  ReadBlockedThreads(proc, pid, evidence.blocked_threads);
  return evidence;
}

NetworkEvidence ReadNetworkEvidence(const ProcFs& proc, int pid) {
  NetworkEvidence out;
  ReadNetwork(proc, pid, out);
  return out;
}

PressureEvidence ReadPressureEvidence(const ProcFs& proc, const CgroupFs& cgroups,
                                      const std::vector<CgroupMembership>& memberships) {
  PressureEvidence out;
  ReadPressure(proc, cgroups, UnifiedMembership(cgroups, memberships), out);
  return out;
}

MemoryEvidence ReadMemoryEvidence(const CgroupFs& cgroups,
                                  const std::vector<CgroupMembership>& memberships) {
  MemoryEvidence out;
  ReadMemory(cgroups, memberships, UnifiedMembership(cgroups, memberships), out);
  return out;
}

}  // namespace ephemera::procfs
