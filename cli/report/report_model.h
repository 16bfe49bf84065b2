// The report model: what the text and the HTML report show of a snapshot document, already read,
// ordered, labelled and summed up, so that each renderer only lays it out. Internal to
// ephemera_report.
//
// Built by BuildReportModel from a document that api::ValidateSnapshot accepted, through the
// tolerant api::ReadSnapshotDocument: a part the document lacks is empty or nullopt here, and the
// reason the tool gave for it (its degraded entry) comes along. Strings are the document's text,
// not yet escaped for a terminal or HTML. Pure; thread safety: the functions share no state.
#ifndef EPHEMERA_CLI_REPORT_REPORT_MODEL_H_
#define EPHEMERA_CLI_REPORT_REPORT_MODEL_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/snapshot_document.h"
#include "cli/report/report.h"

namespace ephemera::report {

using api::SnapshotValue;

// What redaction.pii (the snapshot tool's --pii mode) masked, for people: "none" -> "not masked
// (pii: none)". An unknown mode is not echoed (the document is input): "unknown mode".
std::string PiiModeText(std::string_view mode);
// 1536 -> "1.5 KiB"; below 1 KiB in bytes ("512 B").
std::string FormatBytes(std::int64_t bytes);
// Microseconds for people: "850 us", "12.3 ms", "2.05 s".
std::string FormatMicros(std::int64_t micros);
// An age or a wait for people: "45 s", "3 min", "2 h 5 min", "3 days".
std::string FormatAge(std::chrono::seconds age);
// A pressure stall line's averages for people: "1.25 / 0.50 / - " as "avg10 / avg60 / avg300"
// percentages with two decimals, "-" for one that is unknown, and "-" for no line at all.
std::string FormatPressureLine(const std::optional<api::SnapshotPressureLine>& line);
// FormatBytes, or "-" when unknown.
std::string OptionalBytes(std::optional<std::int64_t> bytes);
// "1 thread", "2 threads".
std::string Plural(std::size_t n, std::string_view one, std::string_view many);
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

struct HeaderModel {
  std::string title;      // "Ephemera snapshot <session> (<time>)"
  std::string session;    // "namespace/name"; "" when unknown
  std::string requester;  // "" when unknown, likewise below
  std::string reason;
  std::string target;                  // "pod P, container C"
  std::string captured_at;             // the caller's time, else the document's
  std::string schema;                  // apiVersion
  std::optional<std::string> tool;     // "ephemera-snapshot 0.1.0, profile ptrace"
  std::optional<std::string> targets;  // "2 processes, main pid 2533"
  std::string sections;                // "process, threads", or "none"
  std::string budget;                  // "deadline 20.0 s, output cap 4.0 MiB"; "" when none
  std::string degraded;                // "3 entries"
};

// A node of the process tree.
struct TreeNode {
  std::int64_t pid = 0;
  std::string name;
  std::vector<TreeNode> children;
};

struct FrameModel {
  std::string pc;
  std::string function;  // "__nanosleep+19", "??" when the symbol is unknown
  std::string identity;  // the symbol without offset, else the pc: what stacks merge on
  std::string module;
};

// Threads of one process whose stacks are identical (frame by frame the same function and
// module, or the same pc where the symbol is unknown). Threads without a captured stack are
// grouped by their wchan.
struct StackGroup {
  std::vector<std::string> thread_labels;  // "name [tid]" or "[tid]", ascending tid
  std::vector<std::string> states;         // distinct thread states, in first-seen order
  std::vector<std::string> wchans;         // distinct non-empty wchans, in first-seen order
  std::string unwind;                      // the first thread's unwind method, "" if none
  bool has_stack = false;
  std::vector<FrameModel> frames;  // innermost first
};

struct ThreadsModel {
  std::size_t thread_count = 0;
  std::vector<StackGroup> groups;  // most common stack first; ties by lowest tid
  // The threads whose native stack was captured and which also run a language-level stack (a
  // `runtime` member's tid): grouped like `groups`, and shown on demand, after the runtime's.
  std::vector<StackGroup> runtime_groups;
  std::size_t runtime_thread_count = 0;  // the threads in runtime_groups
};

// ---- Language-level stacks (a process's `runtime`) ----

struct RuntimeFrameModel {
  std::string function;
  std::string location;            // "/src/app/main.go:42", "Unsafe.java"; "" when unknown
  std::vector<std::string> locks;  // as jstack prints them (LockText)
};

// Goroutines or threads with one state and one stack, the Go dump's way.
struct RuntimeGroupModel {
  std::int64_t count = 0;
  std::string heading;               // "512 goroutines: chan receive, 14 min"
  std::vector<std::string> members;  // "17", "\"worker-1\" [tid 60]": those listed
  std::int64_t members_left_out = 0;
  std::vector<RuntimeFrameModel> frames;  // innermost first
  bool frames_truncated = false;
};

struct DeadlockModel {
  std::string title;                     // "Java deadlock: \"worker-1\", \"worker-2\""
  std::vector<std::string> description;  // the runtime's words, line by line
};

struct RuntimeModel {
  std::string language;  // LanguageName: "Go", "Python", "Java"
  std::string title;     // "go1.22.5 (memory read, target not stopped): 1034 goroutines"
  std::vector<DeadlockModel> deadlocks;
  std::vector<RuntimeGroupModel> groups;  // largest first, as the document lists them
  std::int64_t groups_omitted = 0;
};

// "Go", "Python", "Java"; another language as the document names it, "" as "runtime".
std::string LanguageName(std::string_view language);
// "1 goroutine", "512 goroutines" for Go; "threads" for the other languages. Negative as 0.
std::string RuntimeMembers(std::string_view language, std::int64_t count);
// The goroutines / threads of a runtime: its `count`, else the sum of its groups' (saturating).
std::int64_t RuntimeTotal(const api::SnapshotRuntime& runtime);
// How long a group has waited: "14 min", "45 s to 3 min"; "" when the document does not say.
std::string WaitText(const api::SnapshotRuntimeGroup& group);
// "/src/app/main.go:42" ("main.go:42" with `base_name`), "Unsafe.java", "" when unknown.
std::string FrameLocation(const api::SnapshotSourceFrame& frame, bool base_name = false);
// The threads of a deadlock, quoted as jstack does: "\"worker-1\", \"worker-2\"".
std::string DeadlockedThreads(const api::SnapshotDeadlock& deadlock);
// jstack's line: "- waiting to lock <0x71a0b2c48> (a java.lang.Object)".
std::string LockText(const api::SnapshotLockNote& lock);
// The innermost frame of the application rather than of the language's runtime or standard
// library (Go: main or a module path with a dot; Java: not java., javax., jdk., sun.; Python: not
// under lib/python), else 0. `frames` must not be empty.
std::size_t ApplicationFrameIndex(std::string_view language,
                                  const std::vector<api::SnapshotSourceFrame>& frames);
// The model of a process's `runtime` object.
RuntimeModel BuildRuntime(const api::SnapshotRuntime& runtime);

struct FdsModel {
  std::string count;                                         // fdCount, else the number listed
  std::vector<std::pair<std::string, std::size_t>> by_type;  // by type name ("unknown" for "")
  std::vector<api::SnapshotFd> fds;
};

struct SocketModel {
  SnapshotValue fd;
  std::string protocol;  // "tcp", "unix/stream"
  std::string local;     // the unix path, "(unbound)" for an unbound one
  std::string remote;
  std::string state;
  SnapshotValue inode;
  std::string send_queue;     // bytes as a number; "" when the document has none
  std::string receive_queue;  // likewise
  std::string accept_queue;   // TCP listeners: connections waiting for accept(); "" otherwise
};

struct MapsModel {
  std::string count;
  std::string bytes;
  // nullopt: the document has no byKind. Largest first.
  std::optional<std::vector<api::SnapshotMapKind>> by_kind;
  std::vector<api::SnapshotMappedFile> files;
  std::optional<api::SnapshotOtherFiles> other_files;
  std::vector<api::SnapshotMapping> largest;
};

struct ThrottlingModel {
  std::string periods;  // "7 of 1200 periods"
  std::string percent;  // " (0.6%)"; "" when there was no period
  std::string total;    // ", 2.50 ms in total"; "" when unknown
};

struct CgroupModel {
  std::string where;  // "v2, read from the target's view"
  std::string cpu_path;
  std::string memory_path;
  std::optional<std::string> cpu_used;   // "987 ms"
  std::optional<std::string> cpu_quota;  // "0.50 CPU (50000 us per 100000 us)" or "none"
  std::optional<ThrottlingModel> throttled;
  std::string memory;  // "7.0 MiB used, limit 256 MiB"
};

struct EnvVarModel {
  std::string name;
  std::string value;  // "(dropped: redaction failed)" when left out
};

// One per-process section: whether it was asked for, its content when captured, and the reason
// the tool gave for it (its last degraded entry; "" when none).
template <typename T>
struct SectionModel {
  bool requested = false;
  std::optional<T> content;
  std::string degraded_reason;
};

struct ProcessModel {
  std::int64_t pid = 0;
  std::string name;
  SnapshotValue ppid;
  std::string state_letter;
  std::string state;  // "S (sleeping)"; "" when unknown
  SnapshotValue thread_count;
  std::optional<std::int64_t> rss_bytes;
  // "512 KiB", "1.0 MiB", "120 MiB" (RSS, peak RSS, virtual); absent figures are "-".
  struct Memory {
    std::string rss, peak, virtual_size;
  };
  std::optional<Memory> memory;
  struct Cpu {
    SnapshotValue user_millis, system_millis;
    std::optional<std::int64_t> last_processor;
  };
  std::optional<Cpu> cpu;
  std::optional<std::string> switches;  // "6 voluntary, 3 involuntary"
  std::optional<api::SnapshotIds> uids;
  std::optional<api::SnapshotIds> gids;
  std::optional<std::string> capabilities;  // "effective …, permitted …, bounding …"
  std::optional<std::string> io;            // "read 816 B, written 89 B"
  std::optional<std::string> cmdline;
  SnapshotValue fd_count;
  // "1000 open, soft limit 1024 (97.7%)", "12 open, no limit", "12 open" (limit unknown); nullopt
  // when the document has no integer fdCount.
  std::optional<std::string> fds_vs_limit;
  // The process's `blockedThreads` (state D), when the document has the list.
  std::optional<std::vector<api::SnapshotBlockedThread>> blocked_threads;

