// The plain-text report. Layout: a header, the process tree, one block per process (pstack-like
// stack groups, then tables), and the document-wide redaction, degraded and overhead sections.
#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/report/printable.h"
#include "cli/report/report.h"
#include "cli/report/report_model.h"

namespace ephemera::report {
namespace {

// At most this many fds are listed per process; the summary by kind covers all of them.
constexpr std::size_t kMaxListedFds = 32;
// At most this many thread names are listed in a stack group's heading.
constexpr std::size_t kMaxNamedThreads = 8;
// At most this many mapped files are listed per process.
constexpr std::size_t kMaxListedFiles = 10;

// The whole report through Printable() line by line: a safety net, should a value from the
// document reach the output without passing through Printable() where it was added.
std::string PrintableLines(std::string_view report) {
  std::string out;
  out.reserve(report.size());
  std::size_t start = 0;
  while (start < report.size()) {
    std::size_t end = report.find('\n', start);
    if (end == std::string_view::npos) end = report.size();
    out += Printable(report.substr(start, end - start));
    if (end < report.size()) out += '\n';
    start = end + 1;
  }
  return out;
}

// Width on screen of UTF-8 text, counting code points (the report's text is mostly ASCII).
std::size_t DisplayWidth(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xc0U) != 0x80U;
  }));
}

// Columns aligned to their widest cell; numeric columns right-aligned. The last column is not
// padded, so long paths do not push trailing spaces.
class TextTable {
 public:
  TextTable(std::vector<std::string> headers, std::vector<bool> right_aligned)
      : headers_(std::move(headers)), right_aligned_(std::move(right_aligned)) {
    right_aligned_.resize(headers_.size(), false);
  }

  // Cells are made printable here.
  void AddRow(const std::vector<std::string>& cells) {
    std::vector<std::string> row;
    row.reserve(headers_.size());
    for (std::size_t i = 0; i < headers_.size(); ++i) {
      row.push_back(i < cells.size() ? Printable(cells[i]) : std::string());
    }
    rows_.push_back(std::move(row));
  }

  bool IsEmpty() const { return rows_.empty(); }

  void AppendTo(std::string& out, std::string_view indent) const {
    std::vector<std::size_t> widths(headers_.size(), 0);
    for (std::size_t i = 0; i < headers_.size(); ++i) widths[i] = DisplayWidth(headers_[i]);
    for (const auto& row : rows_) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        widths[i] = std::max(widths[i], DisplayWidth(row[i]));
      }
    }
    AppendRow(out, indent, headers_, widths);
    for (const auto& row : rows_) AppendRow(out, indent, row, widths);
  }

 private:
  void AppendRow(std::string& out, std::string_view indent, const std::vector<std::string>& row,
                 const std::vector<std::size_t>& widths) const {
    std::string line(indent);
    for (std::size_t i = 0; i < row.size(); ++i) {
      bool last = i + 1 == row.size();
      std::size_t pad = widths[i] - DisplayWidth(row[i]);
      if (right_aligned_[i]) line.append(pad, ' ');
      line += row[i];
      if (!right_aligned_[i] && !last) line.append(pad, ' ');
      if (!last) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }

  std::vector<std::string> headers_;
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;
};

// A "label  value" line in a block of such lines.
void AppendField(std::string& out, std::string_view label, std::string_view value) {
  constexpr std::size_t kLabelWidth = 15;
  std::string line = "  " + std::string(label);
  line.append(kLabelWidth > label.size() ? kLabelWidth - label.size() : 1, ' ');
  line += Printable(value);
  out += line + "\n";
}

void AppendHeading(std::string& out, std::string_view title) {
  out += "\n";
  out += title;
  out += "\n";
}

class TextReport {
 public:
  TextReport(const ReportModel& model, const ReportOptions& options)
      : model_(model), options_(options) {}

  std::string Render() {
    AppendHeader();
    AppendFindings();
    AppendProcessTree();
    for (const ProcessModel& process : model_.processes) AppendProcess(process);
    if (model_.processes.empty()) {
      AppendHeading(out_, "PROCESSES");
      out_ += "  none captured (see DEGRADED)\n";
    }
    AppendEvidence();
    AppendLogs();
    AppendRedaction();
    AppendDegraded();
    AppendOverhead();
    return PrintableLines(out_);
  }

