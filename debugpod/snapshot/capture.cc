#include "debugpod/snapshot/capture.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "debugpod/procfs/cgroup.h"
#include "debugpod/procfs/incident_evidence.h"
#include "debugpod/procfs/maps.h"
#include "debugpod/procfs/net.h"
#include "debugpod/procfs/process_files.h"
#include "debugpod/snapshot/evidence_document.h"
#include "debugpod/snapshot/runtime_document.h"
#include "debugpod/snapshot/targets.h"

namespace ephemera::snapshot {
namespace {

namespace field = api::snapshot_field;
namespace pf = api::process_field;
namespace ef = api::evidence_field;
using procfs::NetSocket;
using std::chrono::microseconds;
using std::chrono::milliseconds;

constexpr std::string_view kExitedReason = "process exited";
constexpr std::string_view kRestrictedReason = "profile restricted: no CAP_SYS_PTRACE";

std::string Hex(uint64_t value, int width = 0) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llx", width, static_cast<unsigned long long>(value));
  return buf;
}

std::string FirstLine(std::string_view text) {
  return std::string(text.substr(0, text.find('\n')));
}

Json OptionalNumber(const std::optional<uint64_t>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json LimitValue(const std::optional<uint64_t>& value) {
  return value ? Json(*value) : Json("unlimited");
}

std::string FdType(std::string_view target) {
  if (target.starts_with("/")) return "file";
  if (target.starts_with("socket:[")) return "socket";
  if (target.starts_with("pipe:[")) return "pipe";
  if (target.starts_with("anon_inode:")) return "anon_inode";
  return "other";
}

// The top-level `budget`: what the run was allowed (cpuMillis and memoryBytes only when set).
Json BudgetDocument(const CaptureRequest& request) {
  Json budget = {{field::kDeadlineMillis, request.deadline_budget.count()},
                 {field::kMaxOutputBytes, request.max_output_bytes}};
  if (request.cpu_budget) budget[field::kCpuMillis] = request.cpu_budget->count();
  if (request.memory_budget_bytes) budget[field::kMemoryBytes] = *request.memory_budget_bytes;
  return budget;
}

// The sockets of one network namespace, by inode.
using SocketTable = std::map<uint64_t, NetSocket>;

class SnapshotBuilder {
 public:
  SnapshotBuilder(const CaptureRequest& request, const CaptureDeps& deps)
      : request_(request),
        deps_(deps),
        budget_({request.deadline, request.cpu_budget, request.memory_budget_bytes}, deps.clock,
                deps.meters) {}

  CaptureResult Build();

 private:
  // Whether a budget (deadline, CPU, memory) is reached; BudgetReason() says which.
  bool BudgetReached() { return budget_.Reached(); }
  std::string BudgetReason() const { return budget_.Reason(); }
  bool Wants(Section section) const { return request_.sections.Has(section); }

  void Degrade(Section section, int pid, std::string_view reason, std::optional<int> tid = {}) {
    Degrade(SectionName(section), pid, reason, tid);
  }
  void Degrade(std::string_view section, std::optional<int> pid, std::string_view reason,
               std::optional<int> tid = {}) {
    Json entry;
    entry[field::kSection] = section;
    if (pid) entry[field::kPid] = *pid;
    if (tid) entry[field::kTid] = *tid;
    entry[field::kReason] = reason;
    degraded_.push_back(std::move(entry));
  }

  // The degraded reason for a failed read of `pid`: "process exited" when the process is gone,
  // otherwise the errno-derived message, with a hint when permissions are the cause.
  std::string Reason(int pid, const Status& status) const;
  bool ProcessGone(int pid) const { return !deps_.proc.ReadFile(pid, "stat").ok(); }

  // Redacts free text for the field at `path`; nullopt (field dropped and reported) on failure.
  std::optional<std::string> Redacted(std::string_view text, const std::string& path);

  // The redactor for everything the document holds: deps_.redactor, plus value-keyed redaction
  // of the targets' hidden environment values once ScrubHiddenEnvValues has run.
  const redact::Redactor& TextRedactor() const { return scrubbing_ ? *scrubbing_ : deps_.redactor; }
  // Reads every target's environ and makes every value the document hides (not shown by the
  // policy, or bound to a Secret through --secret-env) a value redacted wherever it appears:
  // argv, thread names, fd paths, socket peers. Unreadable environs are skipped here (the env
  // section reports them); the values are never written anywhere.
  void ScrubHiddenEnvValues(const Targets& targets);

  Json ProcessTree(const Targets& targets);
  // Returns false when the process is gone and nothing more can be read.
  bool CaptureProcessSection(int pid, Json& out);
  void CaptureThreadsAndStacks(int pid, Json& out);
  void CaptureStacks(int pid, Json& threads);
  void CaptureRuntime(int pid, Json& out);
  void CaptureFdsAndSockets(int pid, Json& out);
  const SocketTable& SocketsOf(int pid);
  void CaptureLimits(int pid, Json& out);
  void CaptureCgroup(int pid, Json& out);
  void CaptureMaps(int pid, Json& out);
  void CaptureEnv(int pid, Json& out);
  // The top-level `evidence` object for the main target: the parts its sections ask for (network
  // with sockets, pressure and memory with cgroup); empty when none is asked for.
  Json CaptureEvidence(int pid);
  Json CaptureNetworkEvidence(int pid);
  void CaptureCgroupEvidence(int pid, Json& evidence);

  // The cgroup filesystem that shows `pid`'s cgroup, and the memberships to read it with: the
  // tool's view, or the target's own (deps_.target_cgroup_fs, its cgroup at the root) when only
  // that one can be read. `usage` is ReadCgroupUsage through the chosen view.
  struct CgroupView {
    const procfs::CgroupFs* fs = nullptr;
    std::unique_ptr<procfs::CgroupFs> owned;
    std::vector<procfs::CgroupMembership> memberships;
    std::string source;  // "tool" or "target"
    StatusOr<procfs::CgroupUsage> usage = NotFoundError("cgroup not read");
  };
  CgroupView ChooseCgroupView(int pid, const std::vector<procfs::CgroupMembership>& memberships);

  std::string FieldPath(int pid, std::string_view rest) const {
    return "processes[pid=" + std::to_string(pid) + "]." + std::string(rest);
  }

  const CaptureRequest& request_;
  const CaptureDeps& deps_;
  CaptureBudget budget_;
  redact::RedactionReport report_{};
  std::optional<redact::Redactor> scrubbing_;
  Json value_keys_ = Json::array();  // controllerOnly.valueKeys, when asked for
  int environs_unread_ = 0;          // targets whose values are missing from value_keys_
  Json degraded_ = Json::array();
  std::map<std::string, SocketTable> socket_tables_;  // by network namespace
  microseconds total_freeze_{0};
  microseconds max_thread_freeze_{0};
};

std::string SnapshotBuilder::Reason(int pid, const Status& status) const {
  if (status.code() == StatusCode::kNotFound && ProcessGone(pid)) return std::string(kExitedReason);
  if (status.code() != StatusCode::kPermissionDenied) return status.message();
  std::string hint;
  StatusOr<std::string> text = deps_.proc.ReadFile(pid, "status");
  if (text.ok()) {
    StatusOr<procfs::ProcStatus> st = procfs::ParseProcStatus(*text);
    if (st.ok() && st->uids[1] == request_.tool_euid) {
      hint =
          " (same uid as the tool: the process is not dumpable or holds capabilities the tool "
          "lacks)";
    } else if (st.ok()) {
      hint = " (process runs as uid " + std::to_string(st->uids[1]) + ", the tool as uid " +
             std::to_string(request_.tool_euid) + ")";
    }
  }
  return status.message() + hint;
}

std::optional<std::string> SnapshotBuilder::Redacted(std::string_view text,
                                                     const std::string& path) {
  StatusOr<std::string> redacted = TextRedactor().RedactText(text, report_);
  if (!redacted.ok()) {
    report_.dropped_fields.push_back(path);
    return std::nullopt;
  }
  return std::move(redacted).value();
}

void SnapshotBuilder::ScrubHiddenEnvValues(const Targets& targets) {
  std::vector<std::string> hidden;
  for (const ProcessNode& node : targets.processes) {
    StatusOr<std::string> text = deps_.proc.ReadFile(node.pid, "environ");
    if (!text.ok()) {
      ++environs_unread_;
      continue;
    }
    for (procfs::EnvVar& var : procfs::ParseEnviron(*text)) {
      if (!deps_.redactor.IsEnvShown(var.name)) hidden.push_back(std::move(var.value));
    }
  }
  scrubbing_ = deps_.redactor.WithSecretValues(hidden);
  if (request_.value_keys_for_controller) {
    for (std::string& value : redact::Redactor::SecretValuesKept(std::move(hidden))) {
      if (value.size() > api::kMaxValueKeyBytes) value.resize(api::kMaxValueKeyBytes);
      value_keys_.push_back(std::move(value));
    }
  }
}

Json SnapshotBuilder::ProcessTree(const Targets& targets) {
  std::map<int, std::vector<int>> children;
  std::set<int> pids;
  for (const ProcessNode& node : targets.processes) pids.insert(node.pid);
  for (const ProcessNode& node : targets.processes) {
    if (pids.count(node.ppid) != 0) children[node.ppid].push_back(node.pid);
  }
  Json tree = Json::array();
  std::vector<ProcessNode> sorted = targets.processes;
  std::sort(sorted.begin(), sorted.end(),
            [](const ProcessNode& a, const ProcessNode& b) { return a.pid < b.pid; });
  for (const ProcessNode& node : sorted) {
    Json entry;
    entry["pid"] = node.pid;
    entry["ppid"] = node.ppid;
    if (auto name = Redacted(node.name, "processTree[pid=" + std::to_string(node.pid) + "].name")) {
      entry["name"] = *name;
    }
    std::vector<int>& kids = children[node.pid];
    std::sort(kids.begin(), kids.end());
    entry["children"] = kids;
    tree.push_back(std::move(entry));
  }
  return tree;
}

bool SnapshotBuilder::CaptureProcessSection(int pid, Json& out) {
  StatusOr<std::string> status_text = deps_.proc.ReadFile(pid, "status");
  if (!status_text.ok()) {
    std::string reason = Reason(pid, status_text.status());
    Degrade(Section::kProcess, pid, reason);
    return reason != kExitedReason;
  }
  StatusOr<procfs::ProcStatus> status = procfs::ParseProcStatus(*status_text);
  if (!status.ok()) {
    Degrade(Section::kProcess, pid, status.status().message());
    return true;
  }
  out["ppid"] = status->ppid;
  if (auto name = Redacted(status->name, FieldPath(pid, "name"))) out["name"] = *name;
  if (!Wants(Section::kProcess)) return true;

  out["state"] = status->state;
  out["stateName"] = status->state_name;
  StatusOr<std::string> cmdline_text = deps_.proc.ReadFile(pid, "cmdline");
  if (cmdline_text.ok()) {
    // Joined so the redactor sees "--password value" pairs that span arguments.
    std::string joined;
    for (const std::string& arg : procfs::ParseCmdline(*cmdline_text)) {
      joined += (joined.empty() ? "" : " ") + arg;
    }
    if (auto cmdline = Redacted(joined, FieldPath(pid, "cmdline"))) out["cmdline"] = *cmdline;
  } else {
    Degrade(Section::kProcess, pid, "cmdline: " + Reason(pid, cmdline_text.status()));
  }
  const auto& u = status->uids;
  const auto& g = status->gids;
  out["uids"] = {{"real", u[0]}, {"effective", u[1]}, {"saved", u[2]}, {"filesystem", u[3]}};
  out["gids"] = {{"real", g[0]}, {"effective", g[1]}, {"saved", g[2]}, {"filesystem", g[3]}};
  out["nspid"] = status->nspid;
  out["threadCount"] = status->threads;
  out["memory"] = {{"vmSizeKiB", OptionalNumber(status->vm_size_kib)},
                   {"vmRssKiB", OptionalNumber(status->vm_rss_kib)},
                   {"vmHwmKiB", OptionalNumber(status->vm_hwm_kib)}};
  out["contextSwitches"] = {{"voluntary", status->voluntary_ctxt_switches},
                            {"nonvoluntary", status->nonvoluntary_ctxt_switches}};
  out["capabilities"] = {{"inheritable", Hex(status->cap_inh, 16)},
                         {"permitted", Hex(status->cap_prm, 16)},
                         {"effective", Hex(status->cap_eff, 16)},
                         {"bounding", Hex(status->cap_bnd, 16)},
                         {"ambient", Hex(status->cap_amb, 16)}};

  StatusOr<std::string> stat_text = deps_.proc.ReadFile(pid, "stat");
  StatusOr<procfs::ProcStat> stat = stat_text.ok() ? procfs::ParseProcStat(*stat_text)
                                                   : StatusOr<procfs::ProcStat>(stat_text.status());
  if (stat.ok()) {
    int64_t tps = std::max<int64_t>(1, request_.clock_ticks_per_second);
    out["cpu"] = {
        {"userMillis", static_cast<int64_t>(stat->utime_ticks) * 1000 / tps},
        {"systemMillis", static_cast<int64_t>(stat->stime_ticks) * 1000 / tps},
        {"startTimeMillisSinceBoot", static_cast<int64_t>(stat->start_time_ticks) * 1000 / tps},
        {"lastProcessor", stat->processor}};
  } else {
    Degrade(Section::kProcess, pid, "stat: " + Reason(pid, stat.status()));
  }

  StatusOr<std::string> io_text = deps_.proc.ReadFile(pid, "io");
  StatusOr<procfs::ProcIo> io =
      io_text.ok() ? procfs::ParseIo(*io_text) : StatusOr<procfs::ProcIo>(io_text.status());
  if (io.ok()) {
    out["io"] = {{"rchar", io->rchar},
                 {"wchar", io->wchar},
                 {"syscr", io->syscr},
                 {"syscw", io->syscw},
                 {"readBytes", io->read_bytes},
                 {"writeBytes", io->write_bytes},
                 {"cancelledWriteBytes", io->cancelled_write_bytes}};
  } else {
    Degrade(Section::kProcess, pid, "io: " + Reason(pid, io.status()));
  }
  return true;
}

void SnapshotBuilder::CaptureThreadsAndStacks(int pid, Json& out) {
  StatusOr<std::vector<int>> tasks = deps_.proc.ListTasks(pid);
  if (!tasks.ok()) {
    std::string reason = Reason(pid, tasks.status());
    if (Wants(Section::kThreads)) Degrade(Section::kThreads, pid, reason);
    if (Wants(Section::kStacks)) Degrade(Section::kStacks, pid, reason);
    return;
  }
  Json threads = Json::array();
  if (tasks->size() > request_.max_threads) {
    Degrade(Section::kThreads, pid,
            std::to_string(tasks->size()) + " threads; only the first " +
                std::to_string(request_.max_threads) + " are listed");
    tasks->resize(request_.max_threads);
  }
  std::optional<std::string> wchan_failure;
  Json blocked = Json::array();
  size_t blocked_count = 0;
  for (int tid : *tasks) {
    if (Wants(Section::kThreads) && BudgetReached()) {
      Degrade(Section::kThreads, pid,
              BudgetReason() + " (listed " + std::to_string(threads.size()) + " of " +
                  std::to_string(tasks->size()) + " threads)");
      break;
    }
    Json thread;
    thread["tid"] = tid;
    if (Wants(Section::kThreads)) {
      StatusOr<std::string> stat_text = deps_.proc.ReadTaskFile(pid, tid, "stat");
      if (!stat_text.ok()) continue;  // the thread exited after the listing
      StatusOr<procfs::ProcStat> stat = procfs::ParseProcStat(*stat_text);
      std::string path = FieldPath(pid, "threads[tid=" + std::to_string(tid) + "].name");
      StatusOr<std::string> comm = deps_.proc.ReadTaskFile(pid, tid, "comm");
      std::string name = comm.ok() ? FirstLine(*comm) : (stat.ok() ? stat->comm : "");
      if (auto redacted = Redacted(name, path)) thread["name"] = *redacted;
      if (stat.ok()) {
        int64_t tps = std::max<int64_t>(1, request_.clock_ticks_per_second);
        thread["state"] = std::string(1, stat->state);
        thread["userMillis"] = static_cast<int64_t>(stat->utime_ticks) * 1000 / tps;
        thread["systemMillis"] = static_cast<int64_t>(stat->stime_ticks) * 1000 / tps;
        thread["lastProcessor"] = stat->processor;
      }
      StatusOr<std::string> wchan = deps_.proc.ReadTaskFile(pid, tid, "wchan");
      if (wchan.ok()) {
        std::string symbol = FirstLine(*wchan);
        thread["wchan"] = symbol == "0" ? "" : symbol;
      } else if (!wchan_failure && wchan.status().code() != StatusCode::kNotFound) {
        wchan_failure = Reason(pid, wchan.status());
      }
      // Uninterruptible sleep (waiting on I/O, a page fault, a kernel lock): the evidence.
      if (stat.ok() && stat->state == 'D' &&
          ++blocked_count <= procfs::kMaxBlockedThreadsReported) {
        procfs::BlockedThread entry{tid, thread.value(std::string(pf::kName), std::string()),
                                    wchan.ok() ? procfs::SanitizeWchan(*wchan) : std::string()};
        blocked.push_back(BlockedThreadDocument(entry));
      }
    }
    threads.push_back(std::move(thread));
  }
  if (wchan_failure) Degrade(Section::kThreads, pid, "wchan: " + *wchan_failure);
  if (blocked_count > procfs::kMaxBlockedThreadsReported) {
    Degrade(Section::kThreads, pid,
            std::to_string(blocked_count) + " threads in state D; only the first " +
                std::to_string(procfs::kMaxBlockedThreadsReported) + " are in blockedThreads");
  }
  if (Wants(Section::kThreads)) out[pf::kBlockedThreads] = std::move(blocked);

  if (Wants(Section::kStacks)) {
    if (request_.profile == Profile::kRestricted) {
      Degrade(Section::kStacks, pid, kRestrictedReason);
    } else if (BudgetReached()) {
      Degrade(Section::kStacks, pid, BudgetReason());
    } else {
      CaptureStacks(pid, threads);
    }
    // Language stacks need no CAP_SYS_PTRACE: memory reads and the JVM's attach work as the
    // target's user.
    if (!BudgetReached()) CaptureRuntime(pid, out);
  }
  out["threads"] = std::move(threads);
}

void SnapshotBuilder::CaptureRuntime(int pid, Json& out) {
  runtimes::RuntimeLimits limits;
  limits.max_frames = static_cast<size_t>(std::max(1, request_.max_frames));
  limits.deadline = request_.deadline;
  limits.stop_early = [this] { return BudgetReached(); };
  // A reader that cannot tell (the executable unreadable) fails; the next may still recognize
  // the process. Only when none does is the first failure reported.
  std::optional<Status> first_failure;
  for (runtimes::RuntimeReader* reader : deps_.runtimes) {
    if (BudgetReached()) break;
    StatusOr<std::optional<runtimes::RuntimeStacks>> read = reader->Read(pid, limits);
    if (read.ok() && !read->has_value()) continue;  // not this runtime
    if (!read.ok()) {
      if (!first_failure) first_failure = read.status();
      continue;
    }
    const runtimes::RuntimeStacks& stacks = **read;
    total_freeze_ += stacks.freeze;
    max_thread_freeze_ = std::max(max_thread_freeze_, stacks.freeze);
    std::string path = FieldPath(pid, std::string(api::runtime_field::kRuntime));
    out[api::runtime_field::kRuntime] = RuntimeDocument(
        stacks, path,
        [this](std::string_view text, const std::string& at) { return Redacted(text, at); });
    for (const std::string& problem : stacks.problems) {
      if (auto reason = Redacted(stacks.language + ": " + problem, path)) {
        Degrade(Section::kStacks, pid, *reason);
      }
    }
    size_t omitted = out[api::runtime_field::kRuntime][api::runtime_field::kGroupsOmitted];
    if (omitted > 0) {
      Degrade(Section::kStacks, pid,
              stacks.language + ": " + std::to_string(omitted) + " more distinct stacks than the " +
                  std::to_string(api::kMaxRuntimeGroups) + " listed");
    }
    return;
  }
  if (first_failure) {
    if (auto reason = Redacted(first_failure->message(), FieldPath(pid, "runtime"))) {
      Degrade(Section::kStacks, pid, *reason);
    }
  }
}

void SnapshotBuilder::CaptureStacks(int pid, Json& threads) {
  stacks::StackCaptureOptions options;
  options.stack_bytes = request_.stack_bytes;
  options.max_frames = request_.max_frames;
  options.deadline = request_.deadline;
  options.proc_root = request_.proc_root;
  // The CPU and memory budgets between threads and before each binary read for symbols.
  options.stop_early = [this] { return BudgetReached(); };
  StatusOr<stacks::ProcessStacks> captured = deps_.stacks.Capture(pid, options);
  if (!captured.ok()) {
    Degrade(Section::kStacks, pid, Reason(pid, captured.status()));
    return;
  }
  if (BudgetReached()) {
    size_t stopped = 0;
    for (const stacks::ThreadStack& ts : captured->threads) stopped += ts.error.empty() ? 1 : 0;
    Degrade(Section::kStacks, pid,
            BudgetReason() + " (captured " + std::to_string(stopped) + " of " +
                std::to_string(captured->threads.size()) + " threads)");
  }
  total_freeze_ += captured->total_freeze;
  max_thread_freeze_ = std::max(max_thread_freeze_, captured->max_thread_freeze);
  std::map<int, size_t> index;
  for (size_t i = 0; i < threads.size(); ++i) index[threads[i]["tid"].get<int>()] = i;
  for (const stacks::ThreadStack& ts : captured->threads) {
    if (!ts.error.empty()) {
      Degrade(Section::kStacks, pid, ts.error, ts.tid);
      continue;
    }
    Json frames = Json::array();
    for (const stacks::Frame& f : ts.frames) {
      Json frame;
      frame["pc"] = "0x" + Hex(f.pc);
      if (!f.symbol.empty()) {
        frame["symbol"] = f.symbol;
        frame["offset"] = f.symbol_offset;
      }
      if (!f.module.empty()) {
        std::string path =
            FieldPath(pid, "threads[tid=" + std::to_string(ts.tid) + "].stack.module");
        if (auto module = Redacted(f.module, path)) frame["module"] = *module;
      }
      frames.push_back(std::move(frame));
    }
    Json stack;
    stack["unwind"] = ts.unwind;
    stack["freezeMicros"] = ts.freeze.count();
    stack["frames"] = std::move(frames);
    auto it = index.find(ts.tid);
    if (it == index.end()) {
      // A thread that started after the listing.
      Json thread;
      thread["tid"] = ts.tid;
      index[ts.tid] = threads.size();
      threads.push_back(std::move(thread));
      it = index.find(ts.tid);
    }
    threads[it->second]["stack"] = std::move(stack);
  }
  // Binaries the walk could not use (unreadable, or refused by a memory cap): their frames have
  // no symbol, and the reason says why. The path is the target's choice, so it is redacted.
  for (const std::string& error : captured->module_errors) {
    if (auto reason = Redacted(error, FieldPath(pid, "stack.module"))) {
      Degrade(Section::kStacks, pid, "module " + *reason);
    }
  }
}

const SocketTable& SnapshotBuilder::SocketsOf(int pid) {
  StatusOr<std::string> netns = deps_.proc.ReadLink(pid, "ns/net");
  std::string key = netns.ok() ? *netns : "pid:" + std::to_string(pid);
  auto found = socket_tables_.find(key);
  if (found != socket_tables_.end()) return found->second;
  SocketTable& table = socket_tables_[key];
  for (std::string_view protocol : procfs::kSocketProtocols) {
    StatusOr<std::string> text = deps_.proc.ReadNetFile(pid, protocol);
    if (!text.ok()) {
      // No IPv6 in the kernel means no such table and no such sockets: not a failure.
      bool optional_table =
          protocol.ends_with('6') && text.status().code() == StatusCode::kNotFound;
      if (!optional_table) {
        Degrade(Section::kSockets, pid,
                "net/" + std::string(protocol) + ": " + Reason(pid, text.status()));
      }
      continue;
    }
    StatusOr<std::vector<NetSocket>> sockets = procfs::ParseNetSockets(*text, protocol);
    if (!sockets.ok()) {
      Degrade(Section::kSockets, pid, sockets.status().message());
      continue;
    }
    for (NetSocket& s : *sockets) {
      if (s.inode != 0) table.emplace(s.inode, std::move(s));
    }
  }
  return table;
}

void SnapshotBuilder::CaptureFdsAndSockets(int pid, Json& out) {
  StatusOr<std::vector<int>> fds = deps_.proc.ListFds(pid);
  if (!fds.ok()) {
    std::string reason = Reason(pid, fds.status());
    if (Wants(Section::kFds)) Degrade(Section::kFds, pid, reason);
    if (Wants(Section::kSockets)) Degrade(Section::kSockets, pid, reason);
    return;
  }
  size_t open_count = fds->size();
  if (fds->size() > request_.max_fds) {
    Degrade(Wants(Section::kFds) ? Section::kFds : Section::kSockets, pid,
            std::to_string(fds->size()) + " fds open; only the first " +
                std::to_string(request_.max_fds) + " are listed");
    fds->resize(request_.max_fds);
  }
  Json fd_entries = Json::array();
  std::vector<std::pair<int, uint64_t>> socket_fds;
  std::optional<std::string> link_failure;
  for (size_t i = 0; i < fds->size(); ++i) {
    if (BudgetReached()) {
      Degrade(Wants(Section::kFds) ? Section::kFds : Section::kSockets, pid,
              BudgetReason() + " (read " + std::to_string(i) + " of " +
                  std::to_string(fds->size()) + " fds)");
      break;
    }
    int fd = (*fds)[i];
    StatusOr<std::string> target = deps_.proc.ReadLink(pid, "fd/" + std::to_string(fd));
    if (!target.ok()) {
      // NotFound: closed since the listing. Anything else is reported once per process.
      if (target.status().code() != StatusCode::kNotFound && !link_failure) {
        link_failure = Reason(pid, target.status());
      }
      continue;
    }
    if (std::optional<uint64_t> inode = procfs::ParseSocketInode(*target)) {
      socket_fds.emplace_back(fd, *inode);
    }
    if (!Wants(Section::kFds)) continue;
    Json entry;
    entry["fd"] = fd;
    entry["type"] = FdType(*target);
    std::string path = FieldPath(pid, "fds[fd=" + std::to_string(fd) + "].target");
    if (auto redacted = Redacted(*target, path)) entry["target"] = *redacted;
    fd_entries.push_back(std::move(entry));
  }
  if (link_failure) {
    Degrade(Wants(Section::kFds) ? Section::kFds : Section::kSockets, pid, *link_failure);
  }
  if (Wants(Section::kFds)) {
    out["fdCount"] = open_count;
    out["fds"] = std::move(fd_entries);
  }
  if (!Wants(Section::kSockets)) return;
  if (BudgetReached()) {
    Degrade(Section::kSockets, pid, BudgetReason());
    return;
  }
  Json sockets = Json::array();
  if (socket_fds.empty()) {
    out["sockets"] = std::move(sockets);
    return;
  }
  const SocketTable& table = SocketsOf(pid);
  for (const auto& [fd, inode] : socket_fds) {
    Json entry;
    entry["fd"] = fd;
    entry["inode"] = inode;
    auto it = table.find(inode);
    if (it == table.end()) {
      entry["protocol"] = "other";  // netlink, packet, ... : not in the tables we read
    } else {
      const NetSocket& s = it->second;
      entry["protocol"] = s.protocol;
      if (s.send_queue_bytes) entry[pf::kSendQueueBytes] = *s.send_queue_bytes;
      if (s.receive_queue_bytes) entry[pf::kReceiveQueueBytes] = *s.receive_queue_bytes;
      if (s.accept_queue) entry[pf::kAcceptQueue] = *s.accept_queue;
      if (s.protocol == "unix") {
        entry["type"] = s.type;
        entry["state"] = s.state;
        std::string path = FieldPath(pid, "sockets[fd=" + std::to_string(fd) + "].path");
        if (auto redacted = Redacted(s.path, path)) entry["path"] = *redacted;
      } else if (request_.pii == redact::PiiMode::kStrict) {
        // Endpoints are addresses ("10.1.2.3:443"): personal data in strict mode.
        const std::string where = "sockets[fd=" + std::to_string(fd) + "].";
        if (auto local = Redacted(s.local, FieldPath(pid, where + "local"))) {
          entry["local"] = *local;
        }
        if (auto remote = Redacted(s.remote, FieldPath(pid, where + "remote"))) {
          entry["remote"] = *remote;
        }
        entry["state"] = s.state;
        entry["uid"] = s.uid;
      } else {
        entry["local"] = s.local;
        entry["remote"] = s.remote;
        entry["state"] = s.state;
        entry["uid"] = s.uid;
      }
    }
    sockets.push_back(std::move(entry));
  }
  out["sockets"] = std::move(sockets);
}

void SnapshotBuilder::CaptureLimits(int pid, Json& out) {
  StatusOr<std::string> text = deps_.proc.ReadFile(pid, "limits");
  StatusOr<std::vector<procfs::Limit>> limits =
      text.ok() ? procfs::ParseLimits(*text) : StatusOr<std::vector<procfs::Limit>>(text.status());
  if (!limits.ok()) {
    Degrade(Section::kLimits, pid, Reason(pid, limits.status()));
    return;
  }
  Json entries = Json::array();
  for (const procfs::Limit& limit : *limits) {
    entries.push_back({{"name", limit.name},
                       {"soft", LimitValue(limit.soft)},
                       {"hard", LimitValue(limit.hard)},
                       {"units", limit.units}});
  }
  out["limits"] = std::move(entries);
}

void SnapshotBuilder::CaptureCgroup(int pid, Json& out) {
  StatusOr<std::string> text = deps_.proc.ReadFile(pid, "cgroup");
  StatusOr<std::vector<procfs::CgroupMembership>> memberships =
      text.ok() ? procfs::ParseCgroup(*text)
                : StatusOr<std::vector<procfs::CgroupMembership>>(text.status());
  if (!memberships.ok()) {
    Degrade(Section::kCgroup, pid, Reason(pid, memberships.status()));
    return;
  }
  CgroupView view = ChooseCgroupView(pid, *memberships);
  const std::string& source = view.source;
  StatusOr<procfs::CgroupUsage>& usage = view.usage;
  if (!usage.ok()) {
    Degrade(Section::kCgroup, pid, Reason(pid, usage.status()));
    return;
  }
  if (!usage->errors.empty()) {
    std::string joined;
    for (const std::string& e : usage->errors) joined += (joined.empty() ? "" : "; ") + e;
    Degrade(Section::kCgroup, pid, "partly unreadable: " + joined);
  }
  Json cgroup;
  cgroup["version"] = usage->version;
  cgroup["source"] = source;
  cgroup["cpuPath"] = usage->cpu_path;
  cgroup["memoryPath"] = usage->memory_path;
  cgroup["cpuUsageNanos"] = OptionalNumber(usage->cpu_usage_nanos);
  cgroup["cpuQuotaMicros"] =
      usage->cpu_quota_micros ? Json(*usage->cpu_quota_micros) : Json(nullptr);
  cgroup["cpuPeriodMicros"] = OptionalNumber(usage->cpu_period_micros);
  cgroup["nrPeriods"] = OptionalNumber(usage->nr_periods);
  cgroup["nrThrottled"] = OptionalNumber(usage->nr_throttled);
  cgroup["throttledNanos"] = OptionalNumber(usage->throttled_nanos);
  cgroup["memoryUsageBytes"] = OptionalNumber(usage->memory_usage_bytes);
  cgroup["memoryLimitBytes"] =
      usage->memory_unlimited ? Json("unlimited") : OptionalNumber(usage->memory_limit_bytes);
  out["cgroup"] = std::move(cgroup);
}

SnapshotBuilder::CgroupView SnapshotBuilder::ChooseCgroupView(
    int pid, const std::vector<procfs::CgroupMembership>& memberships) {
  CgroupView view;
  view.fs = &deps_.cgroup;
  view.memberships = memberships;
  view.source = "tool";
  view.usage = procfs::ReadCgroupUsage(deps_.cgroup, memberships);
  if (view.usage.ok() || !deps_.target_cgroup_fs) return view;
  // The target's own mount namespace shows its cgroup at the root of its /sys/fs/cgroup.
  std::vector<procfs::CgroupMembership> own = memberships;
  for (procfs::CgroupMembership& m : own) m.path = "/";
  std::unique_ptr<procfs::CgroupFs> target_fs = deps_.target_cgroup_fs(pid);
  if (target_fs == nullptr) return view;
  StatusOr<procfs::CgroupUsage> target_usage = procfs::ReadCgroupUsage(*target_fs, own);
  if (!target_usage.ok()) return view;
  view.owned = std::move(target_fs);
  view.fs = view.owned.get();
  view.memberships = std::move(own);
  view.source = "target";
  view.usage = std::move(target_usage);
  return view;
}

Json SnapshotBuilder::CaptureEvidence(int pid) {
  Json evidence = Json::object();
  if (Wants(Section::kSockets)) {
    if (BudgetReached()) {
      Degrade(SectionName(Section::kSockets), std::nullopt, "evidence.network: " + BudgetReason());
    } else {
      evidence[ef::kNetwork] = CaptureNetworkEvidence(pid);
    }
  }
  if (Wants(Section::kCgroup)) CaptureCgroupEvidence(pid, evidence);
  return evidence;
}

Json SnapshotBuilder::CaptureNetworkEvidence(int pid) {
  procfs::NetworkEvidence network = procfs::ReadNetworkEvidence(deps_.proc, pid);
  if (std::string reason = EvidenceDegradedReason(ef::kNetwork, network.errors); !reason.empty()) {
    Degrade(SectionName(Section::kSockets), std::nullopt, reason);
  }
  Json out = NetworkEvidenceDocument(network);
  if (request_.pii != redact::PiiMode::kStrict) return out;
  // Endpoints are addresses: personal data in strict mode, as for the sockets section.
  Json& listeners = out[ef::kListeners];
  for (size_t i = 0; i < listeners.size(); ++i) {
    const std::string key(ef::kLocal);
    std::string path = "evidence.network.listeners[" + std::to_string(i) + "].local";
    if (auto local = Redacted(listeners[i][key].get<std::string>(), path)) {
      listeners[i][key] = *local;
    } else {
      listeners[i].erase(key);
    }
  }
  return out;
}

void SnapshotBuilder::CaptureCgroupEvidence(int pid, Json& evidence) {
  const std::string section(SectionName(Section::kCgroup));
  if (BudgetReached()) {
    for (std::string_view part : {ef::kPressure, ef::kMemory}) {
      Degrade(section, std::nullopt, "evidence." + std::string(part) + ": " + BudgetReason());
    }
    return;
  }
  // Without the memberships, pressure still comes from /proc/pressure (the whole machine) and
  // memory reports that it has no cgroup; the reason the file could not be read goes with both.
  std::optional<std::string> membership_error;
  std::vector<procfs::CgroupMembership> memberships;
  StatusOr<std::string> text = deps_.proc.ReadFile(pid, "cgroup");
  StatusOr<std::vector<procfs::CgroupMembership>> parsed =
      text.ok() ? procfs::ParseCgroup(*text)
                : StatusOr<std::vector<procfs::CgroupMembership>>(text.status());
  if (parsed.ok()) {
    memberships = std::move(parsed).value();
  } else {
    membership_error = "cgroup: " + Reason(pid, parsed.status());
  }
  CgroupView view = ChooseCgroupView(pid, memberships);
  procfs::PressureEvidence pressure =
      procfs::ReadPressureEvidence(deps_.proc, *view.fs, view.memberships);
  if (membership_error) pressure.errors.insert(pressure.errors.begin(), *membership_error);
  // The machine's PSI instead of the cgroup's is a source (recorded), not a failure: degraded only
  // when a resource is missing. Its errors still say why the cgroup's was not used.
  const bool pressure_complete =
      pressure.cpu.has_value() && pressure.memory.has_value() && pressure.io.has_value();
  if (!pressure_complete || membership_error) {
    if (std::string reason = EvidenceDegradedReason(ef::kPressure, pressure.errors);
        !reason.empty()) {
      Degrade(section, std::nullopt, reason);
    }
  }
  evidence[ef::kPressure] = PressureEvidenceDocument(pressure);
  if (BudgetReached()) {
    Degrade(section, std::nullopt, "evidence.memory: " + BudgetReason());
    return;
  }
  procfs::MemoryEvidence memory = procfs::ReadMemoryEvidence(*view.fs, view.memberships);
  if (membership_error) memory.errors.insert(memory.errors.begin(), *membership_error);
  if (std::string reason = EvidenceDegradedReason(ef::kMemory, memory.errors); !reason.empty()) {
    Degrade(section, std::nullopt, reason);
  }
  evidence[ef::kMemory] = MemoryEvidenceDocument(memory);
}

void SnapshotBuilder::CaptureMaps(int pid, Json& out) {
  StatusOr<std::string> text = deps_.proc.ReadFile(pid, "maps");
  StatusOr<procfs::MapsSummary> summary = text.ok()
                                              ? procfs::ParseMapsSummary(*text, request_.maps_top_n)
                                              : StatusOr<procfs::MapsSummary>(text.status());
  if (!summary.ok()) {
    Degrade(Section::kMaps, pid, Reason(pid, summary.status()));
    return;
  }
  Json maps;
  maps["count"] = summary->total.count;
  maps["bytes"] = summary->total.bytes;
  Json by_kind = Json::object();
  for (const auto& [kind, totals] : summary->by_kind) {
    by_kind[kind] = {{"count", totals.count}, {"bytes", totals.bytes}};
  }
  maps["byKind"] = std::move(by_kind);

  std::vector<std::pair<std::string, procfs::MappingTotals>> files(summary->by_file.begin(),
                                                                   summary->by_file.end());
  std::stable_sort(files.begin(), files.end(),
                   [](const auto& a, const auto& b) { return a.second.bytes > b.second.bytes; });
  Json file_entries = Json::array();
  procfs::MappingTotals other;
  size_t other_files = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    if (i >= request_.maps_max_files) {
      other.count += files[i].second.count;
      other.bytes += files[i].second.bytes;
      ++other_files;
      continue;
    }
    Json entry;
    std::string path = FieldPath(pid, "maps.files[" + std::to_string(i) + "].path");
    if (auto redacted = Redacted(files[i].first, path)) entry["path"] = *redacted;
    entry["count"] = files[i].second.count;
    entry["bytes"] = files[i].second.bytes;
    file_entries.push_back(std::move(entry));
  }
  maps["files"] = std::move(file_entries);
  if (other_files > 0) {
    maps["otherFiles"] = {{"files", other_files}, {"count", other.count}, {"bytes", other.bytes}};
  }

  Json largest = Json::array();
  for (size_t i = 0; i < summary->largest.size(); ++i) {
    const procfs::Mapping& m = summary->largest[i];
    Json entry;
    entry["start"] = "0x" + Hex(m.start);
    entry["end"] = "0x" + Hex(m.end);
    entry["bytes"] = m.Bytes();
    entry["perms"] = m.perms;
    entry["kind"] = m.kind;
    if (!m.path.empty()) {
      std::string path = FieldPath(pid, "maps.largest[" + std::to_string(i) + "].path");
      if (auto redacted = Redacted(m.path, path)) entry["path"] = *redacted;
    }
    largest.push_back(std::move(entry));
  }
  maps["largest"] = std::move(largest);
  out["maps"] = std::move(maps);
}

void SnapshotBuilder::CaptureEnv(int pid, Json& out) {
  StatusOr<std::string> text = deps_.proc.ReadFile(pid, "environ");
  if (!text.ok()) {
    Degrade(Section::kEnv, pid, Reason(pid, text.status()));
    return;
  }
  Json env = Json::array();
  for (const procfs::EnvVar& var : procfs::ParseEnviron(*text)) {
    Json entry;
    // Names are target-controlled text too (L6): an entry without '=' (a clobbered env area,
    // malformed envp) is all name. They go through the free-text redactor like any other text;
    // the value is still judged by the real name.
    StatusOr<std::string> name = TextRedactor().RedactText(var.name, report_);
    if (!name.ok()) {
      report_.dropped_fields.push_back(FieldPath(pid, "env[].name"));
      continue;
    }
    entry["name"] = *name;
    StatusOr<std::string> value = TextRedactor().RedactEnv(var.name, var.value, report_);
    if (value.ok()) {
      entry["value"] = *value;
    } else {
      report_.dropped_fields.push_back(FieldPath(pid, "env[" + *name + "].value"));
    }
    env.push_back(std::move(entry));
  }
  out["env"] = std::move(env);
}

CaptureResult SnapshotBuilder::Build() {
  CaptureResult result;
  Json& doc = result.document;
  doc[field::kApiVersion] = api::kSnapshotApiVersion;
  doc[field::kKind] = api::kSnapshotKind;
  doc[field::kCaptureTime] = request_.capture_time;
  doc[field::kTool] = {{"name", api::kSnapshotToolName},
                       {"version", request_.tool_version},
                       {"pid", request_.self_pid},
                       {"profile", ProfileName(request_.profile)}};
  doc[field::kBudget] = BudgetDocument(request_);
  Json sections = Json::array();
  for (Section s : request_.sections.List()) sections.push_back(SectionName(s));

  StatusOr<Targets> targets =
      DiscoverTargets(deps_.proc, request_.self_pid, request_.pid, request_.scope);
  Json processes = Json::array();
  Json evidence = Json::object();
  if (!targets.ok()) {
    doc[field::kTargets] = {{field::kMainPid, request_.pid ? Json(*request_.pid) : Json(nullptr)},
                            {field::kPids, Json::array()}};
    doc[field::kSections] = std::move(sections);
    doc[field::kProcessTree] = Json::array();
    Degrade(api::snapshot_section::kProcess, request_.pid, targets.status().message());
  } else {
    result.targets_found = true;
    ScrubHiddenEnvValues(*targets);
    Json pids = Json::array();
    for (const ProcessNode& node : targets->processes) pids.push_back(node.pid);
    doc[field::kTargets] = {{field::kMainPid, targets->main_pid}, {field::kPids, std::move(pids)}};
    doc[field::kSections] = std::move(sections);
    doc[field::kProcessTree] = Wants(Section::kProcess) ? ProcessTree(*targets) : Json::array();
    // First: a few files that tell the most, read before the deadline can run out on a process.
    evidence = CaptureEvidence(targets->main_pid);

    for (const ProcessNode& node : targets->processes) {
      int pid = node.pid;
      Json process;
      process["pid"] = pid;
      if (BudgetReached()) {
        for (Section s : request_.sections.List()) Degrade(s, pid, BudgetReason());
        processes.push_back(std::move(process));
        continue;
      }
      if (!CaptureProcessSection(pid, process)) {
        processes.push_back(std::move(process));
        continue;
      }
      if (process.contains("ppid")) ++result.processes_captured;
      // Cheapest and most telling first; stacks right after threads so they see a fresh list.
      struct Step {
        bool wanted;
        std::vector<Section> sections;
        void (SnapshotBuilder::*capture)(int, Json&);
      };
      const Step steps[] = {
          {Wants(Section::kThreads) || Wants(Section::kStacks),
           {Section::kThreads, Section::kStacks},
           &SnapshotBuilder::CaptureThreadsAndStacks},
          {Wants(Section::kFds) || Wants(Section::kSockets),
           {Section::kFds, Section::kSockets},
           &SnapshotBuilder::CaptureFdsAndSockets},
          {Wants(Section::kLimits), {Section::kLimits}, &SnapshotBuilder::CaptureLimits},
          {Wants(Section::kCgroup), {Section::kCgroup}, &SnapshotBuilder::CaptureCgroup},
          {Wants(Section::kMaps), {Section::kMaps}, &SnapshotBuilder::CaptureMaps},
          {Wants(Section::kEnv), {Section::kEnv}, &SnapshotBuilder::CaptureEnv},
      };
      for (const Step& step : steps) {
        if (!step.wanted) continue;
        if (BudgetReached()) {
          for (Section s : step.sections) {
            if (Wants(s)) Degrade(s, pid, BudgetReason());
          }
          continue;
        }
        (this->*step.capture)(pid, process);
      }
      processes.push_back(std::move(process));
    }
  }
  doc[field::kProcesses] = std::move(processes);
  doc[field::kEvidence] = std::move(evidence);
  Json patterns = Json::object();
  for (const auto& [rule, count] : report_.patterns_matched) patterns[rule] = count;
  doc[field::kRedaction] = {{field::kPii, redact::PiiModeName(request_.pii)},
                            {field::kEnvRedacted, report_.env_redacted},
                            {field::kPatternsMatched, std::move(patterns)},
                            {field::kDroppedFields, report_.dropped_fields}};
  doc[field::kDegraded] = std::move(degraded_);
  doc[field::kOverhead] = {{field::kTargetFreezeMicros, total_freeze_.count()},
                           {field::kTargetMaxThreadFreezeMicros, max_thread_freeze_.count()},
                           {field::kToolCpuMillis, 0},
                           {field::kToolMaxRssKiB, 0},
                           {field::kWallMillis, 0}};
  if (std::optional<BudgetKind> reached = budget_.ReachedKind()) {
    doc[field::kOverhead][field::kBudgetReached] = BudgetKindName(*reached);
  }
  if (request_.value_keys_for_controller) {
    // Without targets no environment was read: the controller must not take the empty list for
    // "nothing to hide".
    if (!result.targets_found) ++environs_unread_;
    doc[field::kControllerOnly] = {{field::kValueKeys, std::move(value_keys_)},
                                   {field::kEnvironsUnread, environs_unread_}};
  }
  return result;
}

}  // namespace

