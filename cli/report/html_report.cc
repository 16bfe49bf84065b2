// The HTML report: one self-contained file. Styles and the table-sorting script are inline, charts
// are inline SVG or plain boxes, and a Content-Security-Policy forbids every fetch, so opening the
// file never contacts anything. Everything taken from the document goes through Escape(); numbers
// in style attributes are computed here, never copied from the document.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
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

constexpr std::string_view kStyle = R"css(
:root { --fg: #1d232b; --muted: #5b6573; --line: #d5dae1; --head: #eef1f5; --accent: #2f6fb3; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       margin: 0; padding: 0 24px 48px; background: #fff; }
header { padding: 18px 0 8px; border-bottom: 2px solid var(--accent); }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav { margin: 10px 0; font-size: 13px; }
nav a { color: var(--accent); margin-right: 12px; text-decoration: none; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 6px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
pre { background: #f6f8fa; padding: 8px 10px; overflow-x: auto; white-space: pre-wrap;
      overflow-wrap: anywhere; border-radius: 4px; margin: 4px 0; }
table { border-collapse: collapse; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
td { overflow-wrap: anywhere; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.sortable th[data-sort-ready] { cursor: pointer; user-select: none; }
table.sortable th[aria-sort="ascending"]::after { content: " \25B2"; font-size: 10px; }
table.sortable th[aria-sort="descending"]::after { content: " \25BC"; font-size: 10px; }
.note { color: var(--muted); margin: 4px 0; }
.missing { color: #8a4b00; margin: 4px 0; }
.flame { display: flex; width: 100%; margin: 8px 0 4px; font: 11.5px/1.2 ui-monospace, monospace; }
.flame .node { display: flex; flex-direction: column; min-width: 0; }
.flame .box { height: 20px; padding: 3px 4px; margin: 0 1px 1px 0; border-radius: 2px;
              overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.flame .kids { display: flex; }
.flame .gap { min-width: 0; }
.group { border-left: 3px solid var(--accent); padding: 2px 0 2px 10px; margin: 10px 0; }
.group .title { font-weight: 600; }
ol.frames { margin: 4px 0; padding-left: 3.2em; font-family: ui-monospace, monospace; font-size: 12.5px; }
ol.frames .pc { color: var(--muted); }
ol.frames .module { color: var(--muted); }
svg text { font: 12px system-ui, sans-serif; fill: var(--fg); }
svg .bar { fill: var(--accent); }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 18px; }
ul.tree { padding-left: 0; }
ul.tree li::before { content: "\2514\2500 "; color: var(--muted); }
ul.tree > li::before { content: ""; }
)css";

// Makes tables with class "sortable" sort by a column when its header is clicked (numbers by
// value, using a cell's data-sort when present), marks every ready header with data-sort-ready,
// and applies "#sort=<table id>:<column>:<asc|desc>" from the address at load.
constexpr std::string_view kScript = R"js(
(function () {
  "use strict";
  function key(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var raw = cell.getAttribute("data-sort");
    return raw !== null ? raw : cell.textContent.trim();
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  function sortTable(table, index, descending) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (row, position) { row.setAttribute("data-position", position); });
    rows.sort(function (r1, r2) {
      var c = compare(key(r1, index), key(r2, index));
      if (descending) { c = -c; }
      return c !== 0 ? c : Number(r1.getAttribute("data-position")) - Number(r2.getAttribute("data-position"));
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === index) { th.setAttribute("aria-sort", descending ? "descending" : "ascending"); }
      else { th.removeAttribute("aria-sort"); }
    });
    table.setAttribute("data-sorted-by", index + (descending ? " desc" : " asc"));
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    if (!table.tHead || !table.tHead.rows.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.title = "Sort by this column";
      var activate = function () {
        sortTable(table, index, th.getAttribute("aria-sort") === "ascending");
      };
      th.addEventListener("click", activate);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); activate(); }
      });
      th.setAttribute("data-sort-ready", "true");
    });
    table.setAttribute("data-sortable-ready", "true");
  });
  var match = /(?:^#|&)sort=([A-Za-z0-9_-]+):([0-9]+):(asc|desc)/.exec(window.location.hash);
  if (match) {
    var target = document.getElementById(match[1]);
    if (target && target.classList.contains("sortable")) {
      sortTable(target, Number(match[2]), match[3] === "desc");
    }
  }
  document.body.setAttribute("data-script", "ran");
})();
)js";

// HTML text or attribute value for anything that may come from the document.
std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";  // U+FFFD: HTML has no NUL
        break;
      default:
        out += c;
    }
  }
  return out;
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

std::string OptionalBytes(std::optional<std::int64_t> bytes) {
  return bytes.has_value() ? FormatBytes(*bytes) : "-";
}

// A stable colour per function name, in the warm range flame graphs use.
std::string FlameColour(std::string_view function) {
  std::uint32_t hash = 2166136261U;  // FNV-1a
  for (char c : function) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619U;
  }
  std::array<char, 48> buf{};
  std::snprintf(buf.data(), buf.size(), "hsl(%u,%u%%,%u%%)", 8 + hash % 42, 70 + (hash >> 8) % 20,
                62 + (hash >> 16) % 14);
  return buf.data();
}

// One cell: display text (escaped when rendered) and an optional raw sort key.
struct Cell {
  std::string text;
  std::string sort_key;
};

