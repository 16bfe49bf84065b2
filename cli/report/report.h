// Reports for people: turns a decrypted snapshot document (docs/snapshot-format.md,
// `ephemera.dev/snapshot/v1`) into a text report for the terminal or one self-contained HTML file.
//
// Pure: values in, values out; no I/O, no logging. The document's text is attacker-influenced (a
// target chooses its own cmdline, thread names and paths), so the text report replaces control
// characters by visible escapes (no terminal escape sequences get through) and the HTML report
// escapes everything it takes from the document. Neither ever adds anything the document does not
// hold: values the tool redacted stay redacted.
//
// Errors: InvalidArgument when the document is not a v1 snapshot (not an object, wrong or missing
// apiVersion or kind, a top-level field of the wrong type). Sections that were not requested, were
// dropped or are degraded are tolerated: the report says what is missing and why.
// Thread safety: the functions share no state.
#ifndef EPHEMERA_CLI_REPORT_REPORT_H_
#define EPHEMERA_CLI_REPORT_REPORT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace ephemera::report {

// What the caller knows about the capture that the document does not hold. Every field is
// optional: shown in the report's header when non-empty.
struct ReportContext {
  std::string session{};         // DebugSession name
  std::string namespace_name{};  // the session's (and target pod's) namespace
  std::string requester{};       // who asked for the snapshot
  std::string reason{};          // why, as given with --reason
  std::string captured_at{};     // when the session captured (RFC 3339); else the document's time
  std::string pod{};             // target pod
  std::string container{};       // target container in that pod
};

// How the reports are laid out; the content is the document's either way.
struct ReportOptions {
  // Native stacks of threads that also have a language-level stack (a process's `runtime`): shown
  // in the text report (else one line says how many are hidden), expanded in the HTML report (else
  // collapsed).
  bool native_frames = false;
};

// A plain-text report: header, findings (report_model.h), process tree, then per process its
// language-level stacks (Go goroutines, Python or Java threads; deadlocks first), a pstack-like
// listing of threads grouped by identical stacks, followed by aligned tables (fds,
// sockets, memory, cgroup, limits, environment), the incident evidence and the controller's log
// pull, and finally redaction counts, degraded sections and the tool's overhead. No colour.
StatusOr<std::string> RenderText(const nlohmann::json& snapshot, const ReportContext& context,
                                 const ReportOptions& options = {});

// One self-contained HTML file (inline CSS, inline JS, inline SVG; no external URL of any kind):
// the same content, with grouped stacks drawn as a flame-graph-like picture (the native stacks of
// threads with a language-level stack in a collapsed <details id="native-<pid>">), tables that sort
// when a header is clicked, and a memory-map chart. Stable element ids: "header", "findings",
// "process-tree", "stacks", "fds", "sockets", "memory", "cgroup", "limits", "env", "evidence",
// "logs", "redaction", "degraded", "overhead" (per-process ones suffixed "-<pid>", e.g.
// "stacks-2535", inside a section with that plain id; "runtime-<pid>" inside "stacks-<pid>").
StatusOr<std::string> RenderHtml(const nlohmann::json& snapshot, const ReportContext& context,
                                 const ReportOptions& options = {});

}  // namespace ephemera::report

#endif  // EPHEMERA_CLI_REPORT_REPORT_H_
