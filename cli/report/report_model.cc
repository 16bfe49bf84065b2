#include "cli/report/report_model.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <set>

namespace ephemera::report {
namespace {

namespace section = api::snapshot_section;

std::string FormatScaled(double value, const char* unit, int decimals) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.*f %s", decimals, value, unit);
  return buf.data();
}

std::string OptionalKiB(std::optional<std::int64_t> kib) {
  return kib.has_value() ? FormatBytes(*kib * 1024) : "-";
}

std::string OptionalMicros(std::optional<std::int64_t> micros) {
  return micros.has_value() ? FormatMicros(*micros) : "-";
}

std::string OptionalMillis(std::optional<std::int64_t> millis) {
  return millis.has_value() ? FormatMicros(*millis * 1000) : "-";
}

std::string OptionalNumber(const std::optional<std::int64_t>& value) {
  return value.has_value() ? std::to_string(*value) : std::string();
}

void AddDistinct(std::vector<std::string>& values, const std::string& value) {
  if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
}

FrameModel FrameOf(const api::SnapshotFrame& frame) {
  FrameModel out{frame.pc, "??", frame.symbol.empty() ? frame.pc : frame.symbol, frame.module};
  if (!frame.symbol.empty()) {
    out.function = frame.symbol;
    if (frame.offset.has_value()) out.function += "+" + std::to_string(*frame.offset);
  }
  return out;
}

std::string ThreadLabel(const api::SnapshotThread& thread) {
  std::string tid = "[" + thread.tid.text + "]";
  return thread.name.empty() ? tid : thread.name + " " + tid;
}

HeaderModel BuildHeader(const api::SnapshotDocument& doc, const ReportContext& context) {
  HeaderModel header;
  header.title = "Ephemera snapshot";
  if (!context.session.empty()) header.title += " " + context.session;
  header.captured_at = context.captured_at.empty() ? doc.capture_time : context.captured_at;
  if (!header.captured_at.empty()) header.title += " (" + header.captured_at + ")";
  header.session = context.session;
  if (!context.namespace_name.empty()) {
    header.session =
        context.namespace_name + (context.session.empty() ? "" : "/" + context.session);
  }
  header.requester = context.requester;
  header.reason = context.reason;
  if (!context.pod.empty()) {
    header.target = "pod " + context.pod +
                    (context.container.empty() ? "" : ", container " + context.container);
  }
  header.schema = doc.api_version;
  if (doc.tool.has_value()) {
    std::string text = doc.tool->name + " " + doc.tool->version;
    if (!doc.tool->profile.empty()) text += ", profile " + doc.tool->profile;
    header.tool = text;
  }
  if (doc.targets.has_value()) {
    std::string text = Plural(doc.targets->pid_count, "process", "processes");
    if (doc.targets->main_pid.has_value()) {
      text += ", main pid " + std::to_string(*doc.targets->main_pid);
    }
    header.targets = text;
  }
  header.sections = doc.sections.empty() ? "none" : Join(doc.sections, ", ");
  if (doc.budget.has_value()) {
    std::vector<std::string> parts;
    if (doc.budget->deadline_millis.has_value()) {
      parts.push_back("deadline " + FormatMicros(*doc.budget->deadline_millis * 1000));
    }
    if (doc.budget->max_output_bytes.has_value()) {
      parts.push_back("output cap " + FormatBytes(*doc.budget->max_output_bytes));
    }
    header.budget = Join(parts, ", ");
  }
  header.degraded = Plural(doc.degraded.size(), "entry", "entries");
  return header;
}

class TreeBuilder {
 public:
  explicit TreeBuilder(const std::vector<api::SnapshotTreeEntry>& entries) {
    for (const auto& entry : entries) {
      if (entry.pid.has_value()) by_pid_.emplace(*entry.pid, &entry);
    }
  }

  std::vector<TreeNode> Build() {
    std::vector<TreeNode> roots;
    for (const auto& [pid, entry] : by_pid_) {
      bool is_root = !entry->ppid.has_value() || by_pid_.count(*entry->ppid) == 0;
      if (is_root) Visit(pid, roots);
    }
    // Entries in a parent cycle (a damaged document) have no root; they are listed flat.
    for (const auto& [pid, entry] : by_pid_) Visit(pid, roots);
    return roots;
  }

