// CaptureSnapshot: builds the snapshot document (api/snapshot_document.h, specified in
// docs/snapshot-format.md) from /proc, the cgroup filesystem and a stack source.
//
// All I/O goes through the interfaces in CaptureDeps, so tests run the whole builder on a fixture
// tree with a fake clock and fake stacks. Every value that came from the target and could hold a
// secret (names, command lines, paths, environment values) passes through the Redactor before it
// enters the document; a value the redactor fails on is left out and its path listed in
// redaction.droppedFields. Anything that cannot be read becomes a "degraded" entry with the reason;
// once a budget is reached (the deadline, the CPU or the memory budget: CaptureBudget), the section
// under way stops and every section not yet captured is degraded with the budget's reason
// ("deadline", "CPU budget of 500ms reached", ...); overhead.budgetReached says which.
//
// Thread safety: CaptureSnapshot may run concurrently with itself if the deps allow it.
#ifndef EPHEMERA_DEBUGPOD_SNAPSHOT_CAPTURE_H_
#define EPHEMERA_DEBUGPOD_SNAPSHOT_CAPTURE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/snapshot_document.h"
#include "base/clock.h"
#include "debugpod/procfs/proc_fs.h"
#include "debugpod/runtimes/runtime_reader.h"
#include "debugpod/snapshot/budget.h"
#include "debugpod/snapshot/command_line.h"
#include "debugpod/snapshot/stack_source.h"
#include "debugpod/snapshot/targets.h"
#include "redact/redactor.h"

namespace ephemera::snapshot {

// The document type: keys keep insertion order so documents read top-down as specified.
using Json = nlohmann::ordered_json;

struct CaptureRequest {
  std::optional<int> pid;  // --pid; unset: the whole namespace
  TargetScope scope;       // --container-id, --host-namespaces
  SectionSet sections = SectionSet::All();
  Profile profile = Profile::kPtrace;
  // The deps' redactor's PII mode, recorded in the document (redaction.pii). In strict mode the
  // socket endpoints go through the redactor too (they are IP addresses).
  redact::PiiMode pii = redact::PiiMode::kNone;
  // Write controllerOnly.valueKeys: the environment values the tool hides, for the controller's
  // log redaction (CommandLine::value_keys_for_controller).
  bool value_keys_for_controller = false;
  int self_pid = 0;        // the tool, as seen in the ProcFs
  uint32_t tool_euid = 0;  // to explain permission failures
  std::string tool_version;
  std::string capture_time;                        // RFC 3339 UTC, e.g. "2024-05-01T12:00:00.123Z"
  std::chrono::steady_clock::time_point deadline;  // capture stops once the clock passes it
  std::chrono::milliseconds deadline_budget{0};    // recorded in the document
  // The CPU and memory budgets (CaptureBudget): once one is reached, capture stops as at the
  // deadline. Unset: none. Both are recorded in the document's `budget`.
  std::optional<std::chrono::milliseconds> cpu_budget;
  std::optional<std::int64_t> memory_budget_bytes;
  size_t max_output_bytes = kDefaultMaxOutputBytes;  // recorded in the document
  int64_t clock_ticks_per_second = 100;              // sysconf(_SC_CLK_TCK)
  std::string proc_root = "/proc";                   // handed to the stack source
  size_t stack_bytes = size_t{32} * 1024;
  int max_frames = 64;
  size_t maps_top_n = 10;      // largest mappings listed
  size_t maps_max_files = 64;  // mapped files listed; the rest are summed in "otherFiles"
  size_t max_fds = 4096;       // per process; more are counted and reported degraded
  size_t max_threads = 4096;   // per process; likewise
};

struct CaptureDeps {
  const procfs::ProcFs& proc;
  const procfs::CgroupFs& cgroup;
  // Optional: the cgroup filesystem as mounted inside the target's mount namespace
  // (<proc>/<pid>/root/sys/fs/cgroup), read with the target's own cgroup at its root. Tried when
  // the tool's own view does not show the target's cgroup (another cgroup namespace, or a v1
  // container that only mounts its own cgroup).
  std::function<std::unique_ptr<procfs::CgroupFs>(int pid)> target_cgroup_fs;
  StackSource& stacks;
  const redact::Redactor& redactor;
  base::Clock& clock;  // SteadyNow() against the deadline
  // Language runtimes' readers (borrowed), asked in turn about each target with the `stacks`
  // section, in both profiles; the first that recognizes a process writes its `runtime` object.
  std::vector<runtimes::RuntimeReader*> runtimes = {};
  // The tool's CPU time and peak RSS, for the CPU and memory budgets (borrowed). Null: only the
  // deadline is enforced.
  ToolMeters* meters = nullptr;
};

struct CaptureResult {
  Json document;
  bool targets_found = false;  // false: discovery failed; the document says why in "degraded"
  int processes_captured = 0;  // target processes with at least their status read
};

CaptureResult CaptureSnapshot(const CaptureRequest& request, const CaptureDeps& deps);

// The tool's own cost, measured by the caller (getrusage) just before output.
struct ToolUsage {
  int64_t cpu_millis = 0;
  int64_t max_rss_kib = 0;
  int64_t wall_millis = 0;
};

// Sets overhead.toolCpuMillis, toolMaxRssKiB and wallMillis.
void SetToolUsage(Json& document, const ToolUsage& usage);

// The document the watchdog writes if the capture never finishes: the header, no processes, an
// empty `evidence` object, and a single degraded entry saying so.
Json WatchdogDocument(const CaptureRequest& request, std::chrono::milliseconds fired_after);

// The document the CPU backstop writes when the kernel's RLIMIT_CPU soft limit (`cpu_limit`) is
// reached: like the watchdog's, with overhead.budgetReached "cpu" and a degraded entry saying so.
Json CpuBackstopDocument(const CaptureRequest& request, std::chrono::seconds cpu_limit);

}  // namespace ephemera::snapshot

#endif  // EPHEMERA_DEBUGPOD_SNAPSHOT_CAPTURE_H_
