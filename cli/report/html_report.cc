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
#include "cli/report/report_model.h"

namespace ephemera::report {
namespace {

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
ul.findings { list-style: none; padding: 0; margin: 6px 0; }
ul.findings li { border-left: 3px solid #b3402f; padding: 2px 0 2px 10px; margin: 8px 0; }
ul.findings .title { font-weight: 600; }
ul.findings li.critical { border-left-width: 6px; background: #fbeeec; }
.deadlock { border-left: 6px solid #b3402f; background: #fbeeec; padding: 4px 10px; margin: 8px 0; }
.deadlock .title { font-weight: 600; }
ol.frames .lock { color: #8a4b00; padding-left: 1.5em; }
details > summary { cursor: pointer; color: var(--accent); margin: 8px 0; }
pre.log { max-height: 40em; overflow-y: auto; }
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

Cell ValueCell(const SnapshotValue& value) { return Cell{value.text, value.text}; }

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
  HtmlReport(const ReportModel& model, const ReportOptions& options)
      : model_(model), options_(options) {}

  std::string Render() {
    out_ += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    // Nothing may be fetched: no network, no other file. Inline style and script only.
    out_ +=
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
        "base-uri 'none'; form-action 'none'\">\n";
    out_ += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out_ += "<meta name=\"referrer\" content=\"no-referrer\">\n";
    out_ += "<title>" + Escape(model_.header.title) + "</title>\n<style>";
    out_ += kStyle;
    out_ += "</style></head>\n<body>\n";
    AppendHeader();
    AppendFindings();
    AppendSummary();
    AppendStacks();
    AppendPerProcess("fds", "Open files", &ProcessModel::fds, &HtmlReport::AppendFds);
    AppendPerProcess("sockets", "Sockets", &ProcessModel::sockets, &HtmlReport::AppendSockets);
    AppendPerProcess("memory", "Memory map", &ProcessModel::maps, &HtmlReport::AppendMaps, "maps");
    AppendPerProcess("cgroup", "CPU and memory (cgroup)", &ProcessModel::cgroup,
                     &HtmlReport::AppendCgroup);
    AppendPerProcess("limits", "Limits", &ProcessModel::limits, &HtmlReport::AppendLimits);
    AppendPerProcess("env", "Environment", &ProcessModel::env, &HtmlReport::AppendEnv, "",
                     "Values as the tool recorded them: only safe or allowed names keep their "
                     "value.");
    AppendEvidence();
    AppendLogs();
    AppendRedaction();
    AppendDegraded();
    AppendOverhead();
    out_ += "<script>";
    out_ += kScript;
    out_ += "</script>\n</body></html>\n";
    return std::move(out_);
  }

 private:
  void OpenSection(std::string_view id, std::string_view title) {
    out_ += "<section id=\"" + std::string(id) + "\"><h2>" + std::string(title) + "</h2>\n";
  }

  void CloseSection() { out_ += "</section>\n"; }

  // Per-process block inside a section: <div id="<section>-<pid>"> with the process as heading.
  void OpenProcessBlock(std::string_view section, const ProcessModel& process) {
    std::string label = "Process " + std::to_string(process.pid);
    if (!process.name.empty()) label += " " + process.name;
    out_ += "<div class=\"proc\" id=\"" + std::string(section) + "-" + std::to_string(process.pid) +
            "\"><h3>" + Escape(label) + "</h3>\n";
  }

  void AppendNotCaptured(const std::string& reason) {
    out_ += "<p class=\"missing\">Not captured" + (reason.empty() ? "" : ": " + Escape(reason)) +
            "</p>\n";
  }

  // A section with one block per process: "Not requested" when --capture left it out, else each
  // process's content through `append`, or why it is missing. `name` is the section's name in the
  // document when it differs from the element id; `note` comes before the processes.
  template <typename T>
  void AppendPerProcess(std::string_view id, std::string_view title,
                        SectionModel<T> ProcessModel::*member,
                        void (HtmlReport::*append)(const ProcessModel&, const T&),
                        std::string_view name = {}, std::string_view note = {}) {
    OpenSection(id, title);
    std::string section(name.empty() ? id : name);
    if (!model_.Requested(section)) {
      out_ += "<p class=\"note\">Not requested (--capture did not include " + section + ").</p>\n";
    } else {
      if (!note.empty()) out_ += "<p class=\"note\">" + std::string(note) + "</p>\n";
      for (const ProcessModel& process : model_.processes) {
        OpenProcessBlock(id, process);
        const SectionModel<T>& part = process.*member;
        if (part.content.has_value()) {
          (this->*append)(process, *part.content);
        } else {
          AppendNotCaptured(part.degraded_reason);
        }
        out_ += "</div>\n";
      }
    }
    CloseSection();
  }

  void AppendHeader() {
    const HeaderModel& header = model_.header;
    out_ += "<header id=\"header\"><h1>Ephemera snapshot report</h1>\n";
    Facts facts;
    facts.Add("Session", header.session);
    facts.Add("Requester", header.requester);
    facts.Add("Reason", header.reason);
    facts.Add("Target", header.target);
    facts.Add("Captured at", header.captured_at);
    facts.Add("Schema", header.schema);
    facts.Add("Tool", header.tool.value_or(""));
    facts.Add("Targets", header.targets.value_or(""));
    facts.Add("Sections", header.sections);
    facts.Add("Degraded", header.degraded);
    facts.AppendTo(out_);
    out_ +=
        "<nav><a href=\"#findings\">Findings</a><a href=\"#summary\">Processes</a><a "
        "href=\"#stacks\">Stacks</a>"
        "<a href=\"#fds\">Files</a><a href=\"#sockets\">Sockets</a><a href=\"#memory\">Memory</a>"
        "<a href=\"#cgroup\">CPU</a><a href=\"#limits\">Limits</a><a href=\"#env\">Environment</a>"
        "<a href=\"#evidence\">Evidence</a><a href=\"#logs\">Logs</a>"
        "<a href=\"#redaction\">Redaction</a><a href=\"#degraded\">Degraded</a>"
        "<a href=\"#overhead\">Overhead</a></nav>\n</header>\n";
  }

  void AppendFindings() {
    OpenSection("findings", "Findings");
    const FindingsModel& findings = model_.findings;
    if (findings.findings.empty()) {
      out_ +=
          "<p class=\"note\">None: no figure in the snapshot crossed a threshold (docs/cli.md, "
          "Findings).</p>\n";
    } else {
      out_ += "<ul class=\"findings\">";
      for (const Finding& finding : findings.findings) {
        out_ += "<li data-kind=\"" + Escape(finding.kind) + "\"" +
                (finding.critical ? " class=\"critical\"><div class=\"title\">Critical: "
                                  : "><div class=\"title\">") +
                Escape(finding.title) +
                "</div><div class=\"note\">Evidence: " + Escape(finding.evidence) + "</div></li>";
      }
      out_ += "</ul>\n";
      if (findings.left_out > 0) {
        out_ += "<p class=\"note\">And " +
                Escape(Plural(findings.left_out, "more finding", "more findings")) + ".</p>\n";
      }
    }
    CloseSection();
  }

  void AppendErrors(const std::vector<std::string>& errors) {
    for (const std::string& error : errors) {
      out_ += "<p class=\"missing\">Unreadable: " + Escape(error) + "</p>\n";
    }
  }

  void AppendEvidence() {
    OpenSection("evidence", "Evidence (network namespace and cgroup of the main target)");
    const bool network = model_.Requested("sockets");
    const bool cgroup = model_.Requested("cgroup");
    if (!network && !cgroup) {
      out_ +=
          "<p class=\"note\">Not requested (--capture included neither sockets nor cgroup).</p>\n";
    } else if (!model_.evidence.has_value()) {
      AppendNotCaptured("");
    } else {
      if (network) AppendNetworkEvidence(model_.evidence->network);
      if (cgroup) {
        AppendPressureEvidence(model_.evidence->pressure);
        AppendMemoryEvidence(model_.evidence->memory);
      }
    }
    CloseSection();
  }

  void AppendNetworkEvidence(const std::optional<api::SnapshotNetworkEvidence>& network) {
    out_ += "<h3>Network counters</h3>\n";
    if (!network.has_value()) {
      AppendNotCaptured("");
      return;
    }
    if (network->counters.has_value()) {
      out_ +=
          "<p class=\"note\">Since the network namespace was created (every container of the "
          "pod).</p>\n";
      HtmlTable table("network-counters", {"COUNTER", "KERNEL", "VALUE"}, {false, false, true});
      for (const api::SnapshotNetworkCounter& counter : *network->counters) {
        std::string value = std::to_string(counter.value);
        table.AddRow({Cell{std::string(counter.field), ""}, Cell{std::string(counter.kernel), ""},
                      Cell{value, value}});
      }
      table.AppendTo(out_);
    } else {
      out_ += "<p class=\"missing\">No counters could be read.</p>\n";
    }
    out_ += "<h3>Listeners</h3>\n<p class=\"note\">Accept-queue limit: " +
            (network->somaxconn.has_value()
                 ? "at most " + std::to_string(*network->somaxconn) + " (somaxconn)"
                 : std::string("unknown")) +
            (network->listeners_truncated ? "; the list was cut short" : "") + ".</p>\n";
    HtmlTable table("listeners", {"PROTO", "LOCAL", "ACCEPT QUEUE"}, {false, false, true});
    for (const api::SnapshotListener& listener : network->listeners) {
      std::string queue =
          listener.accept_queue.has_value() ? std::to_string(*listener.accept_queue) : "-";
      table.AddRow({Cell{listener.protocol, ""}, Cell{listener.local, ""}, Cell{queue, queue}});
    }
    if (!table.IsEmpty()) table.AppendTo(out_);
    AppendErrors(network->errors);
  }

  void AppendPressureEvidence(const std::optional<api::SnapshotPressureEvidence>& pressure) {
    out_ += "<h3>Pressure stall</h3>\n";
    if (!pressure.has_value()) {
      AppendNotCaptured("");
      return;
    }
    out_ += "<p class=\"note\">Share of time stalled, % (avg10 / avg60 / avg300), " +
            std::string(pressure->source == "cgroup"   ? "of the target's cgroup"
                        : pressure->source == "system" ? "of the whole machine (/proc/pressure)"
                                                       : "from no readable source") +
            ".</p>\n";
    HtmlTable table("pressure", {"RESOURCE", "SOME", "FULL"}, {false, false, false});
    const std::pair<const char*, const std::optional<api::SnapshotPressure>*> rows[] = {
        {"cpu", &pressure->cpu}, {"memory", &pressure->memory}, {"io", &pressure->io}};
    for (const auto& [name, value] : rows) {
      if (!value->has_value()) continue;
      table.AddRow({Cell{name, ""}, Cell{FormatPressureLine((*value)->some), ""},
                    Cell{FormatPressureLine((*value)->full), ""}});
    }
    if (!table.IsEmpty()) table.AppendTo(out_);
    AppendErrors(pressure->errors);
  }

  void AppendMemoryEvidence(const std::optional<api::SnapshotMemoryEvidence>& memory) {
    out_ += "<h3>Memory cgroup events</h3>\n";
    if (!memory.has_value()) {
      AppendNotCaptured("");
      return;
    }
    auto number = [](const std::optional<std::int64_t>& value) {
      std::string text = value.has_value() ? std::to_string(*value) : "-";
      return Cell{text, value.has_value() ? text : ""};
    };
    Facts facts;
    facts.Add("Cgroup", memory->cgroup_version.present
                            ? "v" + memory->cgroup_version.text + " " + memory->cgroup_path
                            : memory->cgroup_path);
    facts.AppendTo(out_);
    if (memory->events.has_value()) {
      const api::SnapshotMemoryEvents& e = *memory->events;
      HtmlTable table("memory-events", {"LOW", "HIGH", "MAX", "OOM", "OOM_KILL", "OOM_GROUP_KILL"},
                      {true, true, true, true, true, true});
      table.AddRow({number(e.low), number(e.high), number(e.max), number(e.oom), number(e.oom_kill),
                    number(e.oom_group_kill)});
      table.AppendTo(out_);
    }
    if (memory->oom_control.has_value()) {
      auto flag = [](const std::optional<bool>& value) {
        return Cell{value.has_value() ? (*value ? "1" : "0") : "-", ""};
      };
      HtmlTable table("memory-oom-control",
                      {"OOM_KILL_DISABLE", "UNDER_OOM", "OOM_KILL", "FAILCNT"},
                      {true, true, true, true});
      table.AddRow({flag(memory->oom_control->oom_kill_disable),
                    flag(memory->oom_control->under_oom), number(memory->oom_control->oom_kill),
                    number(memory->failcnt)});
      table.AppendTo(out_);
    }
    AppendErrors(memory->errors);
  }

  void AppendLogs() {
    OpenSection("logs", "Logs");
    if (!model_.logs_requested && !model_.logs.has_value()) {
      out_ += "<p class=\"note\">Not requested (--capture did not include logs).</p>\n";
      CloseSection();
      return;
    }
    if (!model_.logs.has_value()) {
      AppendNotCaptured("");
      CloseSection();
      return;
    }
    const LogsModel& logs = *model_.logs;
    Facts facts;
    facts.Add("Container", logs.container);
    facts.Add("Limits", logs.limits);
    facts.AppendTo(out_);
    std::size_t index = 0;
    for (const LogInstanceModel& instance : logs.instances) {
      out_ += "<div class=\"proc\" id=\"logs-" + std::to_string(index++) + "\"><h3>" +
              Escape(instance.title) + "</h3>\n";
      if (!instance.summary.empty()) {
        out_ += "<p class=\"note\">" + Escape(instance.summary) + "</p>\n";
      }
      if (instance.termination.has_value()) {
        out_ += "<p>Terminated: " + Escape(*instance.termination) + "</p>\n";
      }
      if (instance.error.has_value()) {
        out_ += "<p class=\"missing\">Not read: " + Escape(*instance.error) + "</p>\n";
      }
      if (!instance.lines.empty()) {
        out_ += "<pre class=\"log\">";
        for (const std::string& line : instance.lines) out_ += Escape(line) + "\n";
        out_ += "</pre>\n";
      }
      if (instance.lines_left_out > 0) {
        out_ += "<p class=\"note\">And " +
                Escape(Plural(instance.lines_left_out, "more line", "more lines")) +
                " in the document.</p>\n";
      }
      out_ += "</div>\n";
    }
    CloseSection();
  }

  void AppendSummary() {
    OpenSection("summary", "Processes");
    if (model_.processes.empty()) {
      out_ +=
          "<p class=\"missing\">No process was captured; see <a href=\"#degraded\">Degraded"
          "</a>.</p>\n";
    }
    HtmlTable table("processes",
                    {"PID", "PPID", "NAME", "STATE", "THREADS", "RSS", "USER CPU ms",
                     "SYSTEM CPU ms", "FDS", "COMMAND"},
                    {true, true, false, false, true, true, true, true, true, false});
    for (const ProcessModel& process : model_.processes) {
      std::string pid = std::to_string(process.pid);
      table.AddRow(
          {Cell{pid, pid}, ValueCell(process.ppid), Cell{process.name, ""},
           Cell{process.state_letter, ""}, ValueCell(process.thread_count),
           BytesCell(process.rss_bytes),
           ValueCell(process.cpu.has_value() ? process.cpu->user_millis : SnapshotValue{}),
           ValueCell(process.cpu.has_value() ? process.cpu->system_millis : SnapshotValue{}),
           ValueCell(process.fd_count), Cell{process.cmdline.value_or(""), ""}});
    }
    if (!table.IsEmpty()) table.AppendTo(out_);
    AppendProcessTree();
    for (const ProcessModel& process : model_.processes) AppendProcessFacts(process);
    CloseSection();
  }

  void AppendProcessTree() {
    if (!model_.process_tree.has_value()) return;
    out_ += "<h3>Process tree</h3>\n<ul class=\"tree mono\" id=\"process-tree\">";
    for (const TreeNode& root : *model_.process_tree) AppendTreeNode(root);
    out_ += "</ul>\n";
  }

  void AppendTreeNode(const TreeNode& node) {
    out_ += "<li>" + std::to_string(node.pid) + " " + Escape(node.name);
    if (!node.children.empty()) {
      out_ += "<ul>";
      for (const TreeNode& child : node.children) AppendTreeNode(child);
      out_ += "</ul>";
    }
    out_ += "</li>";
  }

  void AppendProcessFacts(const ProcessModel& process) {
    OpenProcessBlock("process", process);
    Facts facts;
    facts.Add("State", process.state);
    facts.Add("Threads", process.thread_count.text);
    if (process.memory.has_value()) {
      facts.Add("Memory", "RSS " + process.memory->rss + ", peak " + process.memory->peak +
                              ", virtual " + process.memory->virtual_size);
    }
    if (process.cpu.has_value()) {
      facts.Add("CPU", "user " + process.cpu->user_millis.text + " ms, system " +
                           process.cpu->system_millis.text + " ms");
    }
    facts.Add("Context switches", process.switches.value_or(""));
    if (process.uids.has_value()) {
      facts.Add("UIDs",
                "real " + process.uids->real.text + ", effective " + process.uids->effective.text);
    }
    facts.Add("Capabilities", process.capabilities.value_or(""));
    facts.Add("I/O", process.io.value_or(""));
    facts.Add("Open fds", process.fds_vs_limit.value_or(""));
    facts.AppendTo(out_);
    if (process.blocked_threads.has_value() && !process.blocked_threads->empty()) {
      out_ += "<h4>Blocked threads (state D)</h4>\n";
      HtmlTable table("blocked-" + std::to_string(process.pid), {"TID", "NAME", "WCHAN"},
                      {true, false, false});
      for (const api::SnapshotBlockedThread& thread : *process.blocked_threads) {
        table.AddRow({ValueCell(thread.tid), Cell{thread.name, ""}, Cell{thread.wchan, ""}});
      }
      table.AppendTo(out_);
    }
    if (process.cmdline.has_value()) {
      out_ += "<pre class=\"cmdline\">" + Escape(*process.cmdline) + "</pre>\n";
    }
    out_ += "</div>\n";
  }

  void AppendStacks() {
    OpenSection("stacks", "Threads and stacks");
    if (!model_.threads_requested) {
      out_ +=
          "<p class=\"note\">Not requested (--capture included neither threads nor "
          "stacks).</p>\n";
    }
    for (const ProcessModel& process : model_.processes) {
      if (!model_.threads_requested) break;
      OpenProcessBlock("stacks", process);
      if (process.runtime.has_value()) AppendRuntime(process, *process.runtime);
      const SectionModel<ThreadsModel>& threads = process.threads;
      if (!threads.content.has_value()) {
        AppendNotCaptured(threads.degraded_reason);
      } else {
        const std::vector<StackGroup>& groups = threads.content->groups;
        const std::vector<StackGroup>& runtime_groups = threads.content->runtime_groups;
        out_ += "<p class=\"note\">" + Plural(threads.content->thread_count, "thread", "threads") +
                " in " +
                Plural(groups.size() + runtime_groups.size(), "stack group", "stack groups") +
                ". Box width is proportional to the number of threads; the outermost frame is "
                "at the top.</p>\n";
        AppendFlame(process, groups);
        AppendThreadGroups(groups);
        if (!runtime_groups.empty()) AppendRuntimeNatives(process, *threads.content);
        if (model_.stacks_requested && !threads.degraded_reason.empty()) {
          out_ += "<p class=\"missing\">Stacks: " + Escape(threads.degraded_reason) + "</p>\n";
        }
      }
      out_ += "</div>\n";
    }
    CloseSection();
  }

  // Language-level stacks: deadlocks first, then the groups, largest first (as listed).
  void AppendRuntime(const ProcessModel& process, const RuntimeModel& runtime) {
    out_ += "<div class=\"runtime\" id=\"runtime-" + std::to_string(process.pid) + "\"><h4>" +
            Escape(runtime.title) + "</h4>\n";
    for (const DeadlockModel& deadlock : runtime.deadlocks) {
      out_ +=
          "<div class=\"deadlock\"><div class=\"title\">" + Escape(deadlock.title) + "</div><pre>";
      for (const std::string& line : deadlock.description) out_ += Escape(line) + "\n";
      out_ += "</pre></div>\n";
    }
    for (const RuntimeGroupModel& group : runtime.groups) {
      std::vector<std::string> members = group.members;
      if (group.members_left_out > 0) {
        members.push_back("… " + std::to_string(group.members_left_out) + " more");
      }
      out_ += "<div class=\"group\" data-members=\"" + std::to_string(group.count) +
              "\"><div class=\"title\">" + Escape(group.heading) + "</div><div>" +
              Escape(Join(members, ", ")) + "</div><ol class=\"frames\" start=\"0\">";
      for (const RuntimeFrameModel& frame : group.frames) {
        out_ += "<li>" + Escape(frame.function);
        if (!frame.location.empty()) {
          out_ += " <span class=\"module\">" + Escape(frame.location) + "</span>";
        }
        for (const std::string& lock : frame.locks) {
          out_ += "<div class=\"lock\">" + Escape(lock) + "</div>";
        }
        out_ += "</li>";
      }
      out_ += "</ol>";
      if (group.frames_truncated) out_ += "<div class=\"note\">Deeper frames not captured.</div>";
      out_ += "</div>\n";
    }
    if (runtime.groups_omitted > 0) {
      out_ +=
          "<p class=\"note\">And " +
          Plural(static_cast<std::size_t>(runtime.groups_omitted), "more group", "more groups") +
          " not in the document (smaller ones).</p>\n";
    }
    out_ += "</div>\n";
  }

  // The native stacks of threads that also run a language-level stack, collapsed unless asked for.
  void AppendRuntimeNatives(const ProcessModel& process, const ThreadsModel& threads) {
    const std::string language = process.runtime.has_value() ? process.runtime->language : "";
    out_ += "<details id=\"native-" + std::to_string(process.pid) + "\"" +
            (options_.native_frames ? " open" : "") + "><summary>Native stacks of " +
            Escape(Plural(threads.runtime_thread_count, "thread", "threads") + " with a " +
                   language + " stack") +
            "</summary>\n";
    AppendThreadGroups(threads.runtime_groups);
    out_ += "</details>\n";
  }

  void AppendFlame(const ProcessModel& process, const std::vector<StackGroup>& groups) {
    FlameNode root;
    root.function = "all threads";
    for (const StackGroup& group : groups) {
      std::size_t threads = group.thread_labels.size();
      root.threads += threads;
      FlameNode* node = &root;
      if (!group.has_stack) {
        node = node->Child("(no stack)", "");
        node->threads += threads;
        continue;
      }
      for (auto frame = group.frames.rbegin(); frame != group.frames.rend(); ++frame) {
        node = node->Child(frame->identity, frame->module);
        node->threads += threads;
      }
    }
    if (root.threads == 0) return;
    out_ += "<div class=\"flame\" id=\"flame-" + std::to_string(process.pid) + "\">";
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
      std::vector<std::string> details;
      if (!group.states.empty()) details.push_back("state " + Join(group.states, "/"));
      if (!group.wchans.empty()) details.push_back("wchan " + Join(group.wchans, "/"));
      if (!group.unwind.empty()) details.push_back("unwound by " + group.unwind);
      std::size_t threads = group.thread_labels.size();
      out_ += "<div class=\"group\" data-threads=\"" + std::to_string(threads) +
              "\"><div class=\"title\">" + Escape(Plural(threads, "thread", "threads")) +
              "</div><div>" + Escape(Join(group.thread_labels, ", ")) + "</div>";
      if (!details.empty()) out_ += "<div class=\"note\">" + Escape(Join(details, ", ")) + "</div>";
      if (!group.has_stack) {
        if (model_.stacks_requested) out_ += "<div class=\"missing\">No stack captured.</div>";
      } else if (group.frames.empty()) {
        out_ += "<div class=\"missing\">Stack captured, but no frame could be unwound.</div>";
      } else {
        out_ += "<ol class=\"frames\" start=\"0\">";
        for (const FrameModel& frame : group.frames) {
          out_ +=
              "<li><span class=\"pc\">" + Escape(frame.pc) + "</span> " + Escape(frame.function);
          if (!frame.module.empty()) {
            out_ += " <span class=\"module\">from " + Escape(frame.module) + "</span>";
          }
          out_ += "</li>";
        }
        out_ += "</ol>";
      }
      out_ += "</div>\n";
    }
  }

  void AppendFds(const ProcessModel& process, const FdsModel& fds) {
    std::vector<std::string> summary;
    summary.reserve(fds.by_type.size());
    for (const auto& [type, count] : fds.by_type) {
      summary.push_back(type + " " + std::to_string(count));
    }
    out_ += "<p class=\"note\">" + Escape(fds.count) + " open" +
            (summary.empty() ? "" : ": " + Escape(Join(summary, ", "))) + "</p>\n";
    HtmlTable table("fds-table-" + std::to_string(process.pid), {"FD", "TYPE", "TARGET"},
                    {true, false, false});
    for (const api::SnapshotFd& fd : fds.fds) {
      table.AddRow({ValueCell(fd.fd), Cell{fd.type, ""}, Cell{fd.target, ""}});
    }
    table.AppendTo(out_);
  }

  void AppendSockets(const ProcessModel& process, const std::vector<SocketModel>& sockets) {
    if (sockets.empty()) {
      out_ += "<p class=\"note\">No sockets.</p>\n";
      return;
    }
    HtmlTable table(
        "sockets-table-" + std::to_string(process.pid),
        {"FD", "PROTO", "LOCAL", "REMOTE", "STATE", "INODE", "SEND-Q", "RECV-Q", "ACCEPT-Q"},
        {true, false, false, false, false, true, true, true, true});
    for (const SocketModel& socket : sockets) {
      table.AddRow({ValueCell(socket.fd), Cell{socket.protocol, ""}, Cell{socket.local, ""},
                    Cell{socket.remote, ""}, Cell{socket.state, ""}, ValueCell(socket.inode),
                    Cell{socket.send_queue, socket.send_queue},
                    Cell{socket.receive_queue, socket.receive_queue},
                    Cell{socket.accept_queue, socket.accept_queue}});
    }
    table.AppendTo(out_);
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

  void AppendMaps(const ProcessModel& process, const MapsModel& maps) {
    std::string pid = std::to_string(process.pid);
    out_ +=
        "<p class=\"note\">" + Escape(maps.count) + " mappings, " + Escape(maps.bytes) + "</p>\n";
    std::vector<Bar> kinds;
    for (const auto& kind : maps.by_kind.value_or(std::vector<api::SnapshotMapKind>{})) {
      std::size_t count =
          static_cast<std::size_t>(std::max<std::int64_t>(kind.count.integer.value_or(0), 0));
      kinds.push_back(
          {kind.kind, kind.bytes.value_or(0), " (" + Plural(count, "mapping", "mappings") + ")"});
    }
    AppendBarChart("memory-chart-" + pid, "Mapped bytes by kind", kinds);
    if (!maps.files.empty()) {
      out_ += "<h4>Mapped files</h4>\n";
      HtmlTable table("maps-files-" + pid, {"SIZE", "MAPPINGS", "PATH"}, {true, true, false});
      for (const auto& file : maps.files) {
        table.AddRow({BytesCell(file.bytes), ValueCell(file.count), Cell{file.path, ""}});
      }
      table.AppendTo(out_);
      if (maps.other_files.has_value()) {
        out_ += "<p class=\"note\">And " + Escape(maps.other_files->files.text) + " more files (" +
                Escape(OptionalBytes(maps.other_files->bytes)) + ").</p>\n";
      }
    }
    if (!maps.largest.empty()) {
      out_ += "<h4>Largest mappings</h4>\n";
      HtmlTable table("maps-largest-" + pid, {"START", "END", "SIZE", "PERMS", "KIND", "PATH"},
                      {false, false, true, false, false, false});
      for (const auto& mapping : maps.largest) {
        table.AddRow({Cell{mapping.start, mapping.start}, Cell{mapping.end, ""},
                      BytesCell(mapping.bytes), Cell{mapping.perms, ""}, Cell{mapping.kind, ""},
                      Cell{mapping.path, ""}});
      }
      table.AppendTo(out_);
    }
  }

  void AppendCgroup(const ProcessModel& process, const CgroupModel& cgroup) {
    Facts facts;
    facts.Add("Cgroup", cgroup.where);
    facts.Add("CPU path", cgroup.cpu_path);
    facts.Add("Memory path", cgroup.memory_path);
    facts.Add("CPU used", cgroup.cpu_used.value_or(""));
    facts.Add("CPU quota", cgroup.cpu_quota.value_or(""));
    if (cgroup.throttled.has_value()) {
      facts.Add("Throttled", cgroup.throttled->periods + cgroup.throttled->total);
    }
    facts.Add("Memory", cgroup.memory);
    facts.AppendTo(out_);
    const std::string& reason = process.cgroup.degraded_reason;
    if (!reason.empty()) out_ += "<p class=\"missing\">" + Escape(reason) + "</p>\n";
  }

  void AppendLimits(const ProcessModel& process, const std::vector<api::SnapshotLimit>& limits) {
    HtmlTable table("limits-table-" + std::to_string(process.pid),
                    {"LIMIT", "SOFT", "HARD", "UNITS"}, {false, true, true, false});
    for (const auto& limit : limits) {
      table.AddRow({Cell{limit.name, ""}, ValueCell(limit.soft), ValueCell(limit.hard),
                    Cell{limit.units, ""}});
    }
    table.AppendTo(out_);
  }

  void AppendEnv(const ProcessModel& process, const std::vector<EnvVarModel>& env) {
    HtmlTable table("env-table-" + std::to_string(process.pid), {"NAME", "VALUE"}, {false, false});
    for (const EnvVarModel& variable : env) {
      table.AddRow({Cell{variable.name, ""}, Cell{variable.value, ""}});
    }
    table.AppendTo(out_);
  }

  void AppendRedaction() {
    OpenSection("redaction", "Redaction");
    if (!model_.redaction.has_value()) {
      out_ += "<p class=\"missing\">No redaction report in the document.</p>\n";
      CloseSection();
      return;
    }
    const RedactionModel& redaction = *model_.redaction;
    Facts facts;
    facts.Add("Personal data", redaction.pii.value_or(""));
    facts.Add("Environment values", redaction.env_redacted + " replaced by [REDACTED]");
    facts.AppendTo(out_);
    if (redaction.patterns_matched.empty()) {
      out_ += "<p class=\"note\">No secret pattern matched in free text.</p>\n";
    } else {
      out_ += "<p class=\"note\">Matches in free text, replaced by [REDACTED:&lt;rule&gt;]:</p>\n";
      HtmlTable table("redaction-rules", {"RULE", "MATCHES"}, {false, true});
      for (const auto& rule : redaction.patterns_matched) {
        table.AddRow({Cell{rule.rule, ""}, ValueCell(rule.count)});
      }
      table.AppendTo(out_);
    }
    if (redaction.dropped_fields.empty()) {
      out_ += "<p class=\"note\">No field was dropped (the redactor never failed).</p>\n";
    } else {
      out_ +=
          "<p class=\"missing\">Fields left out because the redactor failed on them:</p><ul "
          "id=\"dropped-fields\">";
      for (const std::string& field : redaction.dropped_fields) {
        out_ += "<li class=\"mono\">" + Escape(field) + "</li>";
      }
      out_ += "</ul>\n";
    }
    CloseSection();
  }

  void AppendDegraded() {
    OpenSection("degraded", "Degraded");
    if (model_.degraded.empty()) {
      out_ += "<p class=\"note\">Nothing: every requested section was captured.</p>\n";
    } else {
      HtmlTable table("degraded-table", {"SECTION", "PID", "TID", "REASON"},
                      {false, true, true, false});
      for (const auto& entry : model_.degraded) {
        table.AddRow({Cell{entry.section, ""}, ValueCell(entry.pid), ValueCell(entry.tid),
                      Cell{entry.reason, ""}});
      }
      table.AppendTo(out_);
    }
    CloseSection();
  }

  void AppendOverhead() {
    OpenSection("overhead", "Overhead");
    if (!model_.overhead.has_value()) {
      out_ += "<p class=\"missing\">No overhead figures in the document.</p>\n";
      CloseSection();
      return;
    }
    const OverheadModel& overhead = *model_.overhead;
    Facts facts;
    facts.Add("Target frozen, total", overhead.target_freeze);
    facts.Add("Longest single-thread freeze", overhead.target_max_thread_freeze);
    facts.Add("Tool CPU", overhead.tool_cpu);
    facts.Add("Tool peak RSS", overhead.tool_rss);
    facts.Add("Wall time", overhead.wall);
    if (!overhead.budget.empty()) facts.Add("Budget", overhead.budget);
    if (!overhead.budget_reached.empty()) {
      facts.Add("Budget reached", overhead.budget_reached + ": the capture stopped early");
    }
    facts.AppendTo(out_);
    HtmlTable table("freeze-table", {"PID", "TID", "THREAD", "FROZEN us", "UNWIND"},
                    {true, true, false, true, false});
    for (const ThreadFreeze& freeze : model_.freezes) {
      std::string pid = std::to_string(freeze.pid);
      table.AddRow({Cell{pid, pid}, ValueCell(freeze.tid), Cell{freeze.name, ""},
                    ValueCell(freeze.freeze_micros), Cell{freeze.unwind, ""}});
    }
    if (!table.IsEmpty()) {
      out_ += "<h4>Freeze per thread</h4>\n";
      table.AppendTo(out_);
    }
    CloseSection();
  }

  const ReportModel& model_;
  const ReportOptions& options_;
  std::string out_;
};

}  // namespace

StatusOr<std::string> RenderHtml(const nlohmann::json& snapshot, const ReportContext& context,
                                 const ReportOptions& options) {
  return RenderValidated(snapshot, context, [&](const ReportModel& model) {
    return HtmlReport(model, options).Render();
  });
}

}  // namespace ephemera::report