  SectionModel<ThreadsModel> threads;  // threads or stacks; the reason is that of stacks if asked
  SectionModel<FdsModel> fds;
  SectionModel<std::vector<SocketModel>> sockets;
  SectionModel<MapsModel> maps;
  SectionModel<CgroupModel> cgroup;
  SectionModel<std::vector<api::SnapshotLimit>> limits;
  SectionModel<std::vector<EnvVarModel>> env;
  std::size_t degraded_entries = 0;
  std::optional<RuntimeModel> runtime;  // the language-level stacks, when the document has them
};

struct RedactionModel {
  std::optional<std::string> pii;  // PiiModeText of the mode, when the document names one
  std::string env_redacted;
  std::vector<api::SnapshotRuleCount> patterns_matched;  // by rule name
  std::vector<std::string> dropped_fields;
};

struct ThreadFreeze {
  std::int64_t pid = 0;
  SnapshotValue tid;
  std::string name;
  SnapshotValue freeze_micros;
  std::string unwind;
};

struct OverheadModel {
  std::string target_freeze;  // "559 us"; "-" when unknown, likewise below
  std::string target_max_thread_freeze;
  std::string tool_cpu;
  std::string tool_rss;
  std::string wall;
  // What the tool was allowed, from the document's budget: "CPU 2.00 s, memory 64 MiB, wall
  // 20.00 s" (only the budgets it had); "" when the document names none.
  std::string budget = {};
  // The budget that stopped the capture early ("CPU", "memory", "wall (deadline)"); "" when none.
  std::string budget_reached = {};
};

// ---- Findings: what the report opens with ----
//
// Each is computed from the document alone, never guessed: a figure the document lacks makes no
// finding. Thresholds (documented in docs/cli.md, "Findings"; decided in
// docs/decisions/incident-evidence.md):

// A listener's accept queue at or above this share of its known limit. The real limit,
// min(listen() backlog, somaxconn), is only in sock_diag; /proc gives somaxconn, its ceiling.
inline constexpr double kAcceptQueueFullRatio = 0.90;
// cpu.stat nr_throttled / nr_periods at or above this: the quota cut the workload short often.
inline constexpr double kCpuThrottledRatio = 0.25;
// Open fds at or above this share of the soft RLIMIT_NOFILE: the next accept() or open() may fail
// with EMFILE.
inline constexpr double kFdsNearLimitRatio = 0.90;
// The cgroup's memory usage at or above this share of its limit: reclaim, then the OOM killer.
inline constexpr double kMemoryNearLimitRatio = 0.90;
// Threads in state D sharing one wchan from which the finding names the shared wchan.
inline constexpr std::size_t kBlockedThreadsOnOneWchan = 5;
// Threads whose wchan is a futex wait and whose stacks match, from which they are a lock convoy.
inline constexpr std::size_t kFutexConvoyThreads = 10;
// A group of goroutines / threads that has waited this long in one place (its shortest wait) ...
inline constexpr std::chrono::seconds kRuntimeWaitLong{60};
// ... with at least this many members, or with at least this share of the runtime's members and
// at least kRuntimeWaitMinMembers (a few idle workers waiting for work are no finding), is stuck.
inline constexpr std::int64_t kRuntimeWaitGroupMembers = 100;
inline constexpr double kRuntimeWaitGroupShare = 0.50;
inline constexpr std::int64_t kRuntimeWaitMinMembers = 10;
// Exit code of a process killed by SIGKILL (128 + 9), which is how the OOM killer ends one.
inline constexpr std::int64_t kKilledExitCode = 137;
// At most this many findings are listed; the rest are counted.
inline constexpr std::size_t kMaxFindings = 32;

struct Finding {
  // Stable kind: "runtime-deadlock", "accept-queue", "cpu-throttled", "fds-near-limit",
  // "memory-near-limit", "oom-kill", "blocked-threads", "futex-convoy", "runtime-wait",
  // "previous-instance-killed".
  std::string kind;
  std::string title;      // "CPU throttled in 63% of periods"
  std::string evidence;   // where it comes from and the figures: "cpu.stat of /kubepods/pod7: ..."
  bool critical = false;  // the workload cannot recover by itself (a deadlock)
};

struct FindingsModel {
  std::vector<Finding> findings;  // at most kMaxFindings, in the order of the kinds above
  std::size_t left_out = 0;
};

// The findings of a document. Never fails; hostile figures (negative, huge, of another type) make
// no finding.
FindingsModel ComputeFindings(const api::SnapshotDocument& document);

// ---- Evidence and logs ----

struct EvidenceModel {
  bool network_requested = false;  // sockets
  bool cgroup_requested = false;   // cgroup
  std::optional<api::SnapshotNetworkEvidence> network;
  std::optional<api::SnapshotPressureEvidence> pressure;
  std::optional<api::SnapshotMemoryEvidence> memory;
};

struct LogInstanceModel {
  std::string title;    // "previous instance"
  std::string summary;  // "restart count 3; 2 lines (140 B read); 1 line dropped; cut at the limit"
  std::optional<std::string> termination;  // "exit code 137, signal 9, OOMKilled; ran ... to ..."
  std::optional<std::string> error;
  std::vector<std::string> lines;  // not yet escaped
  std::size_t lines_left_out = 0;
};

struct LogsModel {
  std::string container;
  std::string limits;  // "last 1000 lines, 256 KiB per instance, since 3600 s"; "" when unknown
  std::vector<LogInstanceModel> instances;
};

struct ReportModel {
  HeaderModel header;
  FindingsModel findings;
  std::vector<std::string> sections;  // requested, as listed
  bool threads_requested = false;     // threads or stacks
  bool stacks_requested = false;
  // Roots first (ascending pid), then entries caught in a parent cycle; nullopt when the document
  // lists no tree entry (an empty tree: it lists only damaged ones).
  std::optional<std::vector<TreeNode>> process_tree;
  std::vector<ProcessModel> processes;
  std::optional<RedactionModel> redaction;
  std::vector<api::SnapshotDegraded> degraded;
  std::optional<OverheadModel> overhead;
  std::vector<ThreadFreeze> freezes;      // every thread with a captured stack, in document order
  std::optional<EvidenceModel> evidence;  // nullopt: the document has no `evidence` object
  bool logs_requested = false;
  std::optional<LogsModel> logs;  // nullopt: the document has no `logs` object

