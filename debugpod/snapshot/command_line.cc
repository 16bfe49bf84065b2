#include "debugpod/snapshot/command_line.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

namespace ephemera::snapshot {
namespace {

Status FlagError(std::string_view flag, std::string_view what) {
  return InvalidArgumentError(std::string(flag) + ": " + std::string(what));
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The sections `names` (ToolArgs::capture, non-empty) select; "all" selects every one. "logs" is
// no section of the tool's (the controller reads the log) and selects none.
StatusOr<SectionSet> SectionsFromNames(const std::vector<std::string>& names) {
  SectionSet sections;
  for (const std::string& name : names) {
    if (name == api::kLogsSection) continue;
    if (name == "all") {
      sections = SectionSet::All();
    } else if (std::optional<Section> section = SectionFromName(name)) {
      sections.Add(*section);
    } else {
      std::string known;
      for (Section s : kAllSections) {
        if (!known.empty()) known += ",";
        known += SectionName(s);
      }
      std::string message = "unknown section \"" + name + "\"; choose from ";
      message.append(known).append(" (or all; logs is read by the controller)");
      return FlagError("--capture", message);
    }
  }
  return sections;
}

}  // namespace

std::string_view SectionName(Section section) {
  switch (section) {
    case Section::kProcess:
      return "process";
    case Section::kThreads:
      return "threads";
    case Section::kStacks:
      return "stacks";
    case Section::kFds:
      return "fds";
    case Section::kSockets:
      return "sockets";
    case Section::kMaps:
      return "maps";
    case Section::kLimits:
      return "limits";
    case Section::kCgroup:
      return "cgroup";
    case Section::kEnv:
      return "env";
  }
  return "unknown";
}

std::optional<Section> SectionFromName(std::string_view name) {
  for (Section section : kAllSections) {
    if (SectionName(section) == name) return section;
  }
  return std::nullopt;
}

SectionSet SectionSet::All() {
  SectionSet set;
  for (Section section : kAllSections) set.Add(section);
  return set;
}

std::vector<Section> SectionSet::List() const {
  std::vector<Section> list;
  for (Section section : kAllSections) {
    if (Has(section)) list.push_back(section);
  }
  return list;
}

StatusOr<size_t> ParseByteSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::optional<uint64_t> number = ParseDecimal(text.substr(0, digits));
  std::string_view unit = text.substr(digits);
  uint64_t scale = 0;
  if (unit.empty()) scale = 1;
  if (unit == "Ki") scale = 1024;
  if (unit == "Mi") scale = uint64_t{1024} * 1024;
  if (!number || scale == 0 || *number > (uint64_t{1} << 40)) {
    return InvalidArgumentError("want a size in bytes such as 4194304, 512Ki or 4Mi, got \"" +
                                std::string(text) + "\"");
  }
  return static_cast<size_t>(*number * scale);
}

StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine cl;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") cl.help = true;
    if (arg == "--version") cl.version = true;
  }
  if (cl.help || cl.version) return cl;

  // The tool's own flags; ParseToolArgs puts the flag's name in front of their errors.
  const api::ExtraToolFlag local_flags[] = {
      {"--pid",
       [&cl](std::string_view value) -> Status {
         std::optional<uint64_t> pid = ParseDecimal(value);
         if (!pid || *pid == 0 || *pid > 0x3fffffff) {
           return InvalidArgumentError("want a process id (a positive integer), got \"" +
                                       std::string(value) + "\"");
         }
         cl.pid = static_cast<int>(*pid);
         return OkStatus();
       }},
      {"--format",
       [&cl](std::string_view value) -> Status {
         if (value == "age") {
           cl.format = OutputFormat::kAge;
         } else if (value == "json") {
           cl.format = OutputFormat::kJson;
         } else {
           return InvalidArgumentError(
               "want age (encrypted, the default) or json (plaintext), got \"" +
               std::string(value) + "\"");
         }
         return OkStatus();
       }},
      {"--max-output-bytes",
       [&cl](std::string_view value) -> Status {
         StatusOr<size_t> bytes = ParseByteSize(value);
         if (!bytes.ok()) return bytes.status();
         if (*bytes < kMinMaxOutputBytes || *bytes > kMaxMaxOutputBytes) {
           return InvalidArgumentError("must be between 16Ki and 64Mi, got \"" +
                                       std::string(value) + "\"");
         }
         cl.max_output_bytes = *bytes;
         return OkStatus();
       }},
  };
  StatusOr<api::ToolArgs> tool = api::ParseToolArgs(args, local_flags);
  if (!tool.ok()) return tool.status();
  cl.tool = std::move(*tool);
  if (!cl.tool.capture.empty()) {
    StatusOr<SectionSet> sections = SectionsFromNames(cl.tool.capture);
    if (!sections.ok()) return sections.status();
    cl.sections = *sections;
    cl.value_keys_for_controller = std::find(cl.tool.capture.begin(), cl.tool.capture.end(),
                                             api::kLogsSection) != cl.tool.capture.end();
  }
  if (cl.format == OutputFormat::kAge && cl.tool.recipients.empty()) {
    return FlagError("--recipient",
                     "--format age (the default) needs at least one --recipient age1…; for "
                     "plaintext on a terminal use --format json");
  }
  if (cl.format == OutputFormat::kJson && cl.value_keys_for_controller) {
    return FlagError("--capture",
                     "logs hands the hidden environment values to the controller inside the "
                     "encrypted document; --format json would print them. Drop logs, or use "
                     "--format age");
  }
  if (cl.format == OutputFormat::kJson && !cl.tool.recipients.empty()) {
    return FlagError("--recipient", "only used with --format age; drop it or drop --format json");
  }
  return cl;
}