 private:
  void Visit(std::int64_t pid, std::vector<TreeNode>& siblings) {
    if (!shown_.insert(pid).second) return;
    const api::SnapshotTreeEntry& entry = *by_pid_.at(pid);
    siblings.push_back({pid, entry.name, {}});
    std::vector<TreeNode> children;
    for (std::int64_t child : entry.children) {
      if (by_pid_.count(child) > 0) Visit(child, children);
    }
    siblings.back().children = std::move(children);
  }

  std::map<std::int64_t, const api::SnapshotTreeEntry*> by_pid_;
  std::set<std::int64_t> shown_;
};

FdsModel BuildFds(const api::SnapshotProcess& process, const std::vector<api::SnapshotFd>& fds) {
  FdsModel out;
  std::map<std::string, std::size_t> by_type;
  for (const api::SnapshotFd& fd : fds) ++by_type[fd.type];
  for (const auto& [type, count] : by_type) {
    out.by_type.emplace_back(type.empty() ? "unknown" : type, count);
  }
  out.count = process.fd_count.text.empty() ? std::to_string(fds.size()) : process.fd_count.text;
  out.fds = fds;
  return out;
}

std::vector<SocketModel> BuildSockets(const std::vector<api::SnapshotSocket>& sockets) {
  std::vector<SocketModel> out;
  out.reserve(sockets.size());
  for (const api::SnapshotSocket& socket : sockets) {
    SocketModel row{socket.fd,
                    socket.protocol,
                    socket.local,
                    socket.remote,
                    socket.state,
                    socket.inode,
                    OptionalNumber(socket.send_queue_bytes),
                    OptionalNumber(socket.receive_queue_bytes),
                    OptionalNumber(socket.accept_queue)};
    if (socket.protocol == "unix") {
      if (!socket.type.empty()) row.protocol += "/" + socket.type;
      row.local = socket.path.empty() ? "(unbound)" : socket.path;
    }
    out.push_back(std::move(row));
  }
  return out;
}

MapsModel BuildMaps(const api::SnapshotMaps& maps) {
  MapsModel out{maps.count.text, OptionalBytes(maps.bytes), maps.by_kind,
                maps.files,      maps.other_files,          maps.largest};
  if (out.by_kind.has_value()) {
    std::stable_sort(out.by_kind->begin(), out.by_kind->end(), [](const auto& a, const auto& b) {
      return a.bytes.value_or(0) > b.bytes.value_or(0);
    });
  }
  return out;
}

CgroupModel BuildCgroup(const api::SnapshotCgroup& cgroup) {
  CgroupModel out;
  out.where = "v" + cgroup.version.text + ", read from the " + cgroup.source + "'s view";
  out.cpu_path = cgroup.cpu_path;
  out.memory_path = cgroup.memory_path;
  if (cgroup.cpu_usage_nanos.has_value()) {
    out.cpu_used = FormatMicros(*cgroup.cpu_usage_nanos / 1000);
  }
  const auto& quota = cgroup.cpu_quota_micros;
  const auto& period = cgroup.cpu_period_micros;
  if (quota.has_value()) {
    out.cpu_quota = "none";
    if (*quota >= 0 && period.has_value() && *period > 0) {
      std::array<char, 32> cpus{};
      std::snprintf(cpus.data(), cpus.size(), "%.2f",
                    static_cast<double>(*quota) / static_cast<double>(*period));
      out.cpu_quota = std::string(cpus.data()) + " CPU (" + std::to_string(*quota) + " us per " +
                      std::to_string(*period) + " us)";
    }
  }
  const auto& periods = cgroup.nr_periods;
  const auto& throttled = cgroup.nr_throttled;
  if (periods.has_value() && throttled.has_value()) {
    ThrottlingModel throttling;
    throttling.periods =
        std::to_string(*throttled) + " of " + std::to_string(*periods) + " periods";
    if (*periods > 0) {
      std::array<char, 32> percent{};
      std::snprintf(percent.data(), percent.size(), " (%.1f%%)",
                    100.0 * static_cast<double>(*throttled) / static_cast<double>(*periods));
      throttling.percent = percent.data();
    }
    if (cgroup.throttled_nanos.has_value()) {
      throttling.total = ", " + FormatMicros(*cgroup.throttled_nanos / 1000) + " in total";
    }
    out.throttled = std::move(throttling);
  }
  const SnapshotValue& limit = cgroup.memory_limit_bytes;
  std::string limit_text = limit.integer.has_value() ? FormatBytes(*limit.integer) : limit.text;
  out.memory = OptionalBytes(cgroup.memory_usage_bytes) + " used, limit " +
               (limit_text.empty() ? "-" : limit_text);
  return out;
}

std::vector<EnvVarModel> BuildEnv(const std::vector<api::SnapshotEnvVar>& env) {
  std::vector<EnvVarModel> out;
  out.reserve(env.size());
  for (const api::SnapshotEnvVar& variable : env) {
    out.push_back({variable.name, variable.value.value_or("(dropped: redaction failed)")});
  }
  return out;
}

// The section `name` of a process: requested or not, `content` (when the document has it) made
// into the model by `build`, and the degraded reason about it.
template <typename T, typename Source, typename Build>
SectionModel<T> SectionOf(const api::SnapshotDocument& doc, const api::SnapshotProcess& process,
                          std::string_view name, bool requested,
                          const std::optional<Source>& content, Build build) {
  SectionModel<T> out;
  out.requested = requested;
  if (!requested) return out;
  if (content.has_value()) out.content = build(*content);
  out.degraded_reason = doc.DegradedReason(process.pid, name);
  return out;
}

// The threads grouped by stack, those with a native stack that also run a runtime member (by tid)
// apart.
ThreadsModel BuildThreads(const api::SnapshotProcess& p,
                          const std::vector<api::SnapshotThread>& threads) {
  std::set<std::int64_t> runtime_tids;
  if (p.runtime.has_value()) {
    for (const api::SnapshotRuntimeGroup& group : p.runtime->groups) {
      for (const api::SnapshotRuntimeMember& member : group.members) {
        if (member.tid.has_value()) runtime_tids.insert(*member.tid);
      }
    }
  }
  std::vector<api::SnapshotThread> native;
  std::vector<api::SnapshotThread> runtime;
  for (const api::SnapshotThread& thread : threads) {
    const bool linked = thread.stack.has_value() && thread.tid.integer.has_value() &&
                        runtime_tids.count(*thread.tid.integer) > 0;
    (linked ? runtime : native).push_back(thread);
  }
  return ThreadsModel{p.thread_entries, GroupThreadsByStack(native), GroupThreadsByStack(runtime),
                      runtime.size()};
}

// "1000 open, soft limit 1024 (97.7%)" from fdCount and the "Max open files" row of `limits`.
std::optional<std::string> FdsVsLimit(const api::SnapshotProcess& p) {
  if (!p.fd_count.integer.has_value()) return std::nullopt;
  std::string text = std::to_string(*p.fd_count.integer) + " open";
  if (!p.limits.has_value()) return text;
  for (const api::SnapshotLimit& limit : *p.limits) {
    if (limit.name != "Max open files") continue;
    if (limit.soft.integer.has_value() && *limit.soft.integer > 0) {
      text += ", soft limit " + limit.soft.text + " (" +
              FormatPercent(static_cast<double>(*p.fd_count.integer) /
                            static_cast<double>(*limit.soft.integer)) +
              ")";
    } else if (limit.soft.text == "unlimited") {
      text += ", no limit";
    }
    break;
  }
  return text;
}

ProcessModel BuildProcess(const api::SnapshotDocument& doc, const api::SnapshotProcess& p) {
  ProcessModel out;
  out.pid = p.pid;
  out.name = p.name;
  out.ppid = p.ppid;
  out.state_letter = p.state;
  if (!p.state.empty()) {
    out.state = p.state + (p.state_name.empty() ? "" : " (" + p.state_name + ")");
  }
  out.thread_count = p.thread_count;
  if (p.memory.has_value()) {
    if (p.memory->vm_rss_kib.has_value()) out.rss_bytes = *p.memory->vm_rss_kib * 1024;
    out.memory =
        ProcessModel::Memory{OptionalKiB(p.memory->vm_rss_kib), OptionalKiB(p.memory->vm_hwm_kib),
                             OptionalKiB(p.memory->vm_size_kib)};
  }
  if (p.cpu.has_value()) {
    out.cpu = ProcessModel::Cpu{p.cpu->user_millis, p.cpu->system_millis, p.cpu->last_processor};
  }
  if (p.context_switches.has_value()) {
    out.switches = p.context_switches->voluntary.text + " voluntary, " +
                   p.context_switches->nonvoluntary.text + " involuntary";
  }
  out.uids = p.uids;
  out.gids = p.gids;
  if (p.capabilities.has_value()) {
    out.capabilities = "effective " + p.capabilities->effective + ", permitted " +
                       p.capabilities->permitted + ", bounding " + p.capabilities->bounding;
  }
  if (p.io.has_value()) {
    out.io = "read " + OptionalBytes(p.io->rchar) + ", written " + OptionalBytes(p.io->wchar);
  }
  out.cmdline = p.cmdline;
  out.fd_count = p.fd_count;
  out.fds_vs_limit = FdsVsLimit(p);
  out.blocked_threads = p.blocked_threads;

  bool stacks = doc.Requested(section::kStacks);
  out.threads = SectionOf<ThreadsModel>(
      doc, p, stacks ? section::kStacks : section::kThreads,
      doc.Requested(section::kThreads) || stacks, p.threads,
      [&](const std::vector<api::SnapshotThread>& threads) { return BuildThreads(p, threads); });
  out.fds = SectionOf<FdsModel>(doc, p, section::kFds, doc.Requested(section::kFds), p.fds,
                                [&](const auto& fds) { return BuildFds(p, fds); });
  out.sockets = SectionOf<std::vector<SocketModel>>(
      doc, p, section::kSockets, doc.Requested(section::kSockets), p.sockets, BuildSockets);
  out.maps = SectionOf<MapsModel>(doc, p, section::kMaps, doc.Requested(section::kMaps), p.maps,
                                  BuildMaps);
  out.cgroup = SectionOf<CgroupModel>(doc, p, section::kCgroup, doc.Requested(section::kCgroup),
                                      p.cgroup, BuildCgroup);
  out.limits = SectionOf<std::vector<api::SnapshotLimit>>(
      doc, p, section::kLimits, doc.Requested(section::kLimits), p.limits,
      [](const auto& limits) { return limits; });
  out.env = SectionOf<std::vector<EnvVarModel>>(doc, p, section::kEnv, doc.Requested(section::kEnv),
                                                p.env, BuildEnv);
  out.degraded_entries = doc.DegradedCount(p.pid);
  if (p.runtime.has_value()) out.runtime = BuildRuntime(*p.runtime);
  return out;
}

RedactionModel BuildRedaction(const api::SnapshotRedaction& redaction) {
  RedactionModel out;
  if (redaction.pii.has_value()) out.pii = PiiModeText(*redaction.pii);
  out.env_redacted = redaction.env_redacted.text;
  out.patterns_matched = redaction.patterns_matched;
  out.dropped_fields = redaction.dropped_fields;
  return out;
}

OverheadModel BuildOverhead(const api::SnapshotOverhead& overhead) {
  OverheadModel out{OptionalMicros(overhead.target_freeze_micros),
                    OptionalMicros(overhead.target_max_thread_freeze_micros),
                    OptionalMillis(overhead.tool_cpu_millis),
                    OptionalKiB(overhead.tool_max_rss_kib), OptionalMillis(overhead.wall_millis)};
  const std::string reached = overhead.budget_reached.value_or("");
  if (reached == api::kBudgetCpu) out.budget_reached = "CPU";
  if (reached == api::kBudgetMemory) out.budget_reached = "memory";
  if (reached == api::kBudgetWall) out.budget_reached = "wall (deadline)";
  return out;
}

std::string BudgetText(const api::SnapshotBudget& budget) {
  std::string out;
  const auto add = [&out](std::string_view name, const std::string& value) {
    out += (out.empty() ? "" : ", ") + std::string(name) + " " + value;
  };
  if (budget.cpu_millis.has_value()) add("CPU", OptionalMillis(budget.cpu_millis));
  if (budget.memory_bytes.has_value()) add("memory", FormatBytes(*budget.memory_bytes));
  if (budget.deadline_millis.has_value()) add("wall", OptionalMillis(budget.deadline_millis));
  return out;
}

std::string LogLimitsText(const api::SnapshotLogLimits& limits) {
  std::vector<std::string> parts;
  if (limits.tail_lines.has_value()) {
    parts.push_back("last " + std::to_string(*limits.tail_lines) + " lines");
  }
  if (limits.limit_bytes.has_value()) {
    parts.push_back(FormatBytes(*limits.limit_bytes) + " per instance");
  }
  if (limits.since_seconds.has_value()) {
    parts.push_back("since " + std::to_string(*limits.since_seconds) + " s before the pull");
  }
  return Join(parts, ", ");
}

LogInstanceModel BuildLogInstance(const api::SnapshotLogInstance& instance) {
  LogInstanceModel out;
  out.title =
      (instance.instance.empty() ? std::string("unnamed") : instance.instance) + " instance";
  std::vector<std::string> summary;
  if (instance.restart_count.present) {
    summary.push_back("restart count " + instance.restart_count.text);
  }
  if (instance.line_count.has_value()) {
    std::string lines = Plural(
        static_cast<std::size_t>(std::max<std::int64_t>(*instance.line_count, 0)), "line", "lines");
    if (instance.bytes.has_value()) lines += " (" + FormatBytes(*instance.bytes) + " read)";
    summary.push_back(lines);
  }
  if (instance.dropped_lines.value_or(0) > 0) {
    summary.push_back(std::to_string(*instance.dropped_lines) +
                      " dropped (not text, too long, or the redactor failed)");
  }
  if (instance.truncated.value_or(false)) summary.push_back("cut at the byte limit");
  out.summary = Join(summary, "; ");
  if (instance.termination.has_value()) {
    const api::SnapshotTermination& t = *instance.termination;
    std::vector<std::string> parts;
    if (t.exit_code.has_value()) parts.push_back("exit code " + std::to_string(*t.exit_code));
    if (t.signal.has_value()) parts.push_back("signal " + std::to_string(*t.signal));
    if (!t.reason.empty()) parts.push_back(t.reason);
    std::string text = Join(parts, ", ");
    if (!t.started_at.empty() || !t.finished_at.empty()) {
      text += (text.empty() ? "" : "; ") + std::string("ran ") +
              (t.started_at.empty() ? "?" : t.started_at) + " to " +
              (t.finished_at.empty() ? "?" : t.finished_at);
    }
    out.termination = text;
  }
  out.error = instance.error;
  out.lines = instance.lines;
  out.lines_left_out = instance.lines_left_out;
  return out;
}

LogsModel BuildLogs(const api::SnapshotLogs& logs) {
  LogsModel out;
  out.container = logs.container;
  if (logs.limits.has_value()) out.limits = LogLimitsText(*logs.limits);
  for (const api::SnapshotLogInstance& instance : logs.instances) {
    out.instances.push_back(BuildLogInstance(instance));
  }
  return out;
}

}  // namespace

