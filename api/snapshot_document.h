// The snapshot document (`ephemera.dev/snapshot/v1`, docs/snapshot-format.md): the contract between
// the snapshot tool, which writes it, the controller, which takes a summary from it, and the CLI,
// which renders it. Its names are declared here once.
//
// The document comes out of the target pod, so it is hostile input: a workload that takes the
// tool over can write anything. Both readers here are built for that:
// - ReadSnapshotDocument is tolerant, for the reports: a field that is absent or of another type
//   reads as "not there", so a partly captured or damaged document still renders. It never throws.
// - ParseSnapshotDocument is strict and bounded, for the controller: it parses the text with the
//   project's nesting limit, type-checks every field it reads and bounds what it keeps, because
//   that ends up in the session's status and the audit trail.
//
// Pure: values in, values out. Thread safety: the functions share no state.
#ifndef EPHEMERA_API_SNAPSHOT_DOCUMENT_H_
#define EPHEMERA_API_SNAPSHOT_DOCUMENT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/debug_session.h"
#include "base/status.h"

namespace ephemera::api {

inline constexpr std::string_view kSnapshotApiVersion = "ephemera.dev/snapshot/v1";
inline constexpr std::string_view kSnapshotKind = "Snapshot";
inline constexpr std::string_view kSnapshotToolName = "ephemera-snapshot";

// The sections a snapshot can hold, as `sections` and --capture name them.
namespace snapshot_section {
inline constexpr std::string_view kProcess = "process";
inline constexpr std::string_view kThreads = "threads";
inline constexpr std::string_view kStacks = "stacks";
inline constexpr std::string_view kFds = "fds";
inline constexpr std::string_view kSockets = "sockets";
inline constexpr std::string_view kMaps = "maps";
inline constexpr std::string_view kLimits = "limits";
inline constexpr std::string_view kCgroup = "cgroup";
inline constexpr std::string_view kEnv = "env";
// The controller's log pull (docs/decisions/log-pull.md): the controller writes the top-level
// `logs` object and lists it in `sections`. Not a --capture section of the tool, so not in kAll.
inline constexpr std::string_view kLogs = "logs";
// The `section` of a degraded entry about the whole document.
inline constexpr std::string_view kWholeDocument = "*";
// In canonical order, the order `sections` lists them in.
inline constexpr std::array<std::string_view, 9> kAll = {
    kProcess, kThreads, kStacks, kFds, kSockets, kMaps, kLimits, kCgroup, kEnv};
}  // namespace snapshot_section

// The names of the fields more than one program reads or writes: the top level, the targets, the
// redaction report, the degraded entries and the overhead. The fields inside a process are the
// tool's and the report's business and are read in one place, ReadSnapshotDocument.
namespace snapshot_field {
inline constexpr std::string_view kApiVersion = "apiVersion";
inline constexpr std::string_view kKind = "kind";
inline constexpr std::string_view kCaptureTime = "captureTime";
inline constexpr std::string_view kTool = "tool";
inline constexpr std::string_view kBudget = "budget";
inline constexpr std::string_view kTargets = "targets";
inline constexpr std::string_view kSections = "sections";
inline constexpr std::string_view kProcessTree = "processTree";
inline constexpr std::string_view kProcesses = "processes";
inline constexpr std::string_view kRedaction = "redaction";
inline constexpr std::string_view kDegraded = "degraded";
inline constexpr std::string_view kOverhead = "overhead";
inline constexpr std::string_view kEvidence = "evidence";  // see evidence_field
inline constexpr std::string_view kLogs = "logs";          // see log_field
// targets
inline constexpr std::string_view kMainPid = "mainPid";
inline constexpr std::string_view kPids = "pids";
// redaction
inline constexpr std::string_view kPii = "pii";
inline constexpr std::string_view kEnvRedacted = "envRedacted";
inline constexpr std::string_view kPatternsMatched = "patternsMatched";
inline constexpr std::string_view kDroppedFields = "droppedFields";
// degraded entries
inline constexpr std::string_view kSection = "section";
inline constexpr std::string_view kPid = "pid";
inline constexpr std::string_view kTid = "tid";
inline constexpr std::string_view kReason = "reason";
// overhead
inline constexpr std::string_view kTargetFreezeMicros = "targetFreezeMicros";
inline constexpr std::string_view kTargetMaxThreadFreezeMicros = "targetMaxThreadFreezeMicros";
inline constexpr std::string_view kToolCpuMillis = "toolCpuMillis";
inline constexpr std::string_view kToolMaxRssKiB = "toolMaxRssKiB";
inline constexpr std::string_view kWallMillis = "wallMillis";
// Which budget (kBudgetCpu, kBudgetMemory, kBudgetWall of debug_session.h) stopped the capture
// early; absent when none did.
inline constexpr std::string_view kBudgetReached = "budgetReached";
// budget
inline constexpr std::string_view kDeadlineMillis = "deadlineMillis";
inline constexpr std::string_view kMaxOutputBytes = "maxOutputBytes";
inline constexpr std::string_view kCpuMillis = "cpuMillis";
inline constexpr std::string_view kMemoryBytes = "memoryBytes";
// The controller-only section (docs/decisions/log-pull.md): written by the tool when --capture
// names logs, read and removed by the controller before the document leaves it.
inline constexpr std::string_view kControllerOnly = "controllerOnly";
inline constexpr std::string_view kValueKeys = "valueKeys";
// How many target processes' environments the tool could not read (their values are missing).
inline constexpr std::string_view kEnvironsUnread = "environsUnread";
}  // namespace snapshot_field

// Bounds of controllerOnly.valueKeys: the tool writes at most this many values (redact's
// kMaxSecretValues), each cut to kMaxValueKeyBytes; the controller refuses anything beyond.
inline constexpr std::size_t kMaxValueKeys = 512;
inline constexpr std::size_t kMaxValueKeyBytes = 4096;

// The per-process fields of the incident evidence (docs/decisions/incident-evidence.md), beside
// the others of a process entry.
namespace process_field {
inline constexpr std::string_view kSockets = "sockets";
inline constexpr std::string_view kThreads = "threads";
// socket entries (inet): bytes queued; for a TCP listener, connections waiting for accept()
inline constexpr std::string_view kSendQueueBytes = "sendQueueBytes";
inline constexpr std::string_view kReceiveQueueBytes = "receiveQueueBytes";
inline constexpr std::string_view kAcceptQueue = "acceptQueue";
// open fds, written with the `fds` section; the soft limit is in `limits`
inline constexpr std::string_view kFdCount = "fdCount";
// threads in state D, written with the `threads` section: [{tid, name, wchan}]
inline constexpr std::string_view kBlockedThreads = "blockedThreads";
inline constexpr std::string_view kTid = "tid";
inline constexpr std::string_view kName = "name";
inline constexpr std::string_view kWchan = "wchan";
}  // namespace process_field

// A process's `runtime` object: its language-level stacks (Go goroutines, Python threads, Java
// threads), written with the `stacks` section (docs/snapshot-format.md, "runtime").
namespace runtime_field {
inline constexpr std::string_view kRuntime = "runtime";
inline constexpr std::string_view kLanguage = "language";  // "go", "python", "java"
inline constexpr std::string_view kVersion = "version";
inline constexpr std::string_view kMethod = "method";  // "memory" or "attach"
inline constexpr std::string_view kFreezeMicros = "freezeMicros";
inline constexpr std::string_view kCount = "count";  // goroutines / threads the runtime has
inline constexpr std::string_view kGroups = "groups";
inline constexpr std::string_view kGroupsOmitted = "groupsOmitted";
inline constexpr std::string_view kState = "state";
inline constexpr std::string_view kWaitSeconds = "waitSeconds";  // {min, max}
inline constexpr std::string_view kMin = "min";
inline constexpr std::string_view kMax = "max";
inline constexpr std::string_view kMembers = "members";  // [{id, name, tid}]
inline constexpr std::string_view kId = "id";
inline constexpr std::string_view kName = "name";
inline constexpr std::string_view kTid = "tid";
inline constexpr std::string_view kFrames = "frames";
inline constexpr std::string_view kFramesTruncated = "framesTruncated";
inline constexpr std::string_view kFunction = "function";
inline constexpr std::string_view kFile = "file";
inline constexpr std::string_view kLine = "line";
inline constexpr std::string_view kLocks = "locks";  // [{action, class, id}]
inline constexpr std::string_view kAction = "action";
inline constexpr std::string_view kClass = "class";
inline constexpr std::string_view kDeadlocks = "deadlocks";  // [{members, description}]
inline constexpr std::string_view kDescription = "description";
}  // namespace runtime_field

// Bounds of the `runtime` object: groups listed (the rest counted in groupsOmitted) and members
// listed per group (the rest are in its count).
inline constexpr std::size_t kMaxRuntimeGroups = 1000;
inline constexpr std::size_t kMaxRuntimeGroupMembers = 16;

// The top-level `evidence` object: what describes the pod or the container rather than one
// process, read once for the main target. Each part is written with the section it belongs to:
// `network` with sockets, `pressure` and `memory` with cgroup. A part that could not be read
// (wholly or partly) lists why in its `errors`, and `degraded` has an entry for it; a counter the
// kernel does not print is absent, never 0.
namespace evidence_field {
inline constexpr std::string_view kNetwork = "network";
inline constexpr std::string_view kPressure = "pressure";
inline constexpr std::string_view kMemory = "memory";
inline constexpr std::string_view kErrors = "errors";
// network
inline constexpr std::string_view kCounters = "counters";
inline constexpr std::string_view kListeners = "listeners";
inline constexpr std::string_view kListenersTruncated = "listenersTruncated";
inline constexpr std::string_view kSomaxconn = "somaxconn";
inline constexpr std::string_view kProtocol = "protocol";
inline constexpr std::string_view kLocal = "local";
inline constexpr std::string_view kInode = "inode";
inline constexpr std::string_view kAcceptQueue = process_field::kAcceptQueue;
// network counters (see kNetworkCounters)
inline constexpr std::string_view kListenOverflows = "listenOverflows";
inline constexpr std::string_view kListenDrops = "listenDrops";
inline constexpr std::string_view kSynQueueFullDrops = "synQueueFullDrops";
inline constexpr std::string_view kBacklogDrops = "backlogDrops";
inline constexpr std::string_view kRetransmittedSegments = "retransmittedSegments";
inline constexpr std::string_view kRetransmissionTimeouts = "retransmissionTimeouts";
inline constexpr std::string_view kSynRetransmits = "synRetransmits";
inline constexpr std::string_view kAttemptFails = "attemptFails";
inline constexpr std::string_view kEstablishedResets = "establishedResets";
inline constexpr std::string_view kResetsSent = "resetsSent";
inline constexpr std::string_view kAbortsOnData = "abortsOnData";
inline constexpr std::string_view kAbortsOnClose = "abortsOnClose";
inline constexpr std::string_view kAbortsOnMemory = "abortsOnMemory";
inline constexpr std::string_view kAbortsOnTimeout = "abortsOnTimeout";
inline constexpr std::string_view kCurrentEstablished = "currentEstablished";
inline constexpr std::string_view kUdpReceiveBufferErrors = "udpReceiveBufferErrors";
// pressure
inline constexpr std::string_view kSource = "source";  // "cgroup" or "system"
inline constexpr std::string_view kCpu = "cpu";
inline constexpr std::string_view kIo = "io";
inline constexpr std::string_view kSome = "some";
inline constexpr std::string_view kFull = "full";
inline constexpr std::string_view kAvg10 = "avg10";    // percent of wall time, last 10 s
inline constexpr std::string_view kAvg60 = "avg60";    // likewise over 60 s
inline constexpr std::string_view kAvg300 = "avg300";  // likewise over 300 s
inline constexpr std::string_view kTotal = "total";    // cumulative stall, microseconds
// memory
inline constexpr std::string_view kCgroupVersion = "cgroupVersion";
inline constexpr std::string_view kCgroupPath = "cgroupPath";
inline constexpr std::string_view kEvents = "events";  // v2 memory.events
inline constexpr std::string_view kLow = "low";
inline constexpr std::string_view kHigh = "high";
inline constexpr std::string_view kMax = "max";
inline constexpr std::string_view kOom = "oom";
inline constexpr std::string_view kOomKill = "oomKill";
inline constexpr std::string_view kOomGroupKill = "oomGroupKill";
inline constexpr std::string_view kOomControl = "oomControl";  // v1 memory.oom_control
inline constexpr std::string_view kOomKillDisable = "oomKillDisable";
inline constexpr std::string_view kUnderOom = "underOom";
inline constexpr std::string_view kFailcnt = "failcnt";  // v1 memory.failcnt
}  // namespace evidence_field

// A network counter of `evidence.network.counters`: its name in the document and the kernel's
// ("TcpExt ListenOverflows"), in the order documents and reports list them.
struct NetworkCounterName {
  std::string_view field;
  std::string_view kernel;
};
inline constexpr std::array<NetworkCounterName, 16> kNetworkCounters = {{
    {evidence_field::kListenOverflows, "TcpExt ListenOverflows"},
    {evidence_field::kListenDrops, "TcpExt ListenDrops"},
    {evidence_field::kSynQueueFullDrops, "TcpExt TCPReqQFullDrop"},
    {evidence_field::kBacklogDrops, "TcpExt TCPBacklogDrop"},
    {evidence_field::kRetransmittedSegments, "Tcp RetransSegs"},
    {evidence_field::kRetransmissionTimeouts, "TcpExt TCPTimeouts"},
    {evidence_field::kSynRetransmits, "TcpExt TCPSynRetrans"},
    {evidence_field::kAttemptFails, "Tcp AttemptFails"},
    {evidence_field::kEstablishedResets, "Tcp EstabResets"},
    {evidence_field::kResetsSent, "Tcp OutRsts"},
    {evidence_field::kAbortsOnData, "TcpExt TCPAbortOnData"},
    {evidence_field::kAbortsOnClose, "TcpExt TCPAbortOnClose"},
    {evidence_field::kAbortsOnMemory, "TcpExt TCPAbortOnMemory"},
    {evidence_field::kAbortsOnTimeout, "TcpExt TCPAbortOnTimeout"},
    {evidence_field::kCurrentEstablished, "Tcp CurrEstab"},
    {evidence_field::kUdpReceiveBufferErrors, "Udp RcvbufErrors"},
}};

// The top-level `logs` object, written by the controller (docs/decisions/log-pull.md).
namespace log_field {
inline constexpr std::string_view kContainer = "container";
inline constexpr std::string_view kLimits = "limits";
inline constexpr std::string_view kTailLines = "tailLines";
inline constexpr std::string_view kLimitBytes = "limitBytes";
inline constexpr std::string_view kSinceSeconds = "sinceSeconds";
inline constexpr std::string_view kInstances = "instances";
inline constexpr std::string_view kInstance = "instance";  // kCurrent or kPrevious
inline constexpr std::string_view kCurrent = "current";
inline constexpr std::string_view kPrevious = "previous";
inline constexpr std::string_view kRestartCount = "restartCount";
inline constexpr std::string_view kLines = "lines";
inline constexpr std::string_view kLineCount = "lineCount";
inline constexpr std::string_view kBytes = "bytes";
inline constexpr std::string_view kTruncated = "truncated";
inline constexpr std::string_view kDroppedLines = "droppedLines";
inline constexpr std::string_view kTermination = "termination";
inline constexpr std::string_view kExitCode = "exitCode";
inline constexpr std::string_view kSignal = "signal";
inline constexpr std::string_view kReason = "reason";
inline constexpr std::string_view kStartedAt = "startedAt";
inline constexpr std::string_view kFinishedAt = "finishedAt";
inline constexpr std::string_view kError = "error";
}  // namespace log_field

// ---- The tolerant, typed reading (for the reports) ----

// A value as the document holds it, where the format allows several types (an int or "unlimited",
// an int or null) or the reader does not insist on one.
struct SnapshotValue {
  bool present = false;
  std::optional<std::int64_t> integer;  // when it is an integer that fits
  // For display: an integer or a string as it is, null as "-", absent as "", anything else as JSON.
  std::string text;
};

struct SnapshotTool {
  std::string name;
  std::string version;
  std::string profile;
};

struct SnapshotBudget {
  std::optional<std::int64_t> deadline_millis;
  std::optional<std::int64_t> max_output_bytes;
  std::optional<std::int64_t> cpu_millis;    // absent: no CPU budget
  std::optional<std::int64_t> memory_bytes;  // absent: no memory budget
};

struct SnapshotTargets {
  std::optional<std::int64_t> main_pid;
  std::size_t pid_count = 0;  // entries of `pids`
};

struct SnapshotTreeEntry {
  std::optional<std::int64_t> pid;  // nullopt in a damaged entry
  std::optional<std::int64_t> ppid;
  std::string name;
  std::vector<std::int64_t> children;  // the integer entries, as listed
};

struct SnapshotFrame {
  std::string pc;
  std::string symbol;  // "" when unknown
  std::optional<std::int64_t> offset;
  std::string module;
};

struct SnapshotStack {
  std::string unwind;
  SnapshotValue freeze_micros;
  std::vector<SnapshotFrame> frames;
};

struct SnapshotThread {
  SnapshotValue tid;
  std::string name;
  std::string state;
  std::string wchan;
  std::optional<SnapshotStack> stack;  // present when the stack was captured
};

struct SnapshotFd {
  SnapshotValue fd;
  std::string type;
  std::string target;
};

struct SnapshotSocket {
  SnapshotValue fd;
  SnapshotValue inode;
  std::string protocol;
  std::string local;
  std::string remote;
  std::string state;
  std::string type;                                 // unix only
  std::string path;                                 // unix only
  std::optional<std::int64_t> send_queue_bytes;     // inet only
  std::optional<std::int64_t> receive_queue_bytes;  // inet only
  std::optional<std::int64_t> accept_queue;         // TCP listeners only
};

// An entry of a process's `blockedThreads`.
struct SnapshotBlockedThread {
  SnapshotValue tid;
  std::string name;
  std::string wchan;
};

struct SnapshotMapKind {
  std::string kind;
  SnapshotValue count;
  std::optional<std::int64_t> bytes;
};

struct SnapshotMappedFile {
  std::string path;
  SnapshotValue count;
  std::optional<std::int64_t> bytes;
};

struct SnapshotMapping {
  std::string start;
  std::string end;
  std::optional<std::int64_t> bytes;
  std::string perms;
  std::string kind;
  std::string path;
};

struct SnapshotOtherFiles {
  SnapshotValue files;
  std::optional<std::int64_t> bytes;
};

struct SnapshotMaps {
  SnapshotValue count;
  std::optional<std::int64_t> bytes;
  std::optional<std::vector<SnapshotMapKind>> by_kind;  // in key order; nullopt: no `byKind`
  std::vector<SnapshotMappedFile> files;
  std::optional<SnapshotOtherFiles> other_files;
  std::vector<SnapshotMapping> largest;
};

struct SnapshotCgroup {
  SnapshotValue version;
  std::string source;
  std::string cpu_path;
  std::string memory_path;
  std::optional<std::int64_t> cpu_usage_nanos;
  std::optional<std::int64_t> cpu_quota_micros;
  std::optional<std::int64_t> cpu_period_micros;
  std::optional<std::int64_t> nr_periods;
  std::optional<std::int64_t> nr_throttled;
  std::optional<std::int64_t> throttled_nanos;
  std::optional<std::int64_t> memory_usage_bytes;
  SnapshotValue memory_limit_bytes;  // an int, "unlimited" or null
};

struct SnapshotLimit {
  std::string name;
  SnapshotValue soft;
  SnapshotValue hard;
  std::string units;
};

// ---- A process's language-level stacks (`runtime`) ----

// Bounds of the tolerant reading beyond the documented kMaxRuntimeGroups and
// kMaxRuntimeGroupMembers, each well above what the tool writes.
inline constexpr std::size_t kMaxReadRuntimeFrames = 256;          // the tool writes at most 64
inline constexpr std::size_t kMaxReadRuntimeLocks = 32;            // per frame
inline constexpr std::size_t kMaxReadRuntimeDeadlocks = 64;        // one per cycle the JVM found
inline constexpr std::size_t kMaxReadRuntimeDeadlockMembers = 64;  // threads in one cycle

// A lock note under a frame, as jstack prints it: "- waiting to lock <0x…> (a java.lang.Object)".
struct SnapshotLockNote {
  std::string action;      // "locked", "waiting to lock", "waiting on", "parking to wait for"
  std::string class_name;  // "java.lang.Object"
  std::string id;          // "0x000000071a0b2c48"
};

struct SnapshotSourceFrame {
  std::string function;
  std::string file;                     // "" when unknown
  std::optional<std::int64_t> line;     // nullopt when unknown
  std::vector<SnapshotLockNote> locks;  // object entries, at most kMaxReadRuntimeLocks
};

// A goroutine or thread listed in a group.
struct SnapshotRuntimeMember {
  std::string id;                   // display text: goroutine id, Python thread id, JVM thread id
  std::string name;                 // "" when the runtime has none (goroutines)
  std::optional<std::int64_t> tid;  // the OS thread, which links to `threads[].tid`
};

// Goroutines or threads with the same state and the same frames.
struct SnapshotRuntimeGroup {
  std::int64_t count = 0;  // `count`, else (absent or below the members listed) the members listed
  std::string state;
  std::optional<std::int64_t> min_wait_seconds;  // both set, or neither: from `waitSeconds`
  std::optional<std::int64_t> max_wait_seconds;
  std::vector<SnapshotRuntimeMember> members;  // object entries, at most kMaxRuntimeGroupMembers
  std::vector<SnapshotSourceFrame> frames;     // innermost first, at most kMaxReadRuntimeFrames
  bool frames_truncated = false;               // the tool's flag, or the read bound was hit
};

struct SnapshotDeadlock {
  std::vector<std::string> members;  // display text of each entry (thread names)
  std::string description;           // the runtime's words, one line per edge
};

struct SnapshotRuntime {
  std::string language;  // "go", "python", "java", or whatever the document says
  std::string version;
  std::string method;  // "memory" or "attach"
  std::optional<std::int64_t> freeze_micros;
  std::optional<std::int64_t> count;         // goroutines / threads the runtime has
  std::vector<SnapshotRuntimeGroup> groups;  // object entries, at most kMaxRuntimeGroups, in order
  std::int64_t groups_omitted = 0;  // `groupsOmitted` plus the entries beyond the read bound
  std::vector<SnapshotDeadlock> deadlocks;  // object entries, at most kMaxReadRuntimeDeadlocks
};

struct SnapshotEnvVar {
  std::string name;
  std::optional<std::string> value;  // nullopt: left out because redaction failed
};

// A pair of figures of /proc/<pid>/status (uids, gids, context switches), as display values.
struct SnapshotIds {
  SnapshotValue real;
  SnapshotValue effective;
};

struct SnapshotMemory {
  std::optional<std::int64_t> vm_size_kib;
  std::optional<std::int64_t> vm_rss_kib;
  std::optional<std::int64_t> vm_hwm_kib;
};

struct SnapshotCpu {
  SnapshotValue user_millis;
  SnapshotValue system_millis;
  std::optional<std::int64_t> last_processor;
};

struct SnapshotContextSwitches {
  SnapshotValue voluntary;
  SnapshotValue nonvoluntary;
};

struct SnapshotCapabilities {
  std::string effective;
  std::string permitted;
  std::string bounding;
};

struct SnapshotIo {
  std::optional<std::int64_t> rchar;
  std::optional<std::int64_t> wchar;
};

// One entry of `processes`. Optional parts are nullopt when the document lacks them (not
// requested, not captured, or of the wrong type).
struct SnapshotProcess {
  std::int64_t pid = 0;
  SnapshotValue ppid;
  std::string name;
  std::string state;
  std::string state_name;
  std::optional<std::string> cmdline;
  SnapshotValue thread_count;
  std::optional<SnapshotMemory> memory;
  std::optional<SnapshotCpu> cpu;
  std::optional<SnapshotContextSwitches> context_switches;
  std::optional<SnapshotIds> uids;
  std::optional<SnapshotIds> gids;
  std::optional<SnapshotCapabilities> capabilities;
  std::optional<SnapshotIo> io;
  std::optional<std::vector<SnapshotThread>> threads;  // object entries only, in document order
  std::size_t thread_entries = 0;                      // entries of `threads`, whatever their type
  SnapshotValue fd_count;
  // Object entries, at most kMaxReadBlockedThreads; nullopt: no `blockedThreads` array.
  std::optional<std::vector<SnapshotBlockedThread>> blocked_threads;
  std::size_t blocked_thread_entries = 0;  // entries of `blockedThreads`, whatever their type
  std::optional<std::vector<SnapshotFd>> fds;
  std::optional<std::vector<SnapshotSocket>> sockets;
  std::optional<SnapshotMaps> maps;
  std::optional<SnapshotCgroup> cgroup;
  std::optional<std::vector<SnapshotLimit>> limits;
  std::optional<std::vector<SnapshotEnvVar>> env;
  std::optional<SnapshotRuntime> runtime;  // nullopt: no `runtime` object
};

struct SnapshotRuleCount {
  std::string rule;
  SnapshotValue count;
};

struct SnapshotRedaction {
  std::optional<std::string> pii;  // display text of `pii` when present
  SnapshotValue env_redacted;
  std::vector<SnapshotRuleCount> patterns_matched;  // by rule name
  std::vector<std::string> dropped_fields;          // display text of each entry
};

struct SnapshotDegraded {
  std::string section;
  SnapshotValue pid;
  SnapshotValue tid;
  std::string reason;
};

struct SnapshotOverhead {
  std::optional<std::int64_t> target_freeze_micros;
  std::optional<std::int64_t> target_max_thread_freeze_micros;
  std::optional<std::int64_t> tool_cpu_millis;
  std::optional<std::int64_t> tool_max_rss_kib;
  std::optional<std::int64_t> wall_millis;
  std::optional<std::string> budget_reached;  // display text of `budgetReached` when present
};

// ---- The incident evidence (`evidence`) ----

// Bounds of the tolerant reading on what a (hostile) document's lists may make a report hold.
// Each is well above what the tool or the controller writes.
inline constexpr std::size_t kMaxReadListeners = 1024;             // the tool writes at most 256
inline constexpr std::size_t kMaxReadBlockedThreads = 1024;        // likewise
inline constexpr std::size_t kMaxReadEvidenceErrors = 64;          // the tool writes at most 17
inline constexpr std::size_t kMaxReadLogInstances = 8;             // the controller writes 2
inline constexpr std::size_t kMaxReadLogLinesPerInstance = 20000;  // tailLines ceiling: 10000

struct SnapshotNetworkCounter {
  std::string_view field;   // from kNetworkCounters
  std::string_view kernel;  // likewise
  std::int64_t value = 0;
};

struct SnapshotListener {
  std::string protocol;
  std::string local;
  SnapshotValue inode;
  std::optional<std::int64_t> accept_queue;
};

struct SnapshotNetworkEvidence {
  // The known counters the document has as integers, in kNetworkCounters order; nullopt: no
  // `counters` object.
  std::optional<std::vector<SnapshotNetworkCounter>> counters;
  std::vector<SnapshotListener> listeners;  // object entries, at most kMaxReadListeners
  bool listeners_truncated = false;         // the tool's flag, or the read bound was hit
  std::optional<std::int64_t> somaxconn;
  std::vector<std::string> errors;  // display text of each entry, at most kMaxReadEvidenceErrors