// A table; with an id it is sortable (the script finds it by class and the id lets a link name it).
class HtmlTable {
 public:
  HtmlTable(std::string id, std::vector<std::string> headers, std::vector<bool> numeric)
      : id_(std::move(id)), headers_(std::move(headers)), numeric_(std::move(numeric)) {
    numeric_.resize(headers_.size(), false);
  }

  void AddRow(std::vector<Cell> cells) { rows_.push_back(std::move(cells)); }
  bool IsEmpty() const { return rows_.empty(); }

  void AppendTo(std::string& out) const {
    out += "<table";
    if (!id_.empty()) out += " id=\"" + id_ + "\" class=\"sortable\"";
    out += "><thead><tr>";
    for (std::size_t i = 0; i < headers_.size(); ++i) {
      out += numeric_[i] ? "<th class=\"num\">" : "<th>";
      out += Escape(headers_[i]) + "</th>";
    }
    out += "</tr></thead><tbody>\n";
    for (const auto& row : rows_) {
      out += "<tr>";
      for (std::size_t i = 0; i < headers_.size(); ++i) {
        const Cell empty;
        const Cell& cell = i < row.size() ? row[i] : empty;
        out += "<td";
        if (numeric_[i]) out += " class=\"num\"";
        if (!cell.sort_key.empty()) out += " data-sort=\"" + Escape(cell.sort_key) + "\"";
        out += ">" + Escape(cell.text) + "</td>";
      }
      out += "</tr>\n";
    }
    out += "</tbody></table>\n";
  }

 private:
  std::string id_;
  std::vector<std::string> headers_;
  std::vector<bool> numeric_;
  std::vector<std::vector<Cell>> rows_;
};

Cell IntCell(const json* value) { return Cell{ScalarText(value), ScalarText(value)}; }

Cell BytesCell(std::optional<std::int64_t> bytes) {
  return bytes.has_value() ? Cell{FormatBytes(*bytes), std::to_string(*bytes)} : Cell{"-", ""};
}

// A definition list of label and value; values are escaped.
class Facts {
 public:
  void Add(std::string_view label, std::string_view value) {
    if (!value.empty()) items_.emplace_back(label, value);
  }
  void AppendTo(std::string& out) const {
    if (items_.empty()) return;
    out += "<dl class=\"facts\">";
    for (const auto& [label, value] : items_) {
      out += "<dt>" + Escape(label) + "</dt><dd>" + Escape(value) + "</dd>";
    }
    out += "</dl>\n";
  }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// The merged call tree of a process's stacks, outermost frame at the root, for the flame picture.
struct FlameNode {
  std::string function;
  std::string module;
  std::size_t threads = 0;
  std::vector<std::unique_ptr<FlameNode>> children;

  FlameNode* Child(const std::string& name, const std::string& module_path) {
    for (auto& child : children) {
      if (child->function == name && child->module == module_path) return child.get();
    }
    children.push_back(std::make_unique<FlameNode>());
    children.back()->function = name;
    children.back()->module = module_path;
    return children.back().get();
  }
};

class HtmlReport {
 public:
  HtmlReport(const json& snapshot, const ReportContext& context)
      : snapshot_(snapshot), context_(context) {
    for (const json& section : ArrayField(snapshot_, "sections")) {
      if (section.is_string()) requested_.insert(section.get<std::string>());
    }
    for (const json& process : ArrayField(snapshot_, "processes")) processes_.push_back(&process);
  }

  std::string Render() {
    out_ += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    // Nothing may be fetched: no network, no other file. Inline style and script only.
    out_ +=
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'\">\n";
    out_ += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out_ += "<meta name=\"referrer\" content=\"no-referrer\">\n";
    out_ += "<title>" + Escape(Title()) + "</title>\n<style>";
    out_ += kStyle;
    out_ += "</style></head>\n<body>\n";
    AppendHeader();
    AppendSummary();
    AppendStacks();
    AppendFds();
    AppendSockets();
    AppendMemory();
    AppendCgroup();
    AppendLimits();
    AppendEnv();
    AppendRedaction();
    AppendDegraded();
    AppendOverhead();
    out_ += "<script>";
    out_ += kScript;
    out_ += "</script>\n</body></html>\n";
    return std::move(out_);
  }

 private:
  bool Requested(const std::string& section) const { return requested_.count(section) > 0; }

  std::string Title() const {
    std::string title = "Ephemera snapshot";
    if (!context_.session.empty()) title += " " + context_.session;
    std::string time =
        context_.captured_at.empty() ? StringField(snapshot_, "captureTime") : context_.captured_at;
    if (!time.empty()) title += " (" + time + ")";
    return title;
  }

  static std::string ProcessLabel(const json& process) {
    std::string label = "Process " + ScalarText(FindField(process, "pid"));
    if (std::string name = StringField(process, "name"); !name.empty()) label += " " + name;
    return label;
  }

  void OpenSection(std::string_view id, std::string_view title) {
    out_ += "<section id=\"" + std::string(id) + "\"><h2>" + std::string(title) + "</h2>\n";
  }

  void CloseSection() { out_ += "</section>\n"; }