// Offsets are left out so that threads parked at different points of the same call path group.
std::string StackKey(const api::SnapshotThread& thread) {
  if (!thread.stack.has_value()) return "wchan:" + thread.wchan;
  std::string key = "stack:";
  for (const api::SnapshotFrame& frame : thread.stack->frames) {
    key += frame.symbol.empty() ? "pc " + frame.pc : "fn " + frame.symbol;
    key += '\x1f';
    key += frame.module;
    key += '\x1e';
  }
  return key;
}

std::string FormatPercent(double ratio) {
  std::array<char, 48> buf{};
  std::snprintf(buf.data(), buf.size(), "%.1f%%", 100.0 * ratio);
  return buf.data();
}

std::string PiiModeText(std::string_view mode) {
  if (mode == "none") return "not masked (pii: none)";
  if (mode == "standard") {
    return "e-mail addresses, card numbers, IBANs and phone numbers masked (pii: standard)";
  }
  if (mode == "strict") {
    return "e-mail addresses, card numbers, IBANs, phone numbers and IP addresses masked (pii: "
           "strict)";
  }
  return "unknown mode";
}

std::string FormatBytes(std::int64_t bytes) {
  if (bytes < 0) return std::to_string(bytes) + " B";
  constexpr std::array<const char*, 5> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  return FormatScaled(value, kUnits[unit], value < 10.0 ? 1 : 0);
}