std::string UsageText() {
  return R"(Usage: ephemera-snapshot [flags]

Captures the state of the processes in this PID namespace (threads, stacks, fds, sockets, memory
map, limits, cgroup usage, environment), redacts secrets, and writes one JSON document
(apiVersion ephemera.dev/snapshot/v1), encrypted to age recipients, to stdout.

Target:
  --pid N                 snapshot process N and its descendants (default: every process of the
                          namespace except this tool and its ancestors; the main process is the
                          lowest pid)
  --container-id ID       capture only the processes of this container: those whose
                          /proc/<pid>/cgroup path names ID (status.containerStatuses[].containerID,
                          with or without its runtime:// scheme)
  --host-namespaces M     deny (default): refuse to run in the node's PID namespace (a hostPID
                          pod); allow: run there, for a session the cluster policy allowed (the
                          controller always adds --container-id then)
  --capture LIST          comma-separated sections: process,threads,stacks,fds,sockets,maps,
                          limits,cgroup,env (default: all). logs: the controller reads the
                          container's log; the tool then adds the values it hides to the
                          encrypted document (controllerOnly) so the controller can scrub them
  --profile P             restricted | ptrace (default ptrace). restricted: the tool has no
                          CAP_SYS_PTRACE, so native stacks are not attempted (reported
                          degraded); Go, Python and Java stacks are read in both profiles

Output:
  --format F              age (default): ASCII-armored age v1 ciphertext of the gzipped document
                          json: the plaintext document, for local debugging only
  --recipient age1...     age X25519 recipient; repeatable; required with --format age
  --max-output-bytes N    cap on the JSON document (default 4Mi; 16Ki..64Mi; suffixes Ki, Mi);
                          sections are dropped to fit and listed in "degraded"

Redaction (environment values are redacted unless allowed; free text is scanned for secrets):
  --allow-env NAME        show the value of this variable (a trailing * makes it a prefix);
                          repeatable
  --secret-env NAME       always redact this variable (e.g. filled from a Secret); repeatable
  --extra-pattern P       literal token prefix (4..64 printable characters, e.g. acme_live_);
                          tokens starting with it are redacted in free text; repeatable
  --pii M                 personal data masked in free text: none; standard (default: e-mail
                          addresses, card numbers, IBANs, phone numbers); strict (also IP
                          addresses, in socket endpoints too)

Limits:
  --deadline D            wall-clock budget (default 20s; 1ms..1h; units ms, s, m, h). When it
                          passes, what was captured is written, the rest is reported degraded
                          "deadline", and a watchdog ends the process shortly after regardless
  --cpu-budget D          CPU time budget of the tool, all threads (default none; 1ms..1h).
                          When reached, the section under way stops and it and the rest are
                          reported degraded "CPU budget of D reached"; RLIMIT_CPU is set at
                          twice D (at least D + 1s) as a backstop
  --memory-budget N       peak resident memory budget of the tool (default none; 1Mi..1024Mi;
                          suffixes Ki, Mi), checked like --cpu-budget; RLIMIT_DATA is set at
                          N + 320Mi as a backstop

  --version               print the version
  --help                  print this help

Exit status: 0 document written; 1 document written but no target process was found, or no
document could be produced; 2 usage error; 3 the watchdog ended the capture (its document, with
no processes, was written instead).
)";
}

}  // namespace ephemera::snapshot