  std::optional<std::int64_t> Counter(std::string_view field) const;
};

struct SnapshotPressureLine {
  std::optional<double> avg10;  // percent
  std::optional<double> avg60;
  std::optional<double> avg300;
  std::optional<std::int64_t> total_micros;
};

struct SnapshotPressure {
  std::optional<SnapshotPressureLine> some;
  std::optional<SnapshotPressureLine> full;
};

struct SnapshotPressureEvidence {
  std::string source;  // "cgroup", "system", or "" when none was readable
  std::optional<SnapshotPressure> cpu;
  std::optional<SnapshotPressure> memory;
  std::optional<SnapshotPressure> io;
  std::vector<std::string> errors;
};

struct SnapshotMemoryEvents {
  std::optional<std::int64_t> low;
  std::optional<std::int64_t> high;
  std::optional<std::int64_t> max;
  std::optional<std::int64_t> oom;
  std::optional<std::int64_t> oom_kill;
  std::optional<std::int64_t> oom_group_kill;
};

struct SnapshotOomControl {
  std::optional<bool> oom_kill_disable;
  std::optional<bool> under_oom;
  std::optional<std::int64_t> oom_kill;
};

struct SnapshotMemoryEvidence {
  SnapshotValue cgroup_version;
  std::string cgroup_path;
  std::optional<SnapshotMemoryEvents> events;     // v2
  std::optional<SnapshotOomControl> oom_control;  // v1
  std::optional<std::int64_t> failcnt;            // v1
  std::vector<std::string> errors;
};

struct SnapshotEvidence {
  std::optional<SnapshotNetworkEvidence> network;
  std::optional<SnapshotPressureEvidence> pressure;
  std::optional<SnapshotMemoryEvidence> memory;
};

// ---- The controller's log pull (`logs`) ----

struct SnapshotLogLimits {
  std::optional<std::int64_t> tail_lines;
  std::optional<std::int64_t> limit_bytes;
  std::optional<std::int64_t> since_seconds;
};

struct SnapshotTermination {
  std::optional<std::int64_t> exit_code;
  std::optional<std::int64_t> signal;
  std::string reason;  // "OOMKilled", "Error", ...
  std::string started_at;
  std::string finished_at;
};

struct SnapshotLogInstance {
  std::string instance;  // "current", "previous", or whatever the document says
  SnapshotValue restart_count;
  // Display text of each entry (a string as it is), oldest first, at most
  // kMaxReadLogLinesPerInstance; the rest are counted in lines_left_out.
  std::vector<std::string> lines;
  std::size_t lines_left_out = 0;
  std::optional<std::int64_t> line_count;
  std::optional<std::int64_t> bytes;
  std::optional<bool> truncated;
  std::optional<std::int64_t> dropped_lines;
  std::optional<SnapshotTermination> termination;
  std::optional<std::string> error;  // display text of `error` when present
};

struct SnapshotLogs {
  std::string container;
  std::optional<SnapshotLogLimits> limits;
  std::vector<SnapshotLogInstance> instances;  // object entries, at most kMaxReadLogInstances
};

struct SnapshotDocument {
  std::string api_version;
  std::string capture_time;
  std::optional<SnapshotTool> tool;
  std::optional<SnapshotBudget> budget;
  std::optional<SnapshotTargets> targets;
  std::vector<std::string> sections;  // the string entries, as listed
  std::vector<SnapshotTreeEntry> process_tree;
  std::vector<SnapshotProcess> processes;
  std::optional<SnapshotRedaction> redaction;
  std::vector<SnapshotDegraded> degraded;
  std::optional<SnapshotOverhead> overhead;
  std::optional<SnapshotEvidence> evidence;  // nullopt: no `evidence` object
  std::optional<SnapshotLogs> logs;          // nullopt: no `logs` object

