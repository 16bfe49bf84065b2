// The plain-text report. Layout: a header, the process tree, one block per process (pstack-like
// stack groups, then tables), and the document-wide redaction, degraded and overhead sections.
#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/report/report.h"
#include "cli/report/snapshot_document.h"

namespace ephemera::report {
namespace {

using nlohmann::json;

// At most this many fds are listed per process; the summary by kind covers all of them.
constexpr std::size_t kMaxListedFds = 32;
// At most this many thread names are listed in a stack group's heading.
constexpr std::size_t kMaxNamedThreads = 8;
// At most this many mapped files are listed per process.
constexpr std::size_t kMaxListedFiles = 10;

void AppendHexEscape(std::string& out, unsigned value, const char* prefix, int digits) {
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "%s%0*X", prefix, digits, value);
  out += buf.data();
}

// Text from the target with every control character (C0, DEL, C1) and bidirectional override made
// visible as an escape, so that a cmdline or a thread name cannot move the cursor, recolour the
// terminal or reorder what the reader sees.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) {
      AppendHexEscape(out, byte, "\\x", 2);
      continue;
    }
    if (byte == 0xc2 && i + 1 < text.size()) {
      auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) {  // U+0080..U+009F, the C1 controls (CSI is U+009B)
        AppendHexEscape(out, next, "\\u", 4);
        ++i;
        continue;
      }
    }
    if (byte == 0xe2 && i + 2 < text.size()) {
      auto b1 = static_cast<unsigned char>(text[i + 1]);
      auto b2 = static_cast<unsigned char>(text[i + 2]);
      bool embedding = b1 == 0x80 && b2 >= 0xaa && b2 <= 0xae;  // U+202A..U+202E
      bool isolate = b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9;    // U+2066..U+2069
      if (embedding || isolate) {
        unsigned code_point = ((byte & 0x0fU) << 12) | ((b1 & 0x3fU) << 6) | (b2 & 0x3fU);
        AppendHexEscape(out, code_point, "\\u", 4);
        i += 2;
        continue;
      }
    }
    out += static_cast<char>(byte);
  }
  return out;
}

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

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string Plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string OptionalBytes(std::optional<std::int64_t> bytes) {
  return bytes.has_value() ? FormatBytes(*bytes) : "-";
}