std::string FormatMicros(std::int64_t micros) {
  if (micros < 1000) return std::to_string(micros) + " us";
  if (micros < 1000000) return FormatScaled(static_cast<double>(micros) / 1000.0, "ms", 1);
  return FormatScaled(static_cast<double>(micros) / 1e6, "s", 2);
}

std::string FormatPressureLine(const std::optional<api::SnapshotPressureLine>& line) {
  if (!line.has_value()) return "-";
  auto percent = [](const std::optional<double>& value) {
    if (!value.has_value()) return std::string("-");
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%.2f", *value);
    return std::string(buf.data());
  };
  return percent(line->avg10) + " / " + percent(line->avg60) + " / " + percent(line->avg300);
}

std::string FormatAge(std::chrono::seconds age) {
  constexpr std::int64_t kHour = 3600;
  constexpr std::int64_t kDay = 86400;
  const std::int64_t s = age.count();
  if (s < 120) return std::to_string(s) + " s";
  if (s < 2 * kHour) return std::to_string(s / 60) + " min";
  if (s < 2 * kDay) {
    const std::int64_t minutes = (s % kHour) / 60;
    return std::to_string(s / kHour) + " h" +
           (minutes == 0 ? "" : " " + std::to_string(minutes) + " min");
  }
  return std::to_string(s / kDay) + " days";
}

