#include "cli/command_line/command_line.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <optional>

#include "base/duration.h"

namespace ephemera::command_line {
namespace {

// The CRD's bounds on spec.ttl (crds/ephemera.dev_debugsessions.yaml).
constexpr std::chrono::seconds kMinTtl{30};
constexpr std::chrono::seconds kMaxTtl{24 * 3600};
// Session names end up in label values (63 characters at most).
constexpr std::size_t kMaxSessionNameLength = 63;

struct FlagSpec {
  std::string_view long_name;   // "--ttl"
  std::string_view short_name;  // "-c", or ""
  bool takes_value;
  // A boolean that takes no value after it but may have one after '=' ("--previous",
  // "--previous=false"), as kubectl's boolean flags do.
  bool boolean = false;
};

constexpr std::array kGlobalFlags = {
    FlagSpec{"--kubeconfig", "", true},
    FlagSpec{"--namespace", "-n", true},
    FlagSpec{"--context", "", true},
    FlagSpec{"--help", "-h", false},
};

constexpr std::array kKeysFlags = {FlagSpec{"--show", "", false}};
constexpr std::array kSnapshotFlags = {
    FlagSpec{"--container", "-c", true},  FlagSpec{"--reason", "", true},
    FlagSpec{"--ttl", "", true},          FlagSpec{"--profile", "", true},
    FlagSpec{"--capture", "", true},      FlagSpec{"--name", "", true},
    FlagSpec{"--timeout", "", true},      FlagSpec{"--output", "-o", true},
    FlagSpec{"--file", "-f", true},       FlagSpec{"--pii", "", true},
    FlagSpec{"--tail", "", true},         FlagSpec{"--limit-bytes", "", true},
    FlagSpec{"--since", "", true},        FlagSpec{"--previous", "", false, true},
    FlagSpec{"--no-previous", "", false}, FlagSpec{"--native-frames", "", false},
};
constexpr std::array kLogsFlags = {
    FlagSpec{"--container", "-c", true},
    FlagSpec{"--reason", "", true},
    FlagSpec{"--ttl", "", true},
    FlagSpec{"--name", "", true},
    FlagSpec{"--timeout", "", true},
    FlagSpec{"--output", "-o", true},
    FlagSpec{"--pii", "", true},
    FlagSpec{"--tail", "", true},
    FlagSpec{"--limit-bytes", "", true},
    FlagSpec{"--since", "", true},
    FlagSpec{"--previous", "", false, true},
    FlagSpec{"--no-previous", "", false},
    FlagSpec{"--timestamps", "", false},
};
constexpr std::array kGetFlags = {FlagSpec{"--output", "-o", true}};
constexpr std::array kListFlags = {FlagSpec{"--output", "-o", true},
                                   FlagSpec{"--all-namespaces", "-A", false}};
constexpr std::array kFetchFlags = {FlagSpec{"--output", "-o", true},
                                    FlagSpec{"--file", "-f", true},
                                    FlagSpec{"--native-frames", "", false}};

template <std::size_t N>
std::optional<FlagSpec> FindIn(const std::array<FlagSpec, N>& flags, std::string_view name) {
  for (const FlagSpec& flag : flags) {
    if (name == flag.long_name || (!flag.short_name.empty() && name == flag.short_name)) {
      return flag;
    }
  }
  return std::nullopt;
}

std::optional<FlagSpec> FindFlag(Command command, std::string_view name) {
  if (auto global = FindIn(kGlobalFlags, name)) return global;
  switch (command) {
    case Command::kKeys:
      return FindIn(kKeysFlags, name);
    case Command::kSnapshot:
      return FindIn(kSnapshotFlags, name);
    case Command::kLogs:
      return FindIn(kLogsFlags, name);
    case Command::kGet:
      return FindIn(kGetFlags, name);
    case Command::kList:
      return FindIn(kListFlags, name);
    case Command::kFetch:
      return FindIn(kFetchFlags, name);
    case Command::kNone:
    case Command::kAuditVerify:
    case Command::kVersion:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Command> WordCommand(std::string_view word) {
  if (word == "keys") return Command::kKeys;
  if (word == "snapshot") return Command::kSnapshot;
  if (word == "logs") return Command::kLogs;
  if (word == "get") return Command::kGet;
  if (word == "list" || word == "ls") return Command::kList;
  if (word == "fetch") return Command::kFetch;
  if (word == "audit") return Command::kAuditVerify;  // "verify" must follow
  if (word == "version") return Command::kVersion;
  return std::nullopt;
}

std::string HelpHint(Command command) {
  const std::string_view name = CommandName(command);
  return name.empty() ? "see 'kubectl ephemera --help'"
                      : "see 'kubectl ephemera " + std::string(name) + " --help'";
}

Status UsageError(Command command, const std::string& problem) {
  return InvalidArgumentError(problem + "; " + HelpHint(command));
}

StatusOr<OutputFormat> ParseOutput(Command command, std::string_view value) {
  const std::vector<std::string_view> formats = OutputFormatsOf(command);
  if (std::find(formats.begin(), formats.end(), value) != formats.end()) {
    for (OutputFormat format : {OutputFormat::kText, OutputFormat::kJson, OutputFormat::kHtml,
                                OutputFormat::kYaml, OutputFormat::kWide}) {
      if (OutputFormatName(format) == value) return format;
    }
  }
  std::string known;
  for (std::size_t i = 0; i < formats.size(); ++i) {
    known += (i == 0 ? "" : i + 1 == formats.size() ? " or " : ", ");
    known += formats[i];
  }
  return UsageError(
      command, "-o " + std::string(value) + " is not a known output format (use " + known + ")");
}

bool IsDnsLabelish(std::string_view name) {
  if (name.empty() || name.size() > kMaxSessionNameLength) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

StatusOr<std::vector<std::string>> ParseCapture(std::string_view value) {
  std::vector<std::string> sections;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string section(value.substr(start, comma - start));
    const auto& known = KnownCaptureSections();
    if (std::find(known.begin(), known.end(), section) == known.end()) {
      std::string problem = "--capture: \"" + section + "\" is not a section (choose from ";
      for (std::size_t k = 0; k < known.size(); ++k) {
        if (k > 0) problem += ",";
        problem += known[k];
      }
      problem += ")";
      return UsageError(Command::kSnapshot, problem);
    }
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) {
      sections.push_back(std::move(section));
    }
    start = comma + 1;
  }
  return sections;
}

// A whole number of at least 1 for `flag`, as kubectl's --tail and --limit-bytes take it.
StatusOr<std::int64_t> ParseCount(Command command, std::string_view flag, std::string_view value) {
  std::int64_t count = 0;
  const char* end = value.data() + value.size();
  const bool digits = !value.empty() && std::all_of(value.begin(), value.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  auto [ptr, error] = std::from_chars(value.data(), end, count);
  if (!digits || error != std::errc() || ptr != end || count < 1) {
    return UsageError(command, std::string(flag) + " \"" + std::string(value) +
                                   "\" must be a whole number of at least 1");
  }
  return count;
}

// Whether `text` has the shape of a duration the CRD takes: digits, '.', and the units s, m, h
// ("90s", "5m", "1h30m"); Go's finer units and signs are not.
bool IsCrdDurationShaped(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == 's' || c == 'm' || c == 'h';
  });
}

Status ApplyFlag(CommandLine& cl, std::string_view name, const std::string& value) {
  if (name == "--kubeconfig") {
    cl.global.kubeconfig = value;
  } else if (name == "--namespace" || name == "-n") {
    if (value.empty()) return UsageError(cl.command, "-n/--namespace needs a namespace name");
    cl.global.namespace_name = value;
  } else if (name == "--context") {
    cl.global.context = value;
  } else if (name == "--help" || name == "-h") {
    cl.help = true;
  } else if (name == "--all-namespaces" || name == "-A") {
    cl.query.all_namespaces = true;
  } else if (name == "--show") {
    cl.keys.show = true;
  } else if (name == "--container" || name == "-c") {
    cl.snapshot.container = value;
  } else if (name == "--reason") {
    cl.snapshot.reason = value;
  } else if (name == "--ttl") {
    cl.snapshot.ttl = value;
  } else if (name == "--profile") {
    if (value != "restricted" && value != "ptrace") {
      return UsageError(cl.command,
                        "--profile must be restricted or ptrace, not \"" + value + "\"");
    }
    cl.snapshot.profile = value;
  } else if (name == "--pii") {
    if (value != "none" && value != "standard" && value != "strict") {
      return UsageError(cl.command,
                        "--pii must be none, standard or strict, not \"" + value + "\"");
    }
    cl.snapshot.pii = value;
  } else if (name == "--capture") {
    auto sections = ParseCapture(value);
    if (!sections.ok()) return sections.status();
    cl.snapshot.capture = std::move(*sections);
  } else if (name == "--name") {
    if (!IsDnsLabelish(value)) {
      return UsageError(cl.command,
                        "--name \"" + value +
                            "\" is not a valid session name (lower-case letters, digits, '-' and "
                            "'.', starting and ending with a letter or digit, at most 63)");
    }
    cl.snapshot.name = value;
  } else if (name == "--timeout") {
    auto timeout = base::ParseDuration(value);
    if (!timeout.ok() || *timeout < std::chrono::seconds(1)) {
      return UsageError(cl.command,
                        "--timeout \"" + value + "\" must be a duration of at least 1s, e.g. 2m");
    }
    cl.snapshot.timeout = std::chrono::ceil<std::chrono::seconds>(*timeout);
  } else if (name == "--output" || name == "-o") {
    auto format = ParseOutput(cl.command, value);
    if (!format.ok()) return format.status();
    cl.snapshot.output = cl.query.output = cl.fetch.output = *format;
  } else if (name == "--tail") {
    auto count = ParseCount(cl.command, name, value);
    if (!count.ok()) return count.status();
    cl.snapshot.logs.tail_lines = *count;
  } else if (name == "--limit-bytes") {
    auto count = ParseCount(cl.command, name, value);
    if (!count.ok()) return count.status();
    cl.snapshot.logs.limit_bytes = *count;
  } else if (name == "--since") {
    auto since = base::ParseDuration(value);
    if (!IsCrdDurationShaped(value) || !since.ok() || *since < std::chrono::seconds(1)) {
      return UsageError(
          cl.command,
          "--since \"" + value + "\" is not a duration of at least 1s such as 90s, 5m or 1h");
    }
    cl.snapshot.logs.since = value;
  } else if (name == "--previous") {
    if (value != "true" && value != "false") {
      return UsageError(cl.command, "--previous takes true or false, not \"" + value + "\"");
    }
    cl.snapshot.logs.previous = value == "true";
  } else if (name == "--no-previous") {
    cl.snapshot.logs.previous = false;
  } else if (name == "--timestamps") {
    cl.snapshot.timestamps = true;
  } else if (name == "--native-frames") {
    cl.snapshot.native_frames = cl.fetch.native_frames = true;
  } else if (name == "--file" || name == "-f") {
    if (value.empty()) return UsageError(cl.command, "-f/--file needs a file name");
    cl.snapshot.file = cl.fetch.file = value;
  }
  return OkStatus();
}

Status CheckTtl(Command command, std::string_view ttl) {
  auto parsed = base::ParseDuration(ttl);
  if (!IsCrdDurationShaped(ttl) || !parsed.ok()) {
    return UsageError(command,
                      "--ttl \"" + std::string(ttl) + "\" is not a duration such as 90s, 5m or 1h");
  }
  if (*parsed < kMinTtl || *parsed > kMaxTtl) {
    return UsageError(
        command, "--ttl " + std::string(ttl) + " is out of range: it must be between 30s and 24h");
  }
  return OkStatus();
}

Status CheckPositionals(CommandLine& cl, const std::vector<std::string>& positionals) {
  auto exactly_one = [&](std::string_view what, std::string& into) -> Status {
    if (positionals.empty()) {
      return UsageError(cl.command,
                        std::string(CommandName(cl.command)) + " needs " + std::string(what));
    }
    if (positionals.size() > 1) {
      return UsageError(cl.command, "unexpected argument \"" + positionals[1] + "\"");
    }
    into = positionals[0];
    return OkStatus();
  };
  switch (cl.command) {
    case Command::kSnapshot:
      return exactly_one("the name of the pod to debug (POD)", cl.snapshot.pod);
    case Command::kLogs:
      return exactly_one("the name of the pod whose log to read (POD)", cl.snapshot.pod);
    case Command::kGet:
      return exactly_one("the name of a session (SESSION)", cl.query.session);
    case Command::kFetch:
      return exactly_one("the name of a session (SESSION)", cl.fetch.session);
    case Command::kKeys:
    case Command::kList:
    case Command::kVersion:
      if (!positionals.empty()) {
        return UsageError(cl.command, "unexpected argument \"" + positionals[0] + "\"");
      }
      return OkStatus();
    case Command::kNone:
    case Command::kAuditVerify:
      return OkStatus();
  }
  return OkStatus();
}

// The log flags the user gave, for messages: "--tail and --since".
std::string GivenLogFlags(const LogOptions& logs) {
  std::vector<std::string_view> given;
  if (logs.tail_lines) given.push_back("--tail");
  if (logs.limit_bytes) given.push_back("--limit-bytes");
  if (!logs.since.empty()) given.push_back("--since");
  if (logs.previous) given.push_back(*logs.previous ? "--previous" : "--no-previous");
  std::string text;
  for (std::size_t i = 0; i < given.size(); ++i) {
    if (i > 0) text += i + 1 == given.size() ? " and " : ", ";
    text += given[i];
  }
  return text;
}

Status CheckSession(Command command, const SnapshotOptions& options) {
  if (options.reason.empty()) {
    return UsageError(
        command, "--reason is required: say why, e.g. --reason \"INC-1234 checkout returns 500\"");
  }
  const bool pulls_logs =
      std::find(options.capture.begin(), options.capture.end(), "logs") != options.capture.end();
  if (options.logs.HasAny() && !pulls_logs) {
    const bool one = GivenLogFlags(options.logs).find(' ') == std::string::npos;
    return UsageError(command, GivenLogFlags(options.logs) + (one ? " needs" : " need") +
                                   " logs in --capture: " + (one ? "it bounds" : "they bound") +
                                   " the log pull, which this snapshot does not ask for (e.g. "
                                   "--capture process,threads,logs, or use 'kubectl ephemera "
                                   "logs')");
  }
  return options.ttl.empty() ? OkStatus() : CheckTtl(command, options.ttl);
}

template <std::size_t N>
void AppendFlags(const std::array<FlagSpec, N>& flags, std::vector<FlagInfo>& out) {
  for (const FlagSpec& flag : flags) {
    out.push_back({flag.long_name, flag.short_name, flag.takes_value && !flag.boolean});
  }
}

}  // namespace

std::string_view CommandName(Command command) {
  switch (command) {
    case Command::kNone:
      return "";
    case Command::kKeys:
      return "keys";
    case Command::kSnapshot:
      return "snapshot";
    case Command::kLogs:
      return "logs";
    case Command::kGet:
      return "get";
    case Command::kList:
      return "list";
    case Command::kFetch:
      return "fetch";
    case Command::kAuditVerify:
      return "audit verify";
    case Command::kVersion:
      return "version";
  }
  return "";
}

std::string_view OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kText:
      return "text";
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kHtml:
      return "html";
    case OutputFormat::kYaml:
      return "yaml";
    case OutputFormat::kWide:
      return "wide";
  }
  return "text";
}