  // Per-process block inside a section: <div id="<section>-<pid>"> with the process as heading.
  void OpenProcessBlock(std::string_view section, const json& process) {
    out_ += "<div class=\"proc\" id=\"" + std::string(section) + "-" +
            std::to_string(IntField(process, "pid").value_or(0)) + "\"><h3>" +
            Escape(ProcessLabel(process)) + "</h3>\n";
  }

  void AppendNotCaptured(const json& process, std::string_view section) {
    std::string reason = DegradedReason(snapshot_, IntField(process, "pid").value_or(0), section);
    out_ += "<p class=\"missing\">Not captured" + (reason.empty() ? "" : ": " + Escape(reason)) +
            "</p>\n";
  }

  // True when the section body should be rendered; otherwise explains why not.
  bool SectionRequested(const std::string& section) {
    if (Requested(section)) return true;
    out_ += "<p class=\"note\">Not requested (--capture did not include " + section + ").</p>\n";
    return false;
  }

  void AppendHeader() {
    out_ += "<header id=\"header\"><h1>Ephemera snapshot report</h1>\n";
    Facts facts;
    std::string session = context_.session;
    if (!context_.namespace_name.empty()) {
      session = context_.namespace_name + (session.empty() ? "" : "/" + session);
    }
    facts.Add("Session", session);
    facts.Add("Requester", context_.requester);
    facts.Add("Reason", context_.reason);
    if (!context_.pod.empty()) {
      facts.Add("Target",
                "pod " + context_.pod +
                    (context_.container.empty() ? "" : ", container " + context_.container));
    }
    facts.Add("Captured at", context_.captured_at.empty() ? StringField(snapshot_, "captureTime")
                                                          : context_.captured_at);
    facts.Add("Schema", StringField(snapshot_, "apiVersion"));
    if (const json* tool = ObjectField(snapshot_, "tool"); tool != nullptr) {
      std::string text = StringField(*tool, "name") + " " + StringField(*tool, "version");
      if (std::string profile = StringField(*tool, "profile"); !profile.empty()) {
        text += ", profile " + profile;
      }
      facts.Add("Tool", text);
    }
    if (const json* targets = ObjectField(snapshot_, "targets"); targets != nullptr) {
      std::string text = Plural(ArrayField(*targets, "pids").size(), "process", "processes");
      if (auto main_pid = IntField(*targets, "mainPid"); main_pid.has_value()) {
        text += ", main pid " + std::to_string(*main_pid);
      }
      facts.Add("Targets", text);
    }
    std::vector<std::string> sections;
    for (const json& section : ArrayField(snapshot_, "sections")) {
      if (section.is_string()) sections.push_back(section.get<std::string>());
    }
    facts.Add("Sections", sections.empty() ? "none" : Join(sections, ", "));
    facts.Add("Degraded", Plural(ArrayField(snapshot_, "degraded").size(), "entry", "entries"));
    facts.AppendTo(out_);
    out_ +=
        "<nav><a href=\"#summary\">Processes</a><a href=\"#stacks\">Stacks</a>"
        "<a href=\"#fds\">Files</a><a href=\"#sockets\">Sockets</a><a href=\"#memory\">Memory</a>"
        "<a href=\"#cgroup\">CPU</a><a href=\"#limits\">Limits</a><a href=\"#env\">Environment</a>"
        "<a href=\"#redaction\">Redaction</a><a href=\"#degraded\">Degraded</a>"
        "<a href=\"#overhead\">Overhead</a></nav>\n</header>\n";
  }

  void AppendSummary() {
    OpenSection("summary", "Processes");
    if (processes_.empty()) {
      out_ +=
          "<p class=\"missing\">No process was captured; see <a href=\"#degraded\">Degraded"
          "</a>.</p>\n";
    }
    HtmlTable table("processes",
                    {"PID", "PPID", "NAME", "STATE", "THREADS", "RSS", "USER CPU ms",
                     "SYSTEM CPU ms", "FDS", "COMMAND"},
                    {true, true, false, false, true, true, true, true, true, false});
    for (const json* process : processes_) {
      const json* memory = ObjectField(*process, "memory");
      const json* cpu = ObjectField(*process, "cpu");
      auto rss = memory != nullptr ? IntField(*memory, "vmRssKiB") : std::nullopt;
      table.AddRow({IntCell(FindField(*process, "pid")), IntCell(FindField(*process, "ppid")),
                    Cell{StringField(*process, "name"), ""},
                    Cell{StringField(*process, "state"), ""},
                    IntCell(FindField(*process, "threadCount")),
                    BytesCell(rss.has_value() ? std::optional(*rss * 1024) : std::nullopt),
                    IntCell(cpu != nullptr ? FindField(*cpu, "userMillis") : nullptr),
                    IntCell(cpu != nullptr ? FindField(*cpu, "systemMillis") : nullptr),
                    IntCell(FindField(*process, "fdCount")),
                    Cell{ScalarText(FindField(*process, "cmdline")), ""}});
    }
    if (!table.IsEmpty()) table.AppendTo(out_);
    AppendProcessTree();
    for (const json* process : processes_) AppendProcessFacts(*process);
    CloseSection();
  }

