#include "debugpod/snapshot/command_line.h"

#include <charconv>
#include <string>

#include "base/duration.h"

namespace ephemera::snapshot {
namespace {

constexpr std::string_view kSeeHelp = "; run ephemera-snapshot --help for usage";

Status FlagError(std::string_view flag, std::string_view what) {
  return InvalidArgumentError(std::string(flag) + ": " + std::string(what));
}

bool IsEnvName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == '=' || c == '\0') return false;
  }
  return true;
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Status ParseCaptureList(std::string_view list, SectionSet& sections) {
  sections = SectionSet();
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view name = list.substr(start, comma - start);
    if (name == "all") {
      sections = SectionSet::All();
    } else if (std::optional<Section> section = SectionFromName(name)) {
      sections.Add(*section);
    } else {
      std::string known;
      for (Section s : kAllSections) {
        known += (known.empty() ? "" : ",") + std::string(SectionName(s));
      }
      return FlagError("--capture", "unknown section \"" + std::string(name) + "\"; choose from " +
                                        known + " (or all)");
    }
    start = comma + 1;
  }
  return OkStatus();
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

std::string_view ProfileName(Profile profile) {
  return profile == Profile::kRestricted ? "restricted" : "ptrace";
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

  bool capture_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (!arg.starts_with("--")) {
      return InvalidArgumentError("unexpected argument \"" + std::string(arg) +
                                  "\": the tool takes only flags" + std::string(kSeeHelp));
    }
    std::string flag(arg);
    std::optional<std::string> inline_value;
    if (size_t eq = flag.find('='); eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag.resize(eq);
    }
    auto value = [&]() -> StatusOr<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return FlagError(flag, "needs a value" + std::string(kSeeHelp));
      return args[++i];
    };
    StatusOr<std::string> v = std::string();
    if (flag == "--pid") {
      v = value();
      if (!v.ok()) return v.status();
      std::optional<uint64_t> pid = ParseDecimal(*v);
      if (!pid || *pid == 0 || *pid > 0x3fffffff) {
        return FlagError(flag, "want a process id (a positive integer), got \"" + *v + "\"");
      }
      cl.pid = static_cast<int>(*pid);
    } else if (flag == "--capture") {
      v = value();
      if (!v.ok()) return v.status();
      EPHEMERA_RETURN_IF_ERROR(ParseCaptureList(*v, cl.sections));
      capture_given = true;
    } else if (flag == "--format") {
      v = value();
      if (!v.ok()) return v.status();
      if (*v == "age") {
        cl.format = OutputFormat::kAge;
      } else if (*v == "json") {
        cl.format = OutputFormat::kJson;
      } else {
        return FlagError(
            flag, "want age (encrypted, the default) or json (plaintext), got \"" + *v + "\"");
      }
    } else if (flag == "--recipient") {
      v = value();
      if (!v.ok()) return v.status();
      if (!v->starts_with("age1")) {
        return FlagError(flag, "want an age X25519 recipient (age1…), got \"" + *v + "\"");
      }
      cl.recipients.push_back(*v);
    } else if (flag == "--profile") {
      v = value();
      if (!v.ok()) return v.status();
      if (*v == "restricted") {
        cl.profile = Profile::kRestricted;
      } else if (*v == "ptrace") {
        cl.profile = Profile::kPtrace;
      } else {
        return FlagError(flag, "want restricted or ptrace, got \"" + *v + "\"");
      }
    } else if (flag == "--deadline") {
      v = value();
      if (!v.ok()) return v.status();
      StatusOr<std::chrono::nanoseconds> d =
          base::ParseDuration(*v, base::DurationSyntax::kWholeNumberAndUnit);
      if (!d.ok()) return FlagError(flag, d.status().message());
      if (*d < kMinDeadline || *d > kMaxDeadline) {
        return FlagError(flag, "must be between 1ms and 1h, got \"" + *v + "\"");
      }
      cl.deadline = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    } else if (flag == "--max-output-bytes") {
      v = value();
      if (!v.ok()) return v.status();
      StatusOr<size_t> bytes = ParseByteSize(*v);
      if (!bytes.ok()) return FlagError(flag, bytes.status().message());
      if (*bytes < kMinMaxOutputBytes || *bytes > kMaxMaxOutputBytes) {
        return FlagError(flag, "must be between 16Ki and 64Mi, got \"" + *v + "\"");
      }
      cl.max_output_bytes = *bytes;
    } else if (flag == "--allow-env" || flag == "--secret-env") {
      v = value();
      if (!v.ok()) return v.status();
      if (!IsEnvName(*v)) {
        return FlagError(flag, "want an environment variable name (no '='), got \"" + *v + "\"");
      }
      (flag == "--allow-env" ? cl.allow_env : cl.secret_env).push_back(*v);
    } else if (flag == "--container-id") {
      v = value();
      if (!v.ok()) return v.status();
      std::string id = *v;
      if (size_t scheme = id.find("://"); scheme != std::string::npos) id.erase(0, scheme + 3);
      bool valid = id.size() >= kMinContainerIdChars && id.size() <= 128;
      for (char c : id) {
        valid =
            valid && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
      }
      if (!valid) {
        return FlagError(flag,
                         "want the target container's ID (12 to 128 letters and digits, as in "
                         "status.containerStatuses[].containerID), got \"" +
                             *v + "\"");
      }
      cl.container_id = std::move(id);
    } else if (flag == "--host-namespaces") {
      v = value();
      if (!v.ok()) return v.status();
      if (*v == "allow") {
        cl.host_namespaces = true;
      } else if (*v == "deny") {
        cl.host_namespaces = false;
      } else {
        return FlagError(flag, "want allow or deny, got \"" + *v + "\"");
      }
    } else if (flag == "--pii") {
      v = value();
      if (!v.ok()) return v.status();
      StatusOr<redact::PiiMode> mode = redact::ParsePiiMode(*v);
      if (!mode.ok()) return FlagError(flag, "want none, standard or strict, got \"" + *v + "\"");
      cl.pii = *mode;
    } else if (flag == "--extra-pattern") {
      v = value();
      if (!v.ok()) return v.status();
      if (v->empty()) return FlagError(flag, "pattern must not be empty");
      cl.extra_patterns.push_back(*v);
    } else {
      return InvalidArgumentError("unknown flag \"" + flag + "\"" + std::string(kSeeHelp));
    }
  }
  if (capture_given && cl.sections.IsEmpty()) {
    return FlagError("--capture", "select at least one section");
  }
  if (cl.format == OutputFormat::kAge && cl.recipients.empty()) {
    return FlagError("--recipient",
                     "--format age (the default) needs at least one --recipient age1…; for "
                     "plaintext on a terminal use --format json");
  }
  if (cl.format == OutputFormat::kJson && !cl.recipients.empty()) {
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
                          limits,cgroup,env (default: all)
  --profile P             restricted | ptrace (default ptrace). restricted: the tool has no
                          CAP_SYS_PTRACE, so stacks are not attempted and reported degraded

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

  --version               print the version
  --help                  print this help

Exit status: 0 document written; 1 document written but no target process was found, or no
document could be produced; 2 usage error; 3 the watchdog ended the capture (its document, with
no processes, was written instead).
)";
}

}  // namespace ephemera::snapshot