const std::vector<std::string>& KnownCaptureSections() {
  static const std::vector<std::string> kSections = {
      "process", "threads", "stacks", "fds", "sockets", "maps", "limits", "cgroup", "env", "logs"};
  return kSections;
}

StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine cl;
  std::vector<std::string> positionals;
  bool saw_help_word = false;
  bool flags_ended = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool is_flag = !flags_ended && arg.size() > 1 && arg[0] == '-';
    if (!flags_ended && arg == "--") {
      flags_ended = true;
      if (cl.command == Command::kAuditVerify) cl.audit.args.push_back(arg);
      continue;
    }
    if (!is_flag) {
      if (cl.command == Command::kNone && !saw_help_word && arg == "help") {
        saw_help_word = true;
        cl.help = true;
        continue;
      }
      if (cl.command == Command::kNone) {
        auto command = WordCommand(arg);
        if (!command) {
          return UsageError(Command::kNone, "unknown command \"" + arg + "\"");
        }
        cl.command = *command;
        if (cl.command == Command::kAuditVerify) {
          if (i + 1 >= args.size() || args[i + 1] == "--help" || args[i + 1] == "-h") {
            cl.help = true;  // "audit" alone, or "audit --help": show audit verify's usage
            if (i + 1 < args.size()) ++i;
            continue;
          }
          if (args[i + 1] != "verify") {
            return UsageError(Command::kAuditVerify,
                              "unknown audit command \"" + args[i + 1] + "\" (only verify)");
          }
          ++i;
        }
        continue;
      }
      if (cl.command == Command::kAuditVerify) {
        cl.audit.args.push_back(arg);
      } else {
        positionals.push_back(arg);
      }
      continue;
    }

    // A flag: "--name value", "--name=value", "-n value", "-n=value".
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    auto spec = FindFlag(cl.command, name);
    if (cl.command == Command::kAuditVerify && name == "--controller-namespace") {
      if (inline_value) {
        cl.audit.controller_namespace = *inline_value;
      } else if (i + 1 < args.size()) {
        cl.audit.controller_namespace = args[++i];
      } else {
        return UsageError(cl.command, "flag --controller-namespace needs a namespace");
      }
      if (cl.audit.controller_namespace.empty()) {
        return UsageError(cl.command, "flag --controller-namespace needs a namespace");
      }
      continue;
    }
    if (cl.command == Command::kAuditVerify && name == "--session") {
      std::string session;
      if (inline_value) {
        session = *inline_value;
      } else if (i + 1 < args.size()) {
        session = args[++i];
      } else {
        return UsageError(cl.command, "flag --session needs a session name");
      }
      cl.audit.sessions.push_back(session);
      continue;
    }
    if (cl.command == Command::kAuditVerify && (!spec || name == "--help" || name == "-h")) {
      // Not ours: audit verify's own flag (its value, if any, follows as a plain argument).
      if (name == "--help" || name == "-h") cl.audit.help = true;
      if (name == "--anchor") cl.audit.has_anchor = true;
      cl.audit.args.push_back(arg);
      continue;
    }
    if (!spec) {
      if (cl.command == Command::kNone) {
        return UsageError(Command::kNone,
                          "unknown flag " + name + " (flags of a command go after it)");
      }
      return UsageError(cl.command,
                        "unknown flag " + name + " for " + std::string(CommandName(cl.command)));
    }
    std::string value;
    if (spec->boolean) {
      value = inline_value.value_or("true");
    } else if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return UsageError(cl.command, "flag " + name + " needs a value");
      }
    } else if (inline_value) {
      return UsageError(cl.command, "flag " + name + " takes no value");
    }
    EPHEMERA_RETURN_IF_ERROR(ApplyFlag(cl, spec->long_name, value));
  }

  if (saw_help_word) {
    // "help snapshot": the command's usage; "help" alone: the overview.
    if (positionals.size() > 1) return UsageError(cl.command, "help takes at most one command");
    return cl;
  }
  if (cl.help) return cl;
  if (cl.command == Command::kNone) return cl;  // no command: the caller prints the overview
  EPHEMERA_RETURN_IF_ERROR(CheckPositionals(cl, positionals));
  if (cl.command == Command::kLogs) cl.snapshot.capture = {"logs"};
  if (cl.command == Command::kSnapshot || cl.command == Command::kLogs) {
    EPHEMERA_RETURN_IF_ERROR(CheckSession(cl.command, cl.snapshot));
  }
  return cl;
}