  void AppendProcessTree() {
    const json& tree = ArrayField(snapshot_, "processTree");
    if (tree.empty()) return;
    std::map<std::int64_t, const json*> by_pid;
    for (const json& entry : tree) {
      if (auto pid = IntField(entry, "pid"); pid.has_value()) by_pid.emplace(*pid, &entry);
    }
    out_ += "<h3>Process tree</h3>\n<ul class=\"tree mono\" id=\"process-tree\">";
    std::set<std::int64_t> shown;
    for (const auto& [pid, entry] : by_pid) {
      auto ppid = IntField(*entry, "ppid");
      if (!ppid.has_value() || by_pid.count(*ppid) == 0) AppendTreeNode(by_pid, pid, shown);
    }
    for (const auto& [pid, entry] : by_pid) AppendTreeNode(by_pid, pid, shown);
    out_ += "</ul>\n";
  }

  void AppendTreeNode(const std::map<std::int64_t, const json*>& by_pid, std::int64_t pid,
                      std::set<std::int64_t>& shown) {
    if (!shown.insert(pid).second) return;
    const json& entry = *by_pid.at(pid);
    out_ += "<li>" + std::to_string(pid) + " " + Escape(StringField(entry, "name"));
    std::vector<std::int64_t> children;
    for (const json& child : ArrayField(entry, "children")) {
      if (child.is_number_integer() && by_pid.count(child.get<std::int64_t>()) > 0 &&
          shown.count(child.get<std::int64_t>()) == 0) {
        children.push_back(child.get<std::int64_t>());
      }
    }
    if (!children.empty()) {
      out_ += "<ul>";
      for (std::int64_t child : children) AppendTreeNode(by_pid, child, shown);
      out_ += "</ul>";
    }
    out_ += "</li>";
  }

  void AppendProcessFacts(const json& process) {
    OpenProcessBlock("process", process);
    Facts facts;
    if (std::string state = StringField(process, "state"); !state.empty()) {
      std::string name = StringField(process, "stateName");
      facts.Add("State", state + (name.empty() ? "" : " (" + name + ")"));
    }
    facts.Add("Threads", ScalarText(FindField(process, "threadCount")));
    if (const json* memory = ObjectField(process, "memory"); memory != nullptr) {
      auto kib = [&](std::string_view key) {
        auto value = IntField(*memory, key);
        return value.has_value() ? FormatBytes(*value * 1024) : std::string("-");
      };
      facts.Add("Memory", "RSS " + kib("vmRssKiB") + ", peak " + kib("vmHwmKiB") + ", virtual " +
                              kib("vmSizeKiB"));
    }
    if (const json* cpu = ObjectField(process, "cpu"); cpu != nullptr) {
      facts.Add("CPU", "user " + ScalarText(FindField(*cpu, "userMillis")) + " ms, system " +
                           ScalarText(FindField(*cpu, "systemMillis")) + " ms");
    }
    if (const json* switches = ObjectField(process, "contextSwitches"); switches != nullptr) {
      facts.Add("Context switches", ScalarText(FindField(*switches, "voluntary")) + " voluntary, " +
                                        ScalarText(FindField(*switches, "nonvoluntary")) +
                                        " involuntary");
    }
    if (const json* uids = ObjectField(process, "uids"); uids != nullptr) {
      facts.Add("UIDs", "real " + ScalarText(FindField(*uids, "real")) + ", effective " +
                            ScalarText(FindField(*uids, "effective")));
    }
    if (const json* caps = ObjectField(process, "capabilities"); caps != nullptr) {
      facts.Add("Capabilities", "effective " + StringField(*caps, "effective") + ", permitted " +
                                    StringField(*caps, "permitted") + ", bounding " +
                                    StringField(*caps, "bounding"));
    }
    if (const json* io = ObjectField(process, "io"); io != nullptr) {
      facts.Add("I/O", "read " + OptionalBytes(IntField(*io, "rchar")) + ", written " +
                           OptionalBytes(IntField(*io, "wchar")));
    }
    facts.AppendTo(out_);
    if (const json* cmdline = FindField(process, "cmdline"); cmdline != nullptr) {
      out_ += "<pre class=\"cmdline\">" + Escape(ScalarText(cmdline)) + "</pre>\n";
    }
    out_ += "</div>\n";
  }

  void AppendStacks() {
    OpenSection("stacks", "Threads and stacks");
    if (!Requested("threads") && !Requested("stacks")) {
      out_ +=
          "<p class=\"note\">Not requested (--capture included neither threads nor "
          "stacks).</p>\n";
    }
    for (const json* process : processes_) {
      if (!Requested("threads") && !Requested("stacks")) break;
      OpenProcessBlock("stacks", *process);
      const json* threads = FindField(*process, "threads");
      if (threads == nullptr || !threads->is_array()) {
        AppendNotCaptured(*process, Requested("stacks") ? "stacks" : "threads");
      } else {
        std::vector<StackGroup> groups = GroupThreadsByStack(*threads);
        out_ += "<p class=\"note\">" + Plural(threads->size(), "thread", "threads") + " in " +
                Plural(groups.size(), "stack group", "stack groups") +
                ". Box width is proportional to the number of threads; the outermost frame is "
                "at the top.</p>\n";
        AppendFlame(*process, groups);
        AppendThreadGroups(groups);
        if (Requested("stacks")) {
          std::string reason =
              DegradedReason(snapshot_, IntField(*process, "pid").value_or(0), "stacks");
          if (!reason.empty()) {
            out_ += "<p class=\"missing\">Stacks: " + Escape(reason) + "</p>\n";
          }
        }
      }
      out_ += "</div>\n";
    }
    CloseSection();
  }