std::string OptionalBytes(std::optional<std::int64_t> bytes) {
  return bytes.has_value() ? FormatBytes(*bytes) : "-";
}

std::string Plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

bool ReportModel::Requested(std::string_view section) const {
  return std::find(sections.begin(), sections.end(), section) != sections.end();
}

std::vector<StackGroup> GroupThreadsByStack(const std::vector<api::SnapshotThread>& threads) {
  std::vector<const api::SnapshotThread*> sorted;
  sorted.reserve(threads.size());
  for (const api::SnapshotThread& thread : threads) sorted.push_back(&thread);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return a->tid.integer.value_or(0) < b->tid.integer.value_or(0);
  });
  std::vector<StackGroup> groups;
  std::map<std::string, std::size_t> index_by_key;
  for (const api::SnapshotThread* thread : sorted) {
    auto [it, inserted] = index_by_key.try_emplace(StackKey(*thread), groups.size());
    if (inserted) {
      StackGroup group;
      if (thread->stack.has_value()) {
        group.has_stack = true;
        group.unwind = thread->stack->unwind;
        for (const api::SnapshotFrame& frame : thread->stack->frames) {
          group.frames.push_back(FrameOf(frame));
        }
      }
      groups.push_back(std::move(group));
    }
    StackGroup& group = groups[it->second];
    group.thread_labels.push_back(ThreadLabel(*thread));
    if (!thread->state.empty()) AddDistinct(group.states, thread->state);
    if (!thread->wchan.empty()) AddDistinct(group.wchans, thread->wchan);
  }
  // Groups were created in tid order, so a stable sort by size keeps lowest-tid-first for ties.
  std::stable_sort(groups.begin(), groups.end(), [](const StackGroup& a, const StackGroup& b) {
    return a.thread_labels.size() > b.thread_labels.size();
  });
  return groups;
}