std::string OptionalKiB(std::optional<std::int64_t> kib) {
  return kib.has_value() ? FormatBytes(*kib * 1024) : "-";
}

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
  TextReport(const json& snapshot, const ReportContext& context)
      : snapshot_(snapshot), context_(context) {
    for (const json& section : ArrayField(snapshot_, "sections")) {
      if (section.is_string()) requested_.insert(section.get<std::string>());
    }
  }

  std::string Render() {
    AppendHeader();
    AppendProcessTree();
    for (const json& process : ArrayField(snapshot_, "processes")) AppendProcess(process);
    if (ArrayField(snapshot_, "processes").empty()) {
      AppendHeading(out_, "PROCESSES");
      out_ += "  none captured (see DEGRADED)\n";
    }
    AppendRedaction();
    AppendDegraded();
    AppendOverhead();
    return PrintableLines(out_);
  }

 private:
  bool Requested(const std::string& section) const { return requested_.count(section) > 0; }

  // For a requested section that the process lacks: one line pointing at the reason.
  void AppendNotCaptured(std::int64_t pid, std::string_view section) {
    std::string why = DegradedReason(snapshot_, pid, section);
    out_ += "  not captured" + (why.empty() ? std::string() : ": " + Printable(why)) + "\n";
  }

  void AppendHeader() {
    out_ += "EPHEMERA SNAPSHOT REPORT\n";
    std::string session = context_.session;
    if (!context_.namespace_name.empty()) {
      session = context_.namespace_name + (session.empty() ? "" : "/" + session);
    }
    if (!session.empty()) AppendField(out_, "Session", session);
    if (!context_.requester.empty()) AppendField(out_, "Requester", context_.requester);
    if (!context_.reason.empty()) AppendField(out_, "Reason", context_.reason);
    if (!context_.pod.empty()) {
      AppendField(out_, "Target",
                  "pod " + context_.pod +
                      (context_.container.empty() ? "" : ", container " + context_.container));
    }
    std::string capture_time = StringField(snapshot_, "captureTime");
    if (!context_.captured_at.empty()) {
      AppendField(out_, "Captured at", context_.captured_at);
    } else if (!capture_time.empty()) {
      AppendField(out_, "Captured at", capture_time);
    }
    AppendField(out_, "Schema", StringField(snapshot_, "apiVersion"));
    if (const json* tool = ObjectField(snapshot_, "tool"); tool != nullptr) {
      std::string text = StringField(*tool, "name") + " " + StringField(*tool, "version");
      if (std::string profile = StringField(*tool, "profile"); !profile.empty()) {
        text += ", profile " + profile;
      }
      AppendField(out_, "Tool", text);
    }
    if (const json* targets = ObjectField(snapshot_, "targets"); targets != nullptr) {
      std::size_t count = ArrayField(*targets, "pids").size();
      std::string text = Plural(count, "process", "processes");
      if (auto main_pid = IntField(*targets, "mainPid"); main_pid.has_value()) {
        text += ", main pid " + std::to_string(*main_pid);
      }
      AppendField(out_, "Targets", text);
    }
    AppendField(out_, "Sections",
                requested_.empty() ? "none" : Join(SectionsInDocumentOrder(), ", "));
    if (const json* budget = ObjectField(snapshot_, "budget"); budget != nullptr) {
      std::vector<std::string> parts;
      if (auto deadline = IntField(*budget, "deadlineMillis"); deadline.has_value()) {
        parts.push_back("deadline " + FormatMicros(*deadline * 1000));
      }
      if (auto cap = IntField(*budget, "maxOutputBytes"); cap.has_value()) {
        parts.push_back("output cap " + FormatBytes(*cap));
      }
      if (!parts.empty()) AppendField(out_, "Budget", Join(parts, ", "));
    }
  }

  std::vector<std::string> SectionsInDocumentOrder() const {
    std::vector<std::string> sections;
    for (const json& section : ArrayField(snapshot_, "sections")) {
      if (section.is_string()) sections.push_back(section.get<std::string>());
    }
    return sections;
  }

  void AppendProcessTree() {
    const json& tree = ArrayField(snapshot_, "processTree");
    if (tree.empty()) return;
    AppendHeading(out_, "PROCESS TREE");
    std::map<std::int64_t, const json*> by_pid;
    for (const json& entry : tree) {
      if (auto pid = IntField(entry, "pid"); pid.has_value()) by_pid.emplace(*pid, &entry);
    }
    std::set<std::int64_t> shown;
    for (const auto& [pid, entry] : by_pid) {
      auto ppid = IntField(*entry, "ppid");
      bool is_root = !ppid.has_value() || by_pid.count(*ppid) == 0;
      if (is_root) AppendTreeNode(by_pid, pid, "  ", "", shown);
    }
    // Entries in a parent cycle (a damaged document) have no root; list them flat.
    for (const auto& [pid, entry] : by_pid) {
      if (shown.count(pid) == 0) AppendTreeNode(by_pid, pid, "  ", "", shown);
    }
  }

  void AppendTreeNode(const std::map<std::int64_t, const json*>& by_pid, std::int64_t pid,
                      const std::string& prefix, const std::string& child_prefix,
                      std::set<std::int64_t>& shown) {
    if (!shown.insert(pid).second) return;
    const json& entry = *by_pid.at(pid);
    out_ += prefix + child_prefix + std::to_string(pid) + "  " +
            Printable(StringField(entry, "name")) + "\n";
    std::vector<std::int64_t> children;
    for (const json& child : ArrayField(entry, "children")) {
      if (child.is_number_integer() && by_pid.count(child.get<std::int64_t>()) > 0) {
        children.push_back(child.get<std::int64_t>());
      }
    }
    // Continue the vertical rule of this node's siblings below it.
    std::string next_prefix = prefix;
    if (child_prefix == "├─ ") next_prefix += "│  ";
    if (child_prefix == "└─ ") next_prefix += "   ";
    for (std::size_t i = 0; i < children.size(); ++i) {
      AppendTreeNode(by_pid, children[i], next_prefix, i + 1 == children.size() ? "└─ " : "├─ ",
                     shown);
    }
  }

  void AppendProcess(const json& process) {
    std::int64_t pid = IntField(process, "pid").value_or(0);
    std::string title = "PROCESS " + std::to_string(pid);
    if (std::string name = StringField(process, "name"); !name.empty()) {
      title += "  " + Printable(name);
    }
    if (auto ppid = IntField(process, "ppid"); ppid.has_value()) {
      title += "  (parent " + std::to_string(*ppid) + ")";
    }
    AppendHeading(out_, title);
    AppendStatusSummary(process);
    AppendThreads(pid, process);
    AppendFds(pid, process);
    AppendSockets(pid, process);
    AppendMaps(pid, process);
    AppendCgroup(pid, process);
    AppendLimits(pid, process);
    AppendEnv(pid, process);
    std::size_t degraded = DegradedFor(snapshot_, pid).size();
    if (degraded > 0) {
      out_ += "\n  " + Plural(degraded, "degraded entry", "degraded entries") +
              " for this process: see DEGRADED below\n";
    }
  }

  void AppendStatusSummary(const json& process) {
    if (std::string state = StringField(process, "state"); !state.empty()) {
      std::string state_name = StringField(process, "stateName");
      AppendField(out_, "State", state + (state_name.empty() ? "" : " (" + state_name + ")"));
    }
    if (auto threads = IntField(process, "threadCount"); threads.has_value()) {
      AppendField(out_, "Threads", std::to_string(*threads));
    }
    if (const json* memory = ObjectField(process, "memory"); memory != nullptr) {
      AppendField(out_, "RSS",
                  OptionalKiB(IntField(*memory, "vmRssKiB")) + " (peak " +
                      OptionalKiB(IntField(*memory, "vmHwmKiB")) + ", virtual " +
                      OptionalKiB(IntField(*memory, "vmSizeKiB")) + ")");
    }
    if (const json* cpu = ObjectField(process, "cpu"); cpu != nullptr) {
      std::string text = "user " + ScalarText(FindField(*cpu, "userMillis")) + " ms, system " +
                         ScalarText(FindField(*cpu, "systemMillis")) + " ms";
      if (auto last = IntField(*cpu, "lastProcessor"); last.has_value()) {
        text += ", last ran on CPU " + std::to_string(*last);
      }
      AppendField(out_, "CPU", text);
    }
    if (const json* switches = ObjectField(process, "contextSwitches"); switches != nullptr) {
      AppendField(out_, "Switches",
                  ScalarText(FindField(*switches, "voluntary")) + " voluntary, " +
                      ScalarText(FindField(*switches, "nonvoluntary")) + " involuntary");
    }
    if (const json* uids = ObjectField(process, "uids"); uids != nullptr) {
      const json* gids = ObjectField(process, "gids");
      std::string text = "uid " + ScalarText(FindField(*uids, "real")) + " (effective " +
                         ScalarText(FindField(*uids, "effective")) + ")";
      if (gids != nullptr) {
        text += ", gid " + ScalarText(FindField(*gids, "real")) + " (effective " +
                ScalarText(FindField(*gids, "effective")) + ")";
      }
      AppendField(out_, "User", text);
    }
    if (const json* caps = ObjectField(process, "capabilities"); caps != nullptr) {
      AppendField(out_, "Capabilities",
                  "effective " + StringField(*caps, "effective") + ", permitted " +
                      StringField(*caps, "permitted") + ", bounding " +
                      StringField(*caps, "bounding"));
    }
    if (const json* cmdline = FindField(process, "cmdline"); cmdline != nullptr) {
      AppendField(out_, "Command", ScalarText(cmdline));
    }
  }

  void AppendThreads(std::int64_t pid, const json& process) {
    if (!Requested("threads") && !Requested("stacks")) return;
    const json* threads = FindField(process, "threads");
    out_ += "\n";
    if (threads == nullptr || !threads->is_array()) {
      out_ += "  Threads\n";
      AppendNotCaptured(pid, Requested("stacks") ? "stacks" : "threads");
      return;
    }
    std::vector<StackGroup> groups = GroupThreadsByStack(*threads);
    out_ += "  Threads: " + Plural(threads->size(), "thread", "threads") + " in " +
            Plural(groups.size(), "stack group", "stack groups") + "\n";
    for (const StackGroup& group : groups) AppendStackGroup(group);
  }

  void AppendStackGroup(const StackGroup& group) {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < group.threads.size() && i < kMaxNamedThreads; ++i) {
      names.push_back(ThreadLabel(*group.threads[i]));
    }
    if (group.threads.size() > kMaxNamedThreads) {
      names.push_back("… " + std::to_string(group.threads.size() - kMaxNamedThreads) + " more");
    }
    std::vector<std::string> details;
    if (!group.states.empty()) details.push_back("state " + Join(group.states, "/"));
    if (!group.wchans.empty()) details.push_back("wchan " + Join(group.wchans, "/"));
    std::string line = Plural(group.threads.size(), "thread", "threads") + ": " + Join(names, ", ");
    if (!details.empty()) line += " (" + Join(details, ", ") + ")";
    out_ += "\n  " + Printable(line) + "\n";
    if (group.frames == nullptr) {
      if (Requested("stacks")) out_ += "    (no stack captured)\n";
      return;
    }
    if (group.frames->empty()) {
      out_ += "    (stack captured, but no frame could be unwound)\n";
      return;
    }
    // Like gdb's backtrace: "#3  0x40435a  SleepInCheckoutLoop()+48 from /app/server". Only the
    // index and pc are aligned: demangled names are too long for a column.
    TextTable frames({"", "", ""}, {false, true, false});
    std::size_t index = 0;
    for (const json& frame : *group.frames) {
      std::string function = StringField(frame, "symbol").empty() ? "??" : FrameFunction(frame);
      if (std::string module = StringField(frame, "module"); !module.empty()) {
        function += " from ";
        function += module;
      }
      frames.AddRow({"#" + std::to_string(index++), StringField(frame, "pc"), function});
    }
    // The table's empty header row is dropped: frames read like pstack output.
    std::string rendered;
    frames.AppendTo(rendered, "    ");
    out_ += rendered.substr(rendered.find('\n') + 1);
  }

  void AppendFds(std::int64_t pid, const json& process) {
    if (!Requested("fds")) return;
    const json* fds = FindField(process, "fds");
    if (fds == nullptr || !fds->is_array()) {
      out_ += "\n  Open fds\n";
      AppendNotCaptured(pid, "fds");
      return;
    }
    std::map<std::string, std::size_t> by_type;
    for (const json& fd : *fds) ++by_type[StringField(fd, "type")];
    std::vector<std::pair<std::string, std::size_t>> kinds(by_type.begin(), by_type.end());
    std::stable_sort(kinds.begin(), kinds.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<std::string> summary;
    summary.reserve(kinds.size());
    for (const auto& [type, count] : kinds) {
      summary.push_back((type.empty() ? "unknown" : type) + " " + std::to_string(count));
    }
    std::string count = ScalarText(FindField(process, "fdCount"));
    if (count.empty()) count = std::to_string(fds->size());
    out_ += "\n  " +
            Printable("Open fds: " + count +
                      (summary.empty() ? "" : " (" + Join(summary, ", ") + ")")) +
            "\n";
    TextTable table({"FD", "TYPE", "TARGET"}, {true, false, false});
    std::size_t listed = 0;
    for (const json& fd : *fds) {
      if (listed++ == kMaxListedFds) break;
      table.AddRow(
          {ScalarText(FindField(fd, "fd")), StringField(fd, "type"), StringField(fd, "target")});
    }
    if (!table.IsEmpty()) table.AppendTo(out_, "    ");
    if (fds->size() > kMaxListedFds) {
      out_ += "    … " + std::to_string(fds->size() - kMaxListedFds) +
              " more in the document (-o json or -o html)\n";
    }
  }

  void AppendSockets(std::int64_t pid, const json& process) {
    if (!Requested("sockets")) return;
    const json* sockets = FindField(process, "sockets");
    if (sockets == nullptr || !sockets->is_array()) {
      out_ += "\n  Sockets\n";
      AppendNotCaptured(pid, "sockets");
      return;
    }
    out_ += "\n  Sockets: " + std::to_string(sockets->size()) + "\n";
    if (sockets->empty()) return;
    TextTable table({"FD", "PROTO", "LOCAL", "REMOTE", "STATE"}, {true});
    for (const json& socket : *sockets) {
      std::string protocol = StringField(socket, "protocol");
      std::string local = StringField(socket, "local");
      if (protocol == "unix") {
        std::string type = StringField(socket, "type");
        if (!type.empty()) protocol += "/" + type;
        local = StringField(socket, "path");
        if (local.empty()) local = "(unbound)";
      }
      table.AddRow({ScalarText(FindField(socket, "fd")), protocol, local,
                    StringField(socket, "remote"), StringField(socket, "state")});
    }
    table.AppendTo(out_, "    ");
  }

  void AppendMaps(std::int64_t pid, const json& process) {
    if (!Requested("maps")) return;
    const json* maps = ObjectField(process, "maps");
    if (maps == nullptr) {
      out_ += "\n  Memory map\n";
      AppendNotCaptured(pid, "maps");
      return;
    }
    out_ += "\n  Memory map: " + Printable(ScalarText(FindField(*maps, "count"))) + " mappings, " +
            OptionalBytes(IntField(*maps, "bytes")) + "\n";
    if (const json* by_kind = ObjectField(*maps, "byKind"); by_kind != nullptr) {
      std::vector<std::pair<std::string, const json*>> kinds;
      for (const auto& [kind, value] : by_kind->items()) kinds.emplace_back(kind, &value);
      std::stable_sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) {
        return IntField(*a.second, "bytes").value_or(0) > IntField(*b.second, "bytes").value_or(0);
      });
      TextTable table({"KIND", "COUNT", "SIZE"}, {false, true, true});
      for (const auto& [kind, value] : kinds) {
        table.AddRow({kind, ScalarText(FindField(*value, "count")),
                      OptionalBytes(IntField(*value, "bytes"))});
      }
      table.AppendTo(out_, "    ");
    }
    const json& files = ArrayField(*maps, "files");
    if (!files.empty()) {
      out_ += "\n  Mapped files (largest first)\n";
      TextTable table({"SIZE", "MAPPINGS", "PATH"}, {true, true, false});
      std::size_t listed = 0;
      for (const json& file : files) {
        if (listed++ == kMaxListedFiles) break;
        table.AddRow({OptionalBytes(IntField(file, "bytes")), ScalarText(FindField(file, "count")),
                      StringField(file, "path")});
      }
      table.AppendTo(out_, "    ");
      std::size_t more = files.size() > kMaxListedFiles ? files.size() - kMaxListedFiles : 0;
      if (const json* other = ObjectField(*maps, "otherFiles"); other != nullptr) {
        more += static_cast<std::size_t>(IntField(*other, "files").value_or(0));
      }
      if (more > 0) out_ += "    … " + Plural(more, "more file", "more files") + "\n";
    }
    const json& largest = ArrayField(*maps, "largest");
    if (!largest.empty()) {
      out_ += "\n  Largest mappings\n";
      TextTable table({"START", "END", "SIZE", "PERMS", "KIND", "PATH"},
                      {false, false, true, false, false, false});
      for (const json& mapping : largest) {
        table.AddRow({StringField(mapping, "start"), StringField(mapping, "end"),
                      OptionalBytes(IntField(mapping, "bytes")), StringField(mapping, "perms"),
                      StringField(mapping, "kind"), StringField(mapping, "path")});
      }
      table.AppendTo(out_, "    ");
    }
  }

  void AppendCgroup(std::int64_t pid, const json& process) {
    if (!Requested("cgroup")) return;
    const json* cgroup = ObjectField(process, "cgroup");
    out_ += "\n  CPU and memory (cgroup)\n";
    if (cgroup == nullptr) {
      AppendNotCaptured(pid, "cgroup");
      return;
    }
    std::string where = "v" + ScalarText(FindField(*cgroup, "version")) + ", read from the " +
                        StringField(*cgroup, "source") + "'s view, cpu " +
                        StringField(*cgroup, "cpuPath");
    AppendField(out_, "  Cgroup", where);
    if (auto usage = IntField(*cgroup, "cpuUsageNanos"); usage.has_value()) {
      AppendField(out_, "  CPU used", FormatMicros(*usage / 1000));
    }
    auto quota = IntField(*cgroup, "cpuQuotaMicros");
    auto period = IntField(*cgroup, "cpuPeriodMicros");
    if (quota.has_value()) {
      std::string text = "none";
      if (*quota >= 0 && period.has_value() && *period > 0) {
        std::array<char, 32> cpus{};
        std::snprintf(cpus.data(), cpus.size(), "%.2f",
                      static_cast<double>(*quota) / static_cast<double>(*period));
        text = std::string(cpus.data()) + " CPU (" + std::to_string(*quota) + " us per " +
               std::to_string(*period) + " us)";
      }
      AppendField(out_, "  CPU quota", text);
    }
    auto periods = IntField(*cgroup, "nrPeriods");
    auto throttled = IntField(*cgroup, "nrThrottled");
    if (periods.has_value() && throttled.has_value()) {
      std::string text =
          std::to_string(*throttled) + " of " + std::to_string(*periods) + " periods";
      if (*periods > 0) {
        std::array<char, 32> percent{};
        std::snprintf(percent.data(), percent.size(), " (%.1f%%)",
                      100.0 * static_cast<double>(*throttled) / static_cast<double>(*periods));
        text += percent.data();
      }
      if (auto nanos = IntField(*cgroup, "throttledNanos"); nanos.has_value()) {
        text += ", " + FormatMicros(*nanos / 1000) + " in total";
      }
      AppendField(out_, "  Throttled", text);
    }
    const json* limit = FindField(*cgroup, "memoryLimitBytes");
    std::string limit_text = limit != nullptr && limit->is_number_integer()
                                 ? FormatBytes(limit->get<std::int64_t>())
                                 : ScalarText(limit);
    AppendField(out_, "  Memory",
                OptionalBytes(IntField(*cgroup, "memoryUsageBytes")) + " used, limit " +
                    (limit_text.empty() ? "-" : limit_text));
  }

  void AppendLimits(std::int64_t pid, const json& process) {
    if (!Requested("limits")) return;
    const json* limits = FindField(process, "limits");
    out_ += "\n  Limits\n";
    if (limits == nullptr || !limits->is_array()) {
      AppendNotCaptured(pid, "limits");
      return;
    }
    TextTable table({"LIMIT", "SOFT", "HARD", "UNITS"}, {false, true, true, false});
    for (const json& limit : *limits) {
      table.AddRow({StringField(limit, "name"), ScalarText(FindField(limit, "soft")),
                    ScalarText(FindField(limit, "hard")), StringField(limit, "units")});
    }
    table.AppendTo(out_, "    ");
  }

  void AppendEnv(std::int64_t pid, const json& process) {
    if (!Requested("env")) return;
    const json* env = FindField(process, "env");
    if (env == nullptr || !env->is_array()) {
      out_ += "\n  Environment\n";
      AppendNotCaptured(pid, "env");
      return;
    }
    out_ += "\n  Environment: " + Plural(env->size(), "variable", "variables") +
            " (values as the tool recorded them)\n";
    for (const json& variable : *env) {
      const json* value = FindField(variable, "value");
      out_ += "    " + Printable(StringField(variable, "name")) + "=" +
              (value != nullptr ? Printable(ScalarText(value)) : "(dropped: redaction failed)") +
              "\n";
    }
  }

  void AppendRedaction() {
    AppendHeading(out_, "REDACTION");
    const json* redaction = ObjectField(snapshot_, "redaction");
    if (redaction == nullptr) {
      out_ += "  no redaction report in the document\n";
      return;
    }
    if (const json* pii = FindField(*redaction, "pii")) {
      AppendField(out_, "Personal data", PiiModeText(ScalarText(pii)));
    }
    AppendField(
        out_, "Environment",
        ScalarText(FindField(*redaction, "envRedacted")) + " values replaced by [REDACTED]");
    const json* patterns = ObjectField(*redaction, "patternsMatched");
    if (patterns == nullptr || patterns->empty()) {
      AppendField(out_, "Free text", "no secret patterns matched");
    } else {
      out_ += "  Free text matches by rule (replaced by [REDACTED:<rule>])\n";
      TextTable table({"RULE", "MATCHES"}, {false, true});
      for (const auto& [rule, count] : patterns->items()) table.AddRow({rule, ScalarText(&count)});
      table.AppendTo(out_, "    ");
    }
    const json& dropped = ArrayField(*redaction, "droppedFields");
    if (dropped.empty()) {
      AppendField(out_, "Dropped", "no field (the redactor never failed)");
    } else {
      out_ += "  Fields left out because the redactor failed on them\n";
      for (const json& field : dropped) out_ += "    " + Printable(ScalarText(&field)) + "\n";
    }
  }

  void AppendDegraded() {
    AppendHeading(out_, "DEGRADED");
    const json& degraded = ArrayField(snapshot_, "degraded");
    if (degraded.empty()) {
      out_ += "  nothing: every requested section was captured\n";
      return;
    }
    TextTable table({"SECTION", "PID", "TID", "REASON"}, {false, true, true, false});
    for (const json& entry : degraded) {
      table.AddRow({StringField(entry, "section"), ScalarText(FindField(entry, "pid")),
                    ScalarText(FindField(entry, "tid")), StringField(entry, "reason")});
    }
    table.AppendTo(out_, "  ");
  }

  void AppendOverhead() {
    AppendHeading(out_, "OVERHEAD");
    const json* overhead = ObjectField(snapshot_, "overhead");
    if (overhead == nullptr) {
      out_ += "  no overhead figures in the document\n";
      return;
    }
    auto micros = [&](std::string_view key) {
      auto value = IntField(*overhead, key);
      return value.has_value() ? FormatMicros(*value) : std::string("-");
    };
    auto millis = [&](std::string_view key) {
      auto value = IntField(*overhead, key);
      return value.has_value() ? FormatMicros(*value * 1000) : std::string("-");
    };
    AppendField(out_, "Target frozen",
                micros("targetFreezeMicros") + " in total, longest single thread " +
                    micros("targetMaxThreadFreezeMicros"));
    AppendField(out_, "Tool CPU", millis("toolCpuMillis"));
    AppendField(out_, "Tool RSS", OptionalKiB(IntField(*overhead, "toolMaxRssKiB")) + " peak");
    AppendField(out_, "Wall time", millis("wallMillis"));
  }

  const json& snapshot_;
  const ReportContext& context_;
  std::set<std::string> requested_;
  std::string out_;
};

}  // namespace

StatusOr<std::string> RenderText(const json& snapshot, const ReportContext& context) {
  return RenderValidated(snapshot, [&] { return TextReport(snapshot, context).Render(); });
}

}  // namespace ephemera::report