 private:
  // The heading of a per-process section; for a requested section that the process lacks, one
  // line pointing at the reason. Returns whether the section has content to show.
  template <typename T>
  bool AppendSectionStart(const SectionModel<T>& section, std::string_view title) {
    if (section.content.has_value()) return true;
    out_ += "  " + std::string(title) + "\n";
    const std::string& why = section.degraded_reason;
    out_ += "  not captured" + (why.empty() ? std::string() : ": " + Printable(why)) + "\n";
    return false;
  }

  void AppendHeader() {
    const HeaderModel& header = model_.header;
    out_ += "EPHEMERA SNAPSHOT REPORT\n";
    if (!header.session.empty()) AppendField(out_, "Session", header.session);
    if (!header.requester.empty()) AppendField(out_, "Requester", header.requester);
    if (!header.reason.empty()) AppendField(out_, "Reason", header.reason);
    if (!header.target.empty()) AppendField(out_, "Target", header.target);
    if (!header.captured_at.empty()) AppendField(out_, "Captured at", header.captured_at);
    AppendField(out_, "Schema", header.schema);
    if (header.tool.has_value()) AppendField(out_, "Tool", *header.tool);
    if (header.targets.has_value()) AppendField(out_, "Targets", *header.targets);
    AppendField(out_, "Sections", header.sections);
    if (!header.budget.empty()) AppendField(out_, "Budget", header.budget);
  }

  void AppendFindings() {
    AppendHeading(out_, "FINDINGS");
    const FindingsModel& findings = model_.findings;
    if (findings.findings.empty()) {
      out_ += "  none: no figure in the snapshot crossed a threshold (docs/cli.md, Findings)\n";
      return;
    }
    for (const Finding& finding : findings.findings) {
      out_ += std::string(finding.critical ? "  ! CRITICAL: " : "  * ") + Printable(finding.title) +
              "\n";
      out_ += "    evidence: " + Printable(finding.evidence) + "\n";
    }
    if (findings.left_out > 0) {
      out_ += "  … " + Plural(findings.left_out, "more finding", "more findings") + "\n";
    }
  }

  void AppendEvidence() {
    if (!model_.evidence.has_value()) return;
    const EvidenceModel& evidence = *model_.evidence;
    if (!evidence.network_requested && !evidence.cgroup_requested) return;
    AppendHeading(out_, "EVIDENCE (network namespace and cgroup of the main target)");
    if (evidence.network_requested) AppendNetworkEvidence(evidence.network);
    if (evidence.cgroup_requested) {
      AppendPressureEvidence(evidence.pressure);
      AppendMemoryEvidence(evidence.memory);
    }
  }

  void AppendErrors(const std::vector<std::string>& errors) {
    for (const std::string& error : errors) out_ += "    unreadable: " + Printable(error) + "\n";
  }

  void AppendNetworkEvidence(const std::optional<api::SnapshotNetworkEvidence>& network) {
    out_ += "\n  Network counters (since the network namespace was created)\n";
    if (!network.has_value()) {
      out_ += "    not captured (see DEGRADED)\n";
      return;
    }
    if (network->counters.has_value()) {
      TextTable table({"COUNTER", "KERNEL", "VALUE"}, {false, false, true});
      for (const api::SnapshotNetworkCounter& counter : *network->counters) {
        table.AddRow({std::string(counter.field), std::string(counter.kernel),
                      std::to_string(counter.value)});
      }
      if (!table.IsEmpty()) table.AppendTo(out_, "    ");
    } else {
      out_ += "    no counters could be read\n";
    }
    std::string limit = network->somaxconn.has_value()
                            ? "at most " + std::to_string(*network->somaxconn) + " (somaxconn)"
                            : "unknown";
    out_ += "\n  Listeners: " + std::to_string(network->listeners.size()) +
            (network->listeners_truncated ? " (list cut short)" : "") + ", accept-queue limit " +
            limit + "\n";
    if (!network->listeners.empty()) {
      TextTable table({"PROTO", "LOCAL", "ACCEPT QUEUE"}, {false, false, true});
      for (const api::SnapshotListener& listener : network->listeners) {
        table.AddRow(
            {listener.protocol, listener.local,
             listener.accept_queue.has_value() ? std::to_string(*listener.accept_queue) : "-"});
      }
      table.AppendTo(out_, "    ");
    }
    AppendErrors(network->errors);
  }