ReportModel BuildReportModel(const api::SnapshotDocument& document, const ReportContext& context) {
  ReportModel model;
  model.header = BuildHeader(document, context);
  model.findings = ComputeFindings(document);
  model.sections = document.sections;
  model.stacks_requested = document.Requested(section::kStacks);
  model.threads_requested = model.stacks_requested || document.Requested(section::kThreads);
  if (!document.process_tree.empty()) {
    model.process_tree = TreeBuilder(document.process_tree).Build();
  }
  for (const api::SnapshotProcess& process : document.processes) {
    model.processes.push_back(BuildProcess(document, process));
    if (!process.threads.has_value()) continue;
    for (const api::SnapshotThread& thread : *process.threads) {
      if (!thread.stack.has_value()) continue;
      model.freezes.push_back({process.pid, thread.tid, thread.name, thread.stack->freeze_micros,
                               thread.stack->unwind});
    }
  }
  if (document.redaction.has_value()) model.redaction = BuildRedaction(*document.redaction);
  model.degraded = document.degraded;
  if (document.overhead.has_value()) {
    model.overhead = BuildOverhead(*document.overhead);
    if (document.budget.has_value()) model.overhead->budget = BudgetText(*document.budget);
  }
  if (document.evidence.has_value()) {
    model.evidence = EvidenceModel{document.Requested(section::kSockets),
                                   document.Requested(section::kCgroup), document.evidence->network,
                                   document.evidence->pressure, document.evidence->memory};
  }
  model.logs_requested = document.Requested(section::kLogs);
  if (document.logs.has_value()) model.logs = BuildLogs(*document.logs);
  return model;
}

}  // namespace ephemera::report