  // Whether `section` was requested (listed in `sections`).
  bool Requested(std::string_view section) const;
  // The reason of the last degraded entry for `section` of process `pid`, or "" when there is none.
  std::string DegradedReason(std::int64_t pid, std::string_view section) const;
  // How many degraded entries are about process `pid`.
  std::size_t DegradedCount(std::int64_t pid) const;
};

// OK when `snapshot` is a v1 snapshot document a report can be made of; InvalidArgument saying
// what is wrong otherwise: not an object, a missing or other apiVersion, a kind other than
// Snapshot, a top-level field of the wrong type, a process that is not an object with an integer
// pid. `evidence` and `logs` are not checked: one of another type reads as absent, so that a
// report of the processes is still made.
Status ValidateSnapshot(const nlohmann::json& snapshot);

// The typed, tolerant reading of a document ValidateSnapshot accepted (of any other JSON, whatever
// can be read of it). Never throws.
SnapshotDocument ReadSnapshotDocument(const nlohmann::json& snapshot);

// ---- The strict, bounded summary (for the controller) ----

// Limits on what a document may carry into the session's status and audit records. Far above what
// the snapshot tool writes (a dozen sections, a few hundred degraded entries at most, a few dozen
// redaction rules), far below what would make a status write fail.
inline constexpr std::size_t kMaxSections = 64;
inline constexpr std::size_t kMaxSectionNameBytes = 64;
inline constexpr std::size_t kMaxPids = 65536;
// Linux's PID_MAX_LIMIT: no process id is larger, so a larger one is a forged document (and 19
// digits each would let the list alone approach etcd's object size limit).
inline constexpr std::int64_t kMaxPid = 4194304;
inline constexpr std::size_t kMaxPatternRules = 256;
inline constexpr std::size_t kMaxPatternRuleBytes = 128;
// Degraded entries beyond this many are summed up in one last line ("... and N more"); texts in an
// entry are cut to kMaxDegradedTextBytes (the whole list is inside the snapshot).
inline constexpr std::size_t kMaxDegradedListed = 64;
inline constexpr std::size_t kMaxDegradedTextBytes = 256;

// What the controller takes from a document into the session's status, the DebugSnapshot and the
// audit trail.
struct SnapshotFacts {
  std::vector<std::string> sections;  // the sections the tool was asked for
  std::vector<std::string> degraded;  // "section pid N: reason", one line per entry (see above)
  std::vector<std::int64_t> pids;     // targets.pids: the processes the tool read
  RedactionSummary redaction;         // patternsMatched summed up (saturating) in text_redacted
  OverheadSummary overhead;
};

// The facts of `plaintext`, or DataLoss "the snapshot container's output is not a valid
// snapshot: <what is wrong>", naming the problem: "it nests deeper than 128 levels", "it is not
// JSON", "field 'apiVersion' is not a string", "field 'targets.pids' is not an array", ... Values
// from the document are never echoed in the message (it may hold captured process state).
//
// Fields other than apiVersion may be absent (they are then empty or 0); present, they must have
// their type: sections [string], degraded [string | {section: string, pid: integer|null,
// reason: string}], targets {pids: [integer >= 0]}, redaction {envRedacted: count,
// patternsMatched: {rule: count}, droppedFields: [...]}, overhead {targetFreezeMicros,
// toolCpuMillis, toolMaxRssKiB, wallMillis: count, budgetReached: "cpu" | "memory" | "wall"},
// where a count is an integer in 0..2^63-1.
StatusOr<SnapshotFacts> ParseSnapshotDocument(std::string_view plaintext);

}  // namespace ephemera::api

#endif  // EPHEMERA_API_SNAPSHOT_DOCUMENT_H_