std::optional<Command> CommandFromWord(std::string_view word) { return WordCommand(word); }

std::optional<FlagInfo> FindFlagInfo(Command command, std::string_view name) {
  const auto flag = FindFlag(command, name);
  if (!flag) return std::nullopt;
  return FlagInfo{flag->long_name, flag->short_name, flag->takes_value && !flag->boolean};
}

std::vector<FlagInfo> FlagsOf(Command command) {
  std::vector<FlagInfo> flags;
  switch (command) {
    case Command::kKeys:
      AppendFlags(kKeysFlags, flags);
      break;
    case Command::kSnapshot:
      AppendFlags(kSnapshotFlags, flags);
      break;
    case Command::kLogs:
      AppendFlags(kLogsFlags, flags);
      break;
    case Command::kGet:
      AppendFlags(kGetFlags, flags);
      break;
    case Command::kList:
      AppendFlags(kListFlags, flags);
      break;
    case Command::kFetch:
      AppendFlags(kFetchFlags, flags);
      break;
    case Command::kNone:
    case Command::kAuditVerify:
    case Command::kVersion:
      break;
  }
  AppendFlags(kGlobalFlags, flags);
  return flags;
}

std::vector<std::string_view> OutputFormatsOf(Command command) {
  switch (command) {
    case Command::kSnapshot:
    case Command::kFetch:
      return {"text", "json", "html"};
    case Command::kGet:
      return {"text", "json", "yaml"};
    case Command::kList:
      return {"text", "json", "yaml", "wide"};
    case Command::kLogs:
    case Command::kKeys:
    case Command::kNone:
    case Command::kAuditVerify:
    case Command::kVersion:
      break;
  }
  return {"text", "json"};
}

}  // namespace ephemera::command_line