  void AppendPressureEvidence(const std::optional<api::SnapshotPressureEvidence>& pressure) {
    out_ += "\n  Pressure stall (% of time stalled, avg10 / avg60 / avg300)";
    if (!pressure.has_value()) {
      out_ += "\n    not captured (see DEGRADED)\n";
      return;
    }
    out_ += pressure->source == "cgroup"   ? ": the target's cgroup\n"
            : pressure->source == "system" ? ": the whole machine (/proc/pressure)\n"
                                           : ": no source could be read\n";
    TextTable table({"RESOURCE", "SOME", "FULL"}, {false, true, true});
    const std::pair<const char*, const std::optional<api::SnapshotPressure>*> rows[] = {
        {"cpu", &pressure->cpu}, {"memory", &pressure->memory}, {"io", &pressure->io}};
    for (const auto& [name, value] : rows) {
      if (!value->has_value()) continue;
      table.AddRow({name, FormatPressureLine((*value)->some), FormatPressureLine((*value)->full)});
    }
    if (!table.IsEmpty()) table.AppendTo(out_, "    ");
    AppendErrors(pressure->errors);
  }

  void AppendMemoryEvidence(const std::optional<api::SnapshotMemoryEvidence>& memory) {
    out_ += "\n  Memory cgroup events";
    if (!memory.has_value()) {
      out_ += "\n    not captured (see DEGRADED)\n";
      return;
    }
    out_ += (memory->cgroup_version.present ? " (v" + Printable(memory->cgroup_version.text) + " " +
                                                  Printable(memory->cgroup_path) + ")"
                                            : std::string()) +
            "\n";
    auto number = [](const std::optional<std::int64_t>& value) {
      return value.has_value() ? std::to_string(*value) : std::string("-");
    };
    if (memory->events.has_value()) {
      const api::SnapshotMemoryEvents& e = *memory->events;
      TextTable table({"LOW", "HIGH", "MAX", "OOM", "OOM_KILL", "OOM_GROUP_KILL"},
                      {true, true, true, true, true, true});
      table.AddRow({number(e.low), number(e.high), number(e.max), number(e.oom), number(e.oom_kill),
                    number(e.oom_group_kill)});
      table.AppendTo(out_, "    ");
    }
    if (memory->oom_control.has_value()) {
      auto flag = [](const std::optional<bool>& value) {
        return value.has_value() ? (*value ? std::string("1") : std::string("0"))
                                 : std::string("-");
      };
      TextTable table({"OOM_KILL_DISABLE", "UNDER_OOM", "OOM_KILL", "FAILCNT"},
                      {true, true, true, true});
      table.AddRow({flag(memory->oom_control->oom_kill_disable),
                    flag(memory->oom_control->under_oom), number(memory->oom_control->oom_kill),
                    number(memory->failcnt)});
      table.AppendTo(out_, "    ");
    }
    AppendErrors(memory->errors);
  }

  void AppendLogs() {
    if (!model_.logs_requested && !model_.logs.has_value()) return;
    AppendHeading(out_, "LOGS");
    if (!model_.logs.has_value()) {
      out_ += "  not in the snapshot (see DEGRADED)\n";
      return;
    }
    const LogsModel& logs = *model_.logs;
    AppendField(out_, "Container", logs.container);
    if (!logs.limits.empty()) AppendField(out_, "Limits", logs.limits);
    for (const LogInstanceModel& instance : logs.instances) {
      out_ += "\n  " + Printable(instance.title) +
              (instance.summary.empty() ? "" : ": " + Printable(instance.summary)) + "\n";
      if (instance.termination.has_value()) {
        out_ += "  terminated: " + Printable(*instance.termination) + "\n";
      }
      if (instance.error.has_value()) out_ += "  not read: " + Printable(*instance.error) + "\n";
      for (const std::string& line : instance.lines) out_ += "    " + Printable(line) + "\n";
      if (instance.lines_left_out > 0) {
        out_ += "    … " + Plural(instance.lines_left_out, "more line", "more lines") +
                " in the document\n";
      }
    }
  }

  void AppendProcessTree() {
    if (!model_.process_tree.has_value()) return;
    AppendHeading(out_, "PROCESS TREE");
    for (const TreeNode& root : *model_.process_tree) AppendTreeNode(root, "  ", "");
  }