CaptureResult CaptureSnapshot(const CaptureRequest& request, const CaptureDeps& deps) {
  return SnapshotBuilder(request, deps).Build();
}

void SetToolUsage(Json& document, const ToolUsage& usage) {
  Json& overhead = document[field::kOverhead];
  overhead[field::kToolCpuMillis] = usage.cpu_millis;
  overhead[field::kToolMaxRssKiB] = usage.max_rss_kib;
  overhead[field::kWallMillis] = usage.wall_millis;
}

namespace {

// A document with nothing captured: the header, no processes, an empty `evidence`, and one
// document-wide degraded entry with `reason`.
Json EmptyDocument(const CaptureRequest& request, const std::string& reason,
                   milliseconds wall_millis) {
  Json doc;
  doc[field::kApiVersion] = api::kSnapshotApiVersion;
  doc[field::kKind] = api::kSnapshotKind;
  doc[field::kCaptureTime] = request.capture_time;
  doc[field::kTool] = {{"name", api::kSnapshotToolName},
                       {"version", request.tool_version},
                       {"pid", request.self_pid},
                       {"profile", ProfileName(request.profile)}};
  doc[field::kBudget] = BudgetDocument(request);
  doc[field::kTargets] = {{field::kMainPid, request.pid ? Json(*request.pid) : Json(nullptr)},
                          {field::kPids, Json::array()}};
  Json sections = Json::array();
  for (Section s : request.sections.List()) sections.push_back(SectionName(s));
  doc[field::kSections] = std::move(sections);
  doc[field::kProcessTree] = Json::array();
  doc[field::kProcesses] = Json::array();
  doc[field::kEvidence] = Json::object();  // nothing captured, as the degraded entry says
  doc[field::kRedaction] = {{field::kPii, redact::PiiModeName(request.pii)},
                            {field::kEnvRedacted, 0},
                            {field::kPatternsMatched, Json::object()},
                            {field::kDroppedFields, Json::array()}};
  doc[field::kDegraded] = Json::array(
      {{{field::kSection, api::snapshot_section::kWholeDocument}, {field::kReason, reason}}});
  doc[field::kOverhead] = {{field::kTargetFreezeMicros, 0},
                           {field::kTargetMaxThreadFreezeMicros, 0},
                           {field::kToolCpuMillis, 0},
                           {field::kToolMaxRssKiB, 0},
                           {field::kWallMillis, wall_millis.count()}};
  return doc;
}

}  // namespace

Json WatchdogDocument(const CaptureRequest& request, milliseconds fired_after) {
  return EmptyDocument(request,
                       "watchdog: capture did not finish within " +
                           std::to_string(fired_after.count()) + "ms; nothing captured is included",
                       fired_after);
}

Json CpuBackstopDocument(const CaptureRequest& request, std::chrono::seconds cpu_limit) {
  Json doc = EmptyDocument(request,
                           "cpu backstop: the tool used " + std::to_string(cpu_limit.count()) +
                               "s of CPU time (RLIMIT_CPU) before the capture finished; nothing "
                               "captured is included",
                           milliseconds(0));
  doc[field::kOverhead][field::kToolCpuMillis] = milliseconds(cpu_limit).count();
  doc[field::kOverhead][field::kBudgetReached] = BudgetKindName(BudgetKind::kCpu);
  return doc;
}

}  // namespace ephemera::snapshot