  void AppendFlame(const json& process, const std::vector<StackGroup>& groups) {
    FlameNode root;
    root.function = "all threads";
    for (const StackGroup& group : groups) {
      root.threads += group.threads.size();
      FlameNode* node = &root;
      if (group.frames == nullptr) {
        node = node->Child("(no stack)", "");
        node->threads += group.threads.size();
        continue;
      }
      for (auto frame = group.frames->rbegin(); frame != group.frames->rend(); ++frame) {
        node = node->Child(FrameIdentity(*frame), StringField(*frame, "module"));
        node->threads += group.threads.size();
      }
    }
    if (root.threads == 0) return;
    out_ += "<div class=\"flame\" id=\"flame-" +
            std::to_string(IntField(process, "pid").value_or(0)) + "\">";
    AppendFlameNode(root);
    out_ += "</div>\n";
  }

  void AppendFlameNode(const FlameNode& node) {
    out_ += "<div class=\"node\" style=\"flex:" + std::to_string(node.threads) + " " +
            std::to_string(node.threads) + " 0\">";
    std::string tooltip = node.function + (node.module.empty() ? "" : " (" + node.module + ")") +
                          ": " + Plural(node.threads, "thread", "threads");
    out_ += "<div class=\"box\" style=\"background:" + FlameColour(node.function) + "\" title=\"" +
            Escape(tooltip) + "\" data-threads=\"" + std::to_string(node.threads) + "\">" +
            Escape(node.function) + "</div>";
    if (!node.children.empty()) {
      std::vector<const FlameNode*> children;
      children.reserve(node.children.size());
      for (const auto& child : node.children) children.push_back(child.get());
      std::stable_sort(
          children.begin(), children.end(),
          [](const FlameNode* a, const FlameNode* b) { return a->threads > b->threads; });
      out_ += "<div class=\"kids\">";
      std::size_t covered = 0;
      for (const FlameNode* child : children) {
        AppendFlameNode(*child);
        covered += child->threads;
      }
      // Threads whose stack ends at this frame leave the rest of the width empty.
      if (covered < node.threads) {
        std::string rest = std::to_string(node.threads - covered);
        out_ += "<div class=\"gap\" style=\"flex:" + rest + " " + rest + " 0\"></div>";
      }
      out_ += "</div>";
    }
    out_ += "</div>";
  }

  void AppendThreadGroups(const std::vector<StackGroup>& groups) {
    for (const StackGroup& group : groups) {
      std::vector<std::string> names;
      names.reserve(group.threads.size());
      for (const json* thread : group.threads) names.push_back(ThreadLabel(*thread));
      std::vector<std::string> details;
      if (!group.states.empty()) details.push_back("state " + Join(group.states, "/"));
      if (!group.wchans.empty()) details.push_back("wchan " + Join(group.wchans, "/"));
      if (!group.unwind.empty()) details.push_back("unwound by " + group.unwind);
      out_ += "<div class=\"group\" data-threads=\"" + std::to_string(group.threads.size()) +
              "\"><div class=\"title\">" +
              Escape(Plural(group.threads.size(), "thread", "threads")) + "</div><div>" +
              Escape(Join(names, ", ")) + "</div>";
      if (!details.empty()) out_ += "<div class=\"note\">" + Escape(Join(details, ", ")) + "</div>";
      if (group.frames == nullptr) {
        if (Requested("stacks")) out_ += "<div class=\"missing\">No stack captured.</div>";
      } else if (group.frames->empty()) {
        out_ += "<div class=\"missing\">Stack captured, but no frame could be unwound.</div>";
      } else {
        out_ += "<ol class=\"frames\" start=\"0\">";
        for (const json& frame : *group.frames) {
          std::string symbol = StringField(frame, "symbol");
          out_ += "<li><span class=\"pc\">" + Escape(StringField(frame, "pc")) + "</span> " +
                  Escape(symbol.empty() ? "??" : FrameFunction(frame));
          if (std::string module = StringField(frame, "module"); !module.empty()) {
            out_ += " <span class=\"module\">from " + Escape(module) + "</span>";
          }
          out_ += "</li>";
        }
        out_ += "</ol>";
      }
      out_ += "</div>\n";
    }
  }

  void AppendFds() {
    OpenSection("fds", "Open files");
    if (SectionRequested("fds")) {
      for (const json* process : processes_) {
        OpenProcessBlock("fds", *process);
        const json* fds = FindField(*process, "fds");
        if (fds == nullptr || !fds->is_array()) {
          AppendNotCaptured(*process, "fds");
        } else {
          std::map<std::string, std::size_t> by_type;
          for (const json& fd : *fds) ++by_type[StringField(fd, "type")];
          std::vector<std::string> summary;
          summary.reserve(by_type.size());
          for (const auto& [type, count] : by_type) {
            summary.push_back((type.empty() ? "unknown" : type) + " " + std::to_string(count));
          }
          std::string count = ScalarText(FindField(*process, "fdCount"));
          out_ += "<p class=\"note\">" +
                  Escape(count.empty() ? std::to_string(fds->size()) : count) + " open" +
                  (summary.empty() ? "" : ": " + Escape(Join(summary, ", "))) + "</p>\n";
          HtmlTable table("fds-table-" + std::to_string(IntField(*process, "pid").value_or(0)),
                          {"FD", "TYPE", "TARGET"}, {true, false, false});
          for (const json& fd : *fds) {
            table.AddRow({IntCell(FindField(fd, "fd")), Cell{StringField(fd, "type"), ""},
                          Cell{StringField(fd, "target"), ""}});
          }
          table.AppendTo(out_);
        }
        out_ += "</div>\n";
      }
    }
    CloseSection();
  }