  void AppendTreeNode(const TreeNode& node, const std::string& prefix,
                      const std::string& child_prefix) {
    out_ += prefix + child_prefix + std::to_string(node.pid) + "  " + Printable(node.name) + "\n";
    // Continue the vertical rule of this node's siblings below it.
    std::string next_prefix = prefix;
    if (child_prefix == "├─ ") next_prefix += "│  ";
    if (child_prefix == "└─ ") next_prefix += "   ";
    for (std::size_t i = 0; i < node.children.size(); ++i) {
      AppendTreeNode(node.children[i], next_prefix, i + 1 == node.children.size() ? "└─ " : "├─ ");
    }
  }

  void AppendProcess(const ProcessModel& process) {
    std::string title = "PROCESS " + std::to_string(process.pid);
    if (!process.name.empty()) title += "  " + Printable(process.name);
    if (process.ppid.integer.has_value()) {
      title += "  (parent " + std::to_string(*process.ppid.integer) + ")";
    }
    AppendHeading(out_, title);
    AppendStatusSummary(process);
    if (process.runtime.has_value()) AppendRuntime(*process.runtime);
    AppendThreads(process.threads, process.runtime);
    AppendBlockedThreads(process);
    AppendFds(process.fds);
    AppendSockets(process.sockets);
    AppendMaps(process.maps);
    AppendCgroup(process.cgroup);
    AppendLimits(process.limits);
    AppendEnv(process.env);
    if (process.degraded_entries > 0) {
      out_ += "\n  " + Plural(process.degraded_entries, "degraded entry", "degraded entries") +
              " for this process: see DEGRADED below\n";
    }
  }

  void AppendStatusSummary(const ProcessModel& process) {
    if (!process.state.empty()) AppendField(out_, "State", process.state);
    if (process.thread_count.integer.has_value()) {
      AppendField(out_, "Threads", process.thread_count.text);
    }
    if (process.memory.has_value()) {
      AppendField(out_, "RSS",
                  process.memory->rss + " (peak " + process.memory->peak + ", virtual " +
                      process.memory->virtual_size + ")");
    }
    if (process.cpu.has_value()) {
      std::string text = "user " + process.cpu->user_millis.text + " ms, system " +
                         process.cpu->system_millis.text + " ms";
      if (process.cpu->last_processor.has_value()) {
        text += ", last ran on CPU " + std::to_string(*process.cpu->last_processor);
      }
      AppendField(out_, "CPU", text);
    }
    if (process.switches.has_value()) AppendField(out_, "Switches", *process.switches);
    if (process.uids.has_value()) {
      std::string text =
          "uid " + process.uids->real.text + " (effective " + process.uids->effective.text + ")";
      if (process.gids.has_value()) {
        text += ", gid " + process.gids->real.text + " (effective " + process.gids->effective.text +
                ")";
      }
      AppendField(out_, "User", text);
    }
    if (process.capabilities.has_value()) {
      AppendField(out_, "Capabilities", *process.capabilities);
    }
    if (process.fds_vs_limit.has_value()) AppendField(out_, "Open fds", *process.fds_vs_limit);
    if (process.cmdline.has_value()) AppendField(out_, "Command", *process.cmdline);
  }

  void AppendThreads(const SectionModel<ThreadsModel>& threads,
                     const std::optional<RuntimeModel>& runtime) {
    if (!threads.requested) return;
    out_ += "\n";
    if (!AppendSectionStart(threads, "Threads")) return;
    const ThreadsModel& content = *threads.content;
    out_ += "  Threads: " + Plural(content.thread_count, "thread", "threads") + " in " +
            Plural(content.groups.size() + content.runtime_groups.size(), "stack group",
                   "stack groups") +
            "\n";
    for (const StackGroup& group : content.groups) AppendStackGroup(group);
    if (content.runtime_groups.empty()) return;
    const std::string language = runtime.has_value() ? runtime->language : "language";
    const std::string which = Plural(content.runtime_thread_count, "thread", "threads") +
                              " with a " + language + " stack";
    if (!options_.native_frames) {
      out_ += "\n  Native stacks of " + Printable(which) + " hidden (--native-frames shows them)\n";
      return;
    }
    out_ += "\n  Native stacks of " + Printable(which) + "\n";
    for (const StackGroup& group : content.runtime_groups) AppendStackGroup(group);
  }

