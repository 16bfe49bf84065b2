// The command line of kubectl-ephemera: what the user asked for, parsed and checked, before any
// I/O. Pure: values in, values out.
//
//   kubectl-ephemera [GLOBAL FLAGS] COMMAND [ARGS] [FLAGS]
//
// Global flags (--kubeconfig, -n/--namespace, --context) may appear anywhere, as kubectl passes
// them on to plugins. Flags take their value as the next argument or after '=' ("--ttl 5m",
// "--ttl=5m", "-n team-a", "-n=team-a"); "--" ends the flags. Errors are kInvalidArgument with one
// sentence that names the flag or argument and how to get help.
#ifndef EPHEMERA_CLI_COMMAND_LINE_COMMAND_LINE_H_
#define EPHEMERA_CLI_COMMAND_LINE_COMMAND_LINE_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ephemera::command_line {

enum class Command { kNone, kKeys, kSnapshot, kLogs, kGet, kList, kFetch, kAuditVerify, kVersion };

// "snapshot", "audit verify", …; "" for kNone.
std::string_view CommandName(Command command);

// yaml and wide as kubectl prints them: yaml for get and list, wide (more columns) for list.
enum class OutputFormat { kText, kJson, kHtml, kYaml, kWide };
std::string_view OutputFormatName(OutputFormat format);

// Where the cluster is. Empty strings mean "not given": the kubeconfig decides (cluster_target.h).
struct GlobalOptions {
  std::string kubeconfig{};
  std::string namespace_name{};
  std::string context{};
};

struct KeysOptions {
  bool show = false;  // print the recipient of an existing identity; never create one
};

// spec.logs of the session: the bounds of the log pull. Each field is sent only when the user gave
// it; the server applies its defaults and the policy's ceilings to the rest.
struct LogOptions {
  std::optional<std::int64_t> tail_lines{};   // --tail N, N >= 1
  std::optional<std::int64_t> limit_bytes{};  // --limit-bytes N, N >= 1
  std::string since{};                        // --since DURATION as written; empty: no window
  std::optional<bool> previous{};             // --previous[=BOOL], --no-previous

  // True when any of the flags above was given.
  bool HasAny() const {
    return tail_lines.has_value() || limit_bytes.has_value() || !since.empty() ||
           previous.has_value();
  }
};

// Options of `snapshot` and of `logs`, which creates the same kind of session with capture [logs].
struct SnapshotOptions {
  std::string pod{};
  std::string container{};  // empty: the pod's default container
  std::string reason{};
  // As written, checked against the CRD's 30s..24h; empty: not given, so spec.ttl is left out and
  // the cluster policy's defaultTtl applies.
  std::string ttl{};
  std::string profile = "restricted";
  std::string pii{};                   // empty: the cluster policy's default
  std::vector<std::string> capture{};  // empty: the CRD's default sections; logs: ["logs"]
  LogOptions logs{};
  bool timestamps = false;  // logs --timestamps: keep the kubelet's timestamp in front of each line
  std::string name{};       // empty: generateName from the pod name
  std::chrono::seconds timeout{120};
  OutputFormat output = OutputFormat::kText;
  std::string file{};  // empty: stdout (snapshot only)
  // --native-frames: the report shows the native stacks of threads that have a language-level
  // stack too (report::ReportOptions); no effect on -o json.
  bool native_frames = false;
};

struct SessionQueryOptions {  // get, list
  std::string session{};      // get only
  OutputFormat output = OutputFormat::kText;
  bool all_namespaces = false;  // list -A/--all-namespaces
};

struct FetchOptions {
  std::string session{};
  OutputFormat output = OutputFormat::kText;
  std::string file{};
  bool native_frames = false;  // as SnapshotOptions::native_frames
};

struct AuditVerifyOptions {
  // Everything after "audit verify" except the global flags, for audit::RunAuditVerify.
  std::vector<std::string> args{};
  bool has_anchor = false;  // the user gave --anchor
  // --session NAME (repeatable, ours): anchor only these sessions' chains, from their status.
  std::vector<std::string> sessions{};
  // --controller-namespace NS (ours): also anchor at the heads the controller keeps as ConfigMaps
  // in NS (audit/anchor.h); they win over the sessions' status.audit.
  std::string controller_namespace{};
  bool help = false;
};

struct CommandLine {
  Command command = Command::kNone;
  bool help = false;  // --help/-h or "help [COMMAND]": print the command's usage and exit 0
  GlobalOptions global{};
  KeysOptions keys{};
  SnapshotOptions snapshot{};  // snapshot and logs
  SessionQueryOptions query{};
  FetchOptions fetch{};
  AuditVerifyOptions audit{};
};

// `args` excludes the program name.
StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// The sections `--capture` accepts, in the CRD's order.
const std::vector<std::string>& KnownCaptureSections();

// The command a word names ("ls" is list, "audit" is audit verify); nullopt for any other word.
std::optional<Command> CommandFromWord(std::string_view word);

// A flag `command` takes (the global ones included), as the parser knows it.
struct FlagInfo {
  std::string_view long_name;   // "--ttl"
  std::string_view short_name;  // "-c", or ""
  bool takes_value = false;     // the next word (or what follows '=') is its value
};
std::optional<FlagInfo> FindFlagInfo(Command command, std::string_view name);
// Every flag `command` takes, the global ones last.
std::vector<FlagInfo> FlagsOf(Command command);
// The -o/--output formats `command` takes, in the order its usage lists them.
std::vector<std::string_view> OutputFormatsOf(Command command);

}  // namespace ephemera::command_line

#endif  // EPHEMERA_CLI_COMMAND_LINE_COMMAND_LINE_H_