  void AppendSockets() {
    OpenSection("sockets", "Sockets");
    if (SectionRequested("sockets")) {
      for (const json* process : processes_) {
        OpenProcessBlock("sockets", *process);
        const json* sockets = FindField(*process, "sockets");
        if (sockets == nullptr || !sockets->is_array()) {
          AppendNotCaptured(*process, "sockets");
        } else if (sockets->empty()) {
          out_ += "<p class=\"note\">No sockets.</p>\n";
        } else {
          HtmlTable table("sockets-table-" + std::to_string(IntField(*process, "pid").value_or(0)),
                          {"FD", "PROTO", "LOCAL", "REMOTE", "STATE", "INODE"},
                          {true, false, false, false, false, true});
          for (const json& socket : *sockets) {
            std::string protocol = StringField(socket, "protocol");
            std::string local = StringField(socket, "local");
            if (protocol == "unix") {
              std::string type = StringField(socket, "type");
              if (!type.empty()) protocol += "/" + type;
              local = StringField(socket, "path");
              if (local.empty()) local = "(unbound)";
            }
            table.AddRow({IntCell(FindField(socket, "fd")), Cell{protocol, ""}, Cell{local, ""},
                          Cell{StringField(socket, "remote"), ""},
                          Cell{StringField(socket, "state"), ""},
                          IntCell(FindField(socket, "inode"))});
          }
          table.AppendTo(out_);
        }
        out_ += "</div>\n";
      }
    }
    CloseSection();
  }

  struct Bar {
    std::string label;
    std::int64_t bytes = 0;
    std::string detail;
  };

  // Horizontal bars, longest = full width, with the size and the label to the right of each bar.
  void AppendBarChart(const std::string& id, const std::string& title,
                      const std::vector<Bar>& bars) {
    if (bars.empty()) return;
    constexpr int kBarWidth = 360;
    constexpr int kRowHeight = 22;
    std::int64_t largest = 1;
    for (const Bar& bar : bars) largest = std::max(largest, bar.bytes);
    int height = static_cast<int>(bars.size()) * kRowHeight + 6;
    out_ += "<svg id=\"" + id + "\" class=\"chart\" width=\"960\" height=\"" +
            std::to_string(height) + "\" viewBox=\"0 0 960 " + std::to_string(height) +
            "\" role=\"img\" aria-label=\"" + Escape(title) + "\"><title>" + Escape(title) +
            "</title>";
    int y = 3;
    for (const Bar& bar : bars) {
      double fraction =
          static_cast<double>(std::max<std::int64_t>(bar.bytes, 0)) / static_cast<double>(largest);
      int width = std::max(2, static_cast<int>(fraction * kBarWidth));
      out_ += "<g><title>" + Escape(bar.label + ": " + FormatBytes(bar.bytes) + bar.detail) +
              "</title><rect class=\"bar\" x=\"0\" y=\"" + std::to_string(y) + "\" width=\"" +
              std::to_string(width) + "\" height=\"" + std::to_string(kRowHeight - 6) +
              "\" rx=\"2\"></rect><text x=\"" + std::to_string(width + 6) + "\" y=\"" +
              std::to_string(y + kRowHeight - 10) + "\">" +
              Escape(FormatBytes(bar.bytes) + "  " + bar.label + bar.detail) + "</text></g>";
      y += kRowHeight;
    }
    out_ += "</svg>\n";
  }