  void AppendBlockedThreads(const ProcessModel& process) {
    if (!process.blocked_threads.has_value()) return;
    const auto& blocked = *process.blocked_threads;
    out_ += "\n  Blocked threads (state D): " + std::to_string(blocked.size()) + "\n";
    if (blocked.empty()) return;
    TextTable table({"TID", "NAME", "WCHAN"}, {true, false, false});
    for (const api::SnapshotBlockedThread& thread : blocked) {
      table.AddRow({thread.tid.text, thread.name, thread.wchan});
    }
    table.AppendTo(out_, "    ");
  }

  void AppendStackGroup(const StackGroup& group) {
    const std::vector<std::string>& labels = group.thread_labels;
    const auto named = static_cast<std::ptrdiff_t>(std::min(labels.size(), kMaxNamedThreads));
    std::vector<std::string> names(labels.begin(), labels.begin() + named);
    if (labels.size() > kMaxNamedThreads) {
      names.push_back("… " + std::to_string(labels.size() - kMaxNamedThreads) + " more");
    }
    std::vector<std::string> details;
    if (!group.states.empty()) details.push_back("state " + Join(group.states, "/"));
    if (!group.wchans.empty()) details.push_back("wchan " + Join(group.wchans, "/"));
    std::string line = Plural(labels.size(), "thread", "threads") + ": " + Join(names, ", ");
    if (!details.empty()) line += " (" + Join(details, ", ") + ")";
    out_ += "\n  " + Printable(line) + "\n";
    if (!group.has_stack) {
      if (model_.stacks_requested) out_ += "    (no stack captured)\n";
      return;
    }
    if (group.frames.empty()) {
      out_ += "    (stack captured, but no frame could be unwound)\n";
      return;
    }
    // Like gdb's backtrace: "#3  0x40435a  SleepInCheckoutLoop()+48 from /app/server". Only the
    // index and pc are aligned: demangled names are too long for a column.
    TextTable frames({"", "", ""}, {false, true, false});
    std::size_t index = 0;
    for (const FrameModel& frame : group.frames) {
      std::string function = frame.function;
      if (!frame.module.empty()) function += " from " + frame.module;
      frames.AddRow({"#" + std::to_string(index++), frame.pc, function});
    }
    // The table's empty header row is dropped: frames read like pstack output.
    std::string rendered;
    frames.AppendTo(rendered, "    ");
    out_ += rendered.substr(rendered.find('\n') + 1);
  }

  // Language-level stacks the Go dump's way: deadlocks first, then each group's heading, members
  // and frames (jstack's lock lines under a frame).
  void AppendRuntime(const RuntimeModel& runtime) {
    out_ += "\n  " + Printable(runtime.title) + " in " +
            Plural(runtime.groups.size(), "group", "groups") + "\n";
    for (const DeadlockModel& deadlock : runtime.deadlocks) {
      out_ += "\n  DEADLOCK  " + Printable(deadlock.title) + "\n";
      for (const std::string& line : deadlock.description) out_ += "    " + Printable(line) + "\n";
    }
    for (const RuntimeGroupModel& group : runtime.groups) {
      out_ += "\n  " + Printable(group.heading) + "\n";
      const auto named =
          static_cast<std::ptrdiff_t>(std::min(group.members.size(), kMaxNamedThreads));
      std::vector<std::string> members(group.members.begin(), group.members.begin() + named);
      const std::int64_t more =
          group.members_left_out + static_cast<std::int64_t>(group.members.size() - members.size());
      if (more > 0) members.push_back("… " + std::to_string(more) + " more");
      if (!members.empty()) out_ += "    " + Printable(Join(members, ", ")) + "\n";
      for (const RuntimeFrameModel& frame : group.frames) {
        out_ += "      " + Printable(frame.function) +
                (frame.location.empty() ? "" : "  " + Printable(frame.location)) + "\n";
        for (const std::string& lock : frame.locks) out_ += "        " + Printable(lock) + "\n";
      }
      if (group.frames.empty()) out_ += "      (no frame)\n";
      if (group.frames_truncated) out_ += "      … deeper frames not captured\n";
    }
    if (runtime.groups_omitted > 0) {
      out_ +=
          "\n  … " +
          Plural(static_cast<std::size_t>(runtime.groups_omitted), "more group", "more groups") +
          " not in the document (smaller ones)\n";
    }
  }