  bool Requested(std::string_view section) const;
};

// The model of a document. Never fails: see the top of this file.
ReportModel BuildReportModel(const api::SnapshotDocument& document, const ReportContext& context);

// The stack groups of one process's threads (exposed for tests).
std::vector<StackGroup> GroupThreadsByStack(const std::vector<api::SnapshotThread>& threads);
// Identity of a thread's stack for grouping: every frame's function (pc when unknown) and module;
// for a thread without a captured stack, its wchan.
std::string StackKey(const api::SnapshotThread& thread);
// A share for people: 0.976 -> "97.6%".
std::string FormatPercent(double ratio);

// ValidateSnapshot, then BuildReportModel and `render`; a JSON exception from a path the
// tolerant reading missed becomes InvalidArgument instead of escaping.
template <typename Render>
StatusOr<std::string> RenderValidated(const nlohmann::json& snapshot, const ReportContext& context,
                                      Render render) {
  EPHEMERA_RETURN_IF_ERROR(api::ValidateSnapshot(snapshot));
  try {
    return render(BuildReportModel(api::ReadSnapshotDocument(snapshot), context));
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(std::string("snapshot document could not be read: ") + e.what());
  }
}

}  // namespace ephemera::report

#endif  // EPHEMERA_CLI_REPORT_REPORT_MODEL_H_