  void AppendMemory() {
    OpenSection("memory", "Memory map");
    if (SectionRequested("maps")) {
      for (const json* process : processes_) {
        OpenProcessBlock("memory", *process);
        const json* maps = ObjectField(*process, "maps");
        std::string pid = std::to_string(IntField(*process, "pid").value_or(0));
        if (maps == nullptr) {
          AppendNotCaptured(*process, "maps");
          out_ += "</div>\n";
          continue;
        }
        out_ += "<p class=\"note\">" + Escape(ScalarText(FindField(*maps, "count"))) +
                " mappings, " + Escape(OptionalBytes(IntField(*maps, "bytes"))) + "</p>\n";
        std::vector<Bar> kinds;
        if (const json* by_kind = ObjectField(*maps, "byKind"); by_kind != nullptr) {
          for (const auto& [kind, value] : by_kind->items()) {
            kinds.push_back({kind, IntField(value, "bytes").value_or(0),
                             " (" +
                                 Plural(static_cast<std::size_t>(std::max<std::int64_t>(
                                            IntField(value, "count").value_or(0), 0)),
                                        "mapping", "mappings") +
                                 ")"});
          }
        }
        std::stable_sort(kinds.begin(), kinds.end(),
                         [](const Bar& a, const Bar& b) { return a.bytes > b.bytes; });
        AppendBarChart("memory-chart-" + pid, "Mapped bytes by kind", kinds);
        const json& files = ArrayField(*maps, "files");
        if (!files.empty()) {
          out_ += "<h4>Mapped files</h4>\n";
          HtmlTable table("maps-files-" + pid, {"SIZE", "MAPPINGS", "PATH"}, {true, true, false});
          for (const json& file : files) {
            table.AddRow({BytesCell(IntField(file, "bytes")), IntCell(FindField(file, "count")),
                          Cell{StringField(file, "path"), ""}});
          }
          table.AppendTo(out_);
          if (const json* other = ObjectField(*maps, "otherFiles"); other != nullptr) {
            out_ += "<p class=\"note\">And " + Escape(ScalarText(FindField(*other, "files"))) +
                    " more files (" + Escape(OptionalBytes(IntField(*other, "bytes"))) + ").</p>\n";
          }
        }
        const json& largest = ArrayField(*maps, "largest");
        if (!largest.empty()) {
          out_ += "<h4>Largest mappings</h4>\n";
          HtmlTable table("maps-largest-" + pid, {"START", "END", "SIZE", "PERMS", "KIND", "PATH"},
                          {false, false, true, false, false, false});
          for (const json& mapping : largest) {
            std::string start = StringField(mapping, "start");
            table.AddRow(
                {Cell{start, start}, Cell{StringField(mapping, "end"), ""},
                 BytesCell(IntField(mapping, "bytes")), Cell{StringField(mapping, "perms"), ""},
                 Cell{StringField(mapping, "kind"), ""}, Cell{StringField(mapping, "path"), ""}});
          }
          table.AppendTo(out_);
        }
        out_ += "</div>\n";
      }
    }
    CloseSection();
  }

  void AppendCgroup() {
    OpenSection("cgroup", "CPU and memory (cgroup)");
    if (SectionRequested("cgroup")) {
      for (const json* process : processes_) {
        OpenProcessBlock("cgroup", *process);
        const json* cgroup = ObjectField(*process, "cgroup");
        if (cgroup == nullptr) {
          AppendNotCaptured(*process, "cgroup");
          out_ += "</div>\n";
          continue;
        }
        Facts facts;
        facts.Add("Cgroup", "v" + ScalarText(FindField(*cgroup, "version")) + ", read from the " +
                                StringField(*cgroup, "source") + "'s view");
        facts.Add("CPU path", StringField(*cgroup, "cpuPath"));
        facts.Add("Memory path", StringField(*cgroup, "memoryPath"));
        if (auto usage = IntField(*cgroup, "cpuUsageNanos"); usage.has_value()) {
          facts.Add("CPU used", FormatMicros(*usage / 1000));
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
          facts.Add("CPU quota", text);
        }
        auto periods = IntField(*cgroup, "nrPeriods");
        auto throttled = IntField(*cgroup, "nrThrottled");
        if (periods.has_value() && throttled.has_value()) {
          std::string text =
              std::to_string(*throttled) + " of " + std::to_string(*periods) + " periods";
          if (auto nanos = IntField(*cgroup, "throttledNanos"); nanos.has_value()) {
            text += ", " + FormatMicros(*nanos / 1000) + " in total";
          }
          facts.Add("Throttled", text);
        }
        const json* limit = FindField(*cgroup, "memoryLimitBytes");
        std::string limit_text = limit != nullptr && limit->is_number_integer()
                                     ? FormatBytes(limit->get<std::int64_t>())
                                     : ScalarText(limit);
        facts.Add("Memory", OptionalBytes(IntField(*cgroup, "memoryUsageBytes")) + " used, limit " +
                                (limit_text.empty() ? "-" : limit_text));
        facts.AppendTo(out_);
        std::string reason =
            DegradedReason(snapshot_, IntField(*process, "pid").value_or(0), "cgroup");
        if (!reason.empty()) out_ += "<p class=\"missing\">" + Escape(reason) + "</p>\n";
        out_ += "</div>\n";
      }
    }
    CloseSection();
  }

  void AppendLimits() {
    OpenSection("limits", "Limits");
    if (SectionRequested("limits")) {
      for (const json* process : processes_) {
        OpenProcessBlock("limits", *process);
        const json* limits = FindField(*process, "limits");
        if (limits == nullptr || !limits->is_array()) {
          AppendNotCaptured(*process, "limits");
        } else {
          HtmlTable table("limits-table-" + std::to_string(IntField(*process, "pid").value_or(0)),
                          {"LIMIT", "SOFT", "HARD", "UNITS"}, {false, true, true, false});
          for (const json& limit : *limits) {
            table.AddRow({Cell{StringField(limit, "name"), ""}, IntCell(FindField(limit, "soft")),
                          IntCell(FindField(limit, "hard")),
                          Cell{StringField(limit, "units"), ""}});
          }
          table.AppendTo(out_);
        }
        out_ += "</div>\n";
      }
    }
    CloseSection();
  }