  void AppendFds(const SectionModel<FdsModel>& section) {
    if (!section.requested) return;
    out_ += "\n";
    if (!AppendSectionStart(section, "Open fds")) return;
    const FdsModel& fds = *section.content;
    std::vector<std::pair<std::string, std::size_t>> kinds = fds.by_type;
    std::stable_sort(kinds.begin(), kinds.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<std::string> summary;
    summary.reserve(kinds.size());
    for (const auto& [type, count] : kinds) summary.push_back(type + " " + std::to_string(count));
    out_ += "  " +
            Printable("Open fds: " + fds.count +
                      (summary.empty() ? "" : " (" + Join(summary, ", ") + ")")) +
            "\n";
    TextTable table({"FD", "TYPE", "TARGET"}, {true, false, false});
    for (std::size_t i = 0; i < fds.fds.size() && i < kMaxListedFds; ++i) {
      table.AddRow({fds.fds[i].fd.text, fds.fds[i].type, fds.fds[i].target});
    }
    if (!table.IsEmpty()) table.AppendTo(out_, "    ");
    if (fds.fds.size() > kMaxListedFds) {
      out_ += "    … " + std::to_string(fds.fds.size() - kMaxListedFds) +
              " more in the document (-o json or -o html)\n";
    }
  }

  void AppendSockets(const SectionModel<std::vector<SocketModel>>& section) {
    if (!section.requested) return;
    out_ += "\n";
    if (!AppendSectionStart(section, "Sockets")) return;
    out_ += "  Sockets: " + std::to_string(section.content->size()) + "\n";
    if (section.content->empty()) return;
    TextTable table({"FD", "PROTO", "LOCAL", "REMOTE", "STATE", "SEND-Q", "RECV-Q", "ACCEPT-Q"},
                    {true, false, false, false, false, true, true, true});
    for (const SocketModel& socket : *section.content) {
      table.AddRow({socket.fd.text, socket.protocol, socket.local, socket.remote, socket.state,
                    socket.send_queue, socket.receive_queue, socket.accept_queue});
    }
    table.AppendTo(out_, "    ");
  }

  void AppendMaps(const SectionModel<MapsModel>& section) {
    if (!section.requested) return;
    out_ += "\n";
    if (!AppendSectionStart(section, "Memory map")) return;
    const MapsModel& maps = *section.content;
    out_ += "  Memory map: " + Printable(maps.count) + " mappings, " + maps.bytes + "\n";
    if (maps.by_kind.has_value()) {
      TextTable table({"KIND", "COUNT", "SIZE"}, {false, true, true});
      for (const auto& kind : *maps.by_kind) {
        table.AddRow({kind.kind, kind.count.text, OptionalBytes(kind.bytes)});
      }
      table.AppendTo(out_, "    ");
    }
    if (!maps.files.empty()) {
      out_ += "\n  Mapped files (largest first)\n";
      TextTable table({"SIZE", "MAPPINGS", "PATH"}, {true, true, false});
      for (std::size_t i = 0; i < maps.files.size() && i < kMaxListedFiles; ++i) {
        const auto& file = maps.files[i];
        table.AddRow({OptionalBytes(file.bytes), file.count.text, file.path});
      }
      table.AppendTo(out_, "    ");
      std::size_t more =
          maps.files.size() > kMaxListedFiles ? maps.files.size() - kMaxListedFiles : 0;
      if (maps.other_files.has_value()) {
        more += static_cast<std::size_t>(maps.other_files->files.integer.value_or(0));
      }
      if (more > 0) out_ += "    … " + Plural(more, "more file", "more files") + "\n";
    }
    if (!maps.largest.empty()) {
      out_ += "\n  Largest mappings\n";
      TextTable table({"START", "END", "SIZE", "PERMS", "KIND", "PATH"},
                      {false, false, true, false, false, false});
      for (const auto& mapping : maps.largest) {
        table.AddRow({mapping.start, mapping.end, OptionalBytes(mapping.bytes), mapping.perms,
                      mapping.kind, mapping.path});
      }
      table.AppendTo(out_, "    ");
    }
  }

  void AppendCgroup(const SectionModel<CgroupModel>& section) {
    if (!section.requested) return;
    out_ += "\n";
    if (!AppendSectionStart(section, "CPU and memory (cgroup)")) return;
    const CgroupModel& cgroup = *section.content;
    out_ += "  CPU and memory (cgroup)\n";
    AppendField(out_, "  Cgroup", cgroup.where + ", cpu " + cgroup.cpu_path);
    if (cgroup.cpu_used.has_value()) AppendField(out_, "  CPU used", *cgroup.cpu_used);
    if (cgroup.cpu_quota.has_value()) AppendField(out_, "  CPU quota", *cgroup.cpu_quota);
    if (cgroup.throttled.has_value()) {
      AppendField(out_, "  Throttled",
                  cgroup.throttled->periods + cgroup.throttled->percent + cgroup.throttled->total);
    }
    AppendField(out_, "  Memory", cgroup.memory);
  }

  void AppendLimits(const SectionModel<std::vector<api::SnapshotLimit>>& section) {
    if (!section.requested) return;
    out_ += "\n";
    if (!AppendSectionStart(section, "Limits")) return;
    out_ += "  Limits\n";
    TextTable table({"LIMIT", "SOFT", "HARD", "UNITS"}, {false, true, true, false});
    for (const auto& limit : *section.content) {
      table.AddRow({limit.name, limit.soft.text, limit.hard.text, limit.units});
    }
    table.AppendTo(out_, "    ");
  }

  void AppendEnv(const SectionModel<std::vector<EnvVarModel>>& section) {
    if (!section.requested) return;
    out_ += "\n";
    if (!AppendSectionStart(section, "Environment")) return;
    out_ += "  Environment: " + Plural(section.content->size(), "variable", "variables") +
            " (values as the tool recorded them)\n";
    for (const EnvVarModel& variable : *section.content) {
      out_ += "    " + Printable(variable.name) + "=" + Printable(variable.value) + "\n";
    }
  }

  void AppendRedaction() {
    AppendHeading(out_, "REDACTION");
    if (!model_.redaction.has_value()) {
      out_ += "  no redaction report in the document\n";
      return;
    }
    const RedactionModel& redaction = *model_.redaction;
    if (redaction.pii.has_value()) AppendField(out_, "Personal data", *redaction.pii);
    AppendField(out_, "Environment", redaction.env_redacted + " values replaced by [REDACTED]");
    if (redaction.patterns_matched.empty()) {
      AppendField(out_, "Free text", "no secret patterns matched");
    } else {
      out_ += "  Free text matches by rule (replaced by [REDACTED:<rule>])\n";
      TextTable table({"RULE", "MATCHES"}, {false, true});
      for (const auto& rule : redaction.patterns_matched) {
        table.AddRow({rule.rule, rule.count.text});
      }
      table.AppendTo(out_, "    ");
    }
    if (redaction.dropped_fields.empty()) {
      AppendField(out_, "Dropped", "no field (the redactor never failed)");
    } else {
      out_ += "  Fields left out because the redactor failed on them\n";
      for (const std::string& field : redaction.dropped_fields) {
        out_ += "    " + Printable(field) + "\n";
      }
    }
  }

  void AppendDegraded() {
    AppendHeading(out_, "DEGRADED");
    if (model_.degraded.empty()) {
      out_ += "  nothing: every requested section was captured\n";
      return;
    }
    TextTable table({"SECTION", "PID", "TID", "REASON"}, {false, true, true, false});
    for (const auto& entry : model_.degraded) {
      table.AddRow({entry.section, entry.pid.text, entry.tid.text, entry.reason});
    }
    table.AppendTo(out_, "  ");
  }

  void AppendOverhead() {
    AppendHeading(out_, "OVERHEAD");
    if (!model_.overhead.has_value()) {
      out_ += "  no overhead figures in the document\n";
      return;
    }
    const OverheadModel& overhead = *model_.overhead;
    AppendField(out_, "Target frozen",
                overhead.target_freeze + " in total, longest single thread " +
                    overhead.target_max_thread_freeze);
    AppendField(out_, "Tool CPU", overhead.tool_cpu);
    AppendField(out_, "Tool RSS", overhead.tool_rss + " peak");
    AppendField(out_, "Wall time", overhead.wall);
    if (!overhead.budget.empty()) AppendField(out_, "Budget", overhead.budget);
    if (!overhead.budget_reached.empty()) {
      AppendField(out_, "Budget reached",
                  overhead.budget_reached + ": the capture stopped early (see DEGRADED)");
    }
  }

  const ReportModel& model_;
  const ReportOptions& options_;
  std::string out_;
};

}  // namespace

StatusOr<std::string> RenderText(const nlohmann::json& snapshot, const ReportContext& context,
                                 const ReportOptions& options) {
  return RenderValidated(snapshot, context, [&](const ReportModel& model) {
    return TextReport(model, options).Render();
  });
}

}  // namespace ephemera::report