  void AppendEnv() {
    OpenSection("env", "Environment");
    if (SectionRequested("env")) {
      out_ +=
          "<p class=\"note\">Values as the tool recorded them: only safe or allowed names "
          "keep their value.</p>\n";
      for (const json* process : processes_) {
        OpenProcessBlock("env", *process);
        const json* env = FindField(*process, "env");
        if (env == nullptr || !env->is_array()) {
          AppendNotCaptured(*process, "env");
        } else {
          HtmlTable table("env-table-" + std::to_string(IntField(*process, "pid").value_or(0)),
                          {"NAME", "VALUE"}, {false, false});
          for (const json& variable : *env) {
            const json* value = FindField(variable, "value");
            table.AddRow(
                {Cell{StringField(variable, "name"), ""},
                 Cell{value != nullptr ? ScalarText(value) : "(dropped: redaction failed)", ""}});
          }
          table.AppendTo(out_);
        }
        out_ += "</div>\n";
      }
    }
    CloseSection();
  }

  void AppendRedaction() {
    OpenSection("redaction", "Redaction");
    const json* redaction = ObjectField(snapshot_, "redaction");
    if (redaction == nullptr) {
      out_ += "<p class=\"missing\">No redaction report in the document.</p>\n";
      CloseSection();
      return;
    }
    Facts facts;
    if (const json* pii = FindField(*redaction, "pii")) {
      facts.Add("Personal data", PiiModeText(ScalarText(pii)));
    }
    facts.Add("Environment values",
              ScalarText(FindField(*redaction, "envRedacted")) + " replaced by [REDACTED]");
    facts.AppendTo(out_);
    const json* patterns = ObjectField(*redaction, "patternsMatched");
    if (patterns == nullptr || patterns->empty()) {
      out_ += "<p class=\"note\">No secret pattern matched in free text.</p>\n";
    } else {
      out_ += "<p class=\"note\">Matches in free text, replaced by [REDACTED:&lt;rule&gt;]:</p>\n";
      HtmlTable table("redaction-rules", {"RULE", "MATCHES"}, {false, true});
      for (const auto& [rule, count] : patterns->items()) {
        table.AddRow({Cell{rule, ""}, IntCell(&count)});
      }
      table.AppendTo(out_);
    }
    const json& dropped = ArrayField(*redaction, "droppedFields");
    if (dropped.empty()) {
      out_ += "<p class=\"note\">No field was dropped (the redactor never failed).</p>\n";
    } else {
      out_ +=
          "<p class=\"missing\">Fields left out because the redactor failed on them:</p><ul "
          "id=\"dropped-fields\">";
      for (const json& field : dropped) {
        out_ += "<li class=\"mono\">" + Escape(ScalarText(&field)) + "</li>";
      }
      out_ += "</ul>\n";
    }
    CloseSection();
  }

  void AppendDegraded() {
    OpenSection("degraded", "Degraded");
    const json& degraded = ArrayField(snapshot_, "degraded");
    if (degraded.empty()) {
      out_ += "<p class=\"note\">Nothing: every requested section was captured.</p>\n";
    } else {
      HtmlTable table("degraded-table", {"SECTION", "PID", "TID", "REASON"},
                      {false, true, true, false});
      for (const json& entry : degraded) {
        table.AddRow({Cell{StringField(entry, "section"), ""}, IntCell(FindField(entry, "pid")),
                      IntCell(FindField(entry, "tid")), Cell{StringField(entry, "reason"), ""}});
      }
      table.AppendTo(out_);
    }
    CloseSection();
  }

  void AppendOverhead() {
    OpenSection("overhead", "Overhead");
    const json* overhead = ObjectField(snapshot_, "overhead");
    if (overhead == nullptr) {
      out_ += "<p class=\"missing\">No overhead figures in the document.</p>\n";
      CloseSection();
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
    Facts facts;
    facts.Add("Target frozen, total", micros("targetFreezeMicros"));
    facts.Add("Longest single-thread freeze", micros("targetMaxThreadFreezeMicros"));
    facts.Add("Tool CPU", millis("toolCpuMillis"));
    auto rss = IntField(*overhead, "toolMaxRssKiB");
    facts.Add("Tool peak RSS", rss.has_value() ? FormatBytes(*rss * 1024) : "-");
    facts.Add("Wall time", millis("wallMillis"));
    facts.AppendTo(out_);
    // Per-thread freezes, longest first, when stacks were captured.
    HtmlTable table("freeze-table", {"PID", "TID", "THREAD", "FROZEN us", "UNWIND"},
                    {true, true, false, true, false});
    for (const json* process : processes_) {
      for (const json& thread : ArrayField(*process, "threads")) {
        const json* stack = ObjectField(thread, "stack");
        if (stack == nullptr) continue;
        table.AddRow({IntCell(FindField(*process, "pid")), IntCell(FindField(thread, "tid")),
                      Cell{StringField(thread, "name"), ""},
                      IntCell(FindField(*stack, "freezeMicros")),
                      Cell{StringField(*stack, "unwind"), ""}});
      }
    }
    if (!table.IsEmpty()) {
      out_ += "<h4>Freeze per thread</h4>\n";
      table.AppendTo(out_);
    }
    CloseSection();
  }

  const json& snapshot_;
  const ReportContext& context_;
  std::set<std::string> requested_;
  std::vector<const json*> processes_;
  std::string out_;
};

}  // namespace

StatusOr<std::string> RenderHtml(const json& snapshot, const ReportContext& context) {
  return RenderValidated(snapshot, [&] { return HtmlReport(snapshot, context).Render(); });
}

}  // namespace ephemera::report
