// DebugSession: the controller's view of the ephemera.dev/v1alpha1 DebugSession object.
//
// ParseDebugSession reads the fields the controller acts on from the API object (the CRD schema in
// crds/ is the source of truth and has already validated them); StatusToJson writes the status
// back. Pure values; no I/O.
#ifndef EPHEMERA_API_DEBUG_SESSION_H_
#define EPHEMERA_API_DEBUG_SESSION_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "kube/object/resource.h"
#include "redact/redactor.h"

namespace ephemera::api {

using TimePoint = std::chrono::system_clock::time_point;

inline constexpr std::string_view kFinalizer = "ephemera.dev/cleanup";
inline constexpr std::string_view kFieldManager = "ephemera-controller";

enum class Profile { kRestricted, kPtrace };
std::string_view ProfileName(Profile profile);

// How much personal data the snapshot tool masks in free text (spec.redaction.pii; the tool's
// --pii): none; standard (e-mail addresses, card numbers, IBANs, phone numbers); strict (also IP
// addresses). Ordered: each level masks at least what the one before it masks. The tool's own
// type, so that the controller and the tool share one list of modes and their names.
using redact::PiiMode;
using redact::PiiModeName;
// "none", "standard" or "strict"; nullopt for anything else.
std::optional<PiiMode> ParsePiiMode(std::string_view name);

enum class Phase { kPending, kInjecting, kCapturing, kCompleted, kFailed, kDenied, kExpired };
std::string_view PhaseName(Phase phase);
// The phase status.phase names ("Pending", …, the CRD's enum); nullopt for anything else.
std::optional<Phase> ParsePhase(std::string_view name);
bool IsTerminal(Phase phase);  // Completed, Failed, Denied or Expired: nothing left but expiry

// Who asked for a session: the request's userInfo, copied by the admission webhook into
// spec.requestedBy (and checked equal to it by the validating webhook). `extra` carries the
// authenticator's extra attributes (scoped-token scopes, for example), which the controller's
// SubjectAccessReviews pass on so that authorizers that restrict by them see them.
struct Requester {
  std::string username;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

// spec.logs: how much of the target container's log a session that captures `logs` reads. Unset
// fields take the cluster policy's defaults; the policy's ceilings bound them
// (docs/decisions/log-pull.md).
struct LogsSpec {
  std::optional<std::int64_t> tail_lines;   // the last N lines of each instance
  std::optional<std::int64_t> limit_bytes;  // bytes read per instance
  std::optional<std::chrono::seconds> since;
  bool previous = true;  // also the previous instance, when the container restarted
};

// spec.budget: what the snapshot tool may spend (ephemeral containers cannot have resource
// limits, so the tool enforces its own). Unset fields take the cluster policy's defaults; the
// policy's ceilings bound them (docs/policy.md, "Overhead budget").
struct BudgetSpec {
  std::optional<std::chrono::milliseconds> cpu;  // the tool's CPU time (all its threads)
  std::optional<std::int64_t> memory_bytes;      // the tool's peak resident memory
  std::optional<std::chrono::seconds> wall;      // wall-clock time: the tool's --deadline
};

// The section name that asks for the log pull (spec.capture, the tool's --capture).
inline constexpr std::string_view kLogsSection = "logs";

struct DebugSessionSpec {
  std::string pod;
  std::string container;  // empty: the pod's default container
  std::string reason;
  std::chrono::seconds ttl{0};  // 0: not set, the policy's default_ttl applies
  Profile profile = Profile::kRestricted;
  std::vector<std::string> capture;
  std::vector<std::string> recipients;
  std::vector<std::string> allow_env;
  std::vector<std::string> extra_patterns;
  std::optional<PiiMode> pii;  // not set: the policy's default applies
  LogsSpec logs;
  BudgetSpec budget;
  std::optional<Requester> requested_by;

  bool WantsLogs() const;  // capture names logs
};

// A metav1.Condition, as the status stores it.
struct Condition {
  std::string type;    // Authorized, Injected, Captured, Delivered, Wiped, Ready
  std::string status;  // "True", "False", "Unknown"
  std::string reason;  // CamelCase, e.g. TargetPodNotFound
  std::string message;
  TimePoint last_transition_time;
  std::int64_t observed_generation = 0;  // the generation it was set for; 0: not written
};

// The summary condition: True once the snapshot is delivered (phase Completed), so that
// `kubectl wait --for=condition=Ready dbgs/NAME` waits for a usable snapshot; False with the phase
// as its reason otherwise (Pending, Injecting, Capturing: not yet; Denied, Failed, Expired: never).
inline constexpr std::string_view kReadyCondition = "Ready";

struct SnapshotSummary {
  std::string name;
  std::string sha256;
  std::int64_t bytes = 0;
  std::vector<std::string> sections;
  std::vector<std::string> degraded;
  // The pids the tool read (targets.pids), for the audit record; not part of the status.
  std::vector<std::int64_t> pids;
};

struct RedactionSummary {
  std::int64_t env_redacted = 0;
  // Matches the free-text detectors redacted, all rules together. Per-rule counts stay inside the
  // encrypted snapshot: status is readable by namespace viewers, and which kinds of credentials a
  // target holds is itself sensitive (review L9).
  std::int64_t text_redacted = 0;
  std::int64_t dropped_fields = 0;
};

// The budget a session's snapshot tool ran within (the effective spec.budget).
struct BudgetSummary {
  std::int64_t cpu_millis = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t wall_millis = 0;
};

// Which budget stopped the capture early (the snapshot's overhead.budgetReached).
inline constexpr std::string_view kBudgetCpu = "cpu";
inline constexpr std::string_view kBudgetMemory = "memory";
inline constexpr std::string_view kBudgetWall = "wall";

struct OverheadSummary {
  std::int64_t target_freeze_micros = 0;
  std::int64_t tool_cpu_millis = 0;
  std::int64_t tool_max_rss_kib = 0;
  std::int64_t wall_millis = 0;
  std::optional<BudgetSummary> budget;  // written by the controller, from the session's spec
  std::string budget_reached;           // "", kBudgetCpu, kBudgetMemory or kBudgetWall
};

// The head of the session's audit chain (see audit/): how many records it has and the
// hash of the newest. The controller continues the chain from here after a restart.
struct AuditSummary {
  std::int64_t records = 0;
  std::string head;  // "sha256:<hex>"
};

struct DebugSessionStatus {
  std::optional<Phase> phase;  // absent until the controller first writes status
  std::string message;
  std::int64_t observed_generation = 0;
  std::optional<TimePoint> expires_at;
  std::string ephemeral_container;
  std::vector<Condition> conditions;
  std::optional<SnapshotSummary> snapshot;
  std::optional<RedactionSummary> redaction;
  std::optional<OverheadSummary> overhead;
  std::optional<AuditSummary> audit;

  const Condition* FindCondition(std::string_view type) const;
  // Sets a condition, keeping last_transition_time when the status value does not change; its
  // observedGeneration is the status's.
  void SetCondition(std::string_view type, bool value, std::string_view reason,
                    std::string_view text, TimePoint now);
  // Sets the Ready condition from the phase and message (kReadyCondition).
  void SummarizeReady(TimePoint now);
};

struct DebugSession {
  kube::ObjectKey key;
  std::string uid;
  std::string resource_version;
  std::int64_t generation = 0;
  TimePoint created;
  bool deleting = false;  // metadata.deletionTimestamp is set
  std::vector<std::string> finalizers;
  DebugSessionSpec spec;
  DebugSessionStatus status;

  bool HasFinalizer() const;
};

// spec.logs as the API object holds it (a missing or null value: all defaults). InvalidArgument
// naming the field for a value of the wrong type, a count that is not positive, or a duration that
// does not parse or is not positive. Admission and ParseDebugSession both read it here.
StatusOr<LogsSpec> ParseLogsSpec(const nlohmann::json* logs);

// spec.budget as the API object holds it (a missing or null value: all defaults). InvalidArgument
// naming the field for a value of the wrong type, a duration that does not parse, a cpu that is not
// a positive number of milliseconds, a wall that is not a positive number of whole seconds, or a
// memoryBytes that is not a positive integer. Admission and ParseDebugSession both read it here.
StatusOr<BudgetSpec> ParseBudgetSpec(const nlohmann::json* budget);

// InvalidArgument naming the field when the object lacks what the CRD guarantees.
StatusOr<DebugSession> ParseDebugSession(const nlohmann::json& object);
nlohmann::json StatusToJson(const DebugSessionStatus& status);
// The status's redaction and overhead blocks, as status and the audit records write them.
nlohmann::json RedactionSummaryToJson(const RedactionSummary& redaction);
nlohmann::json OverheadSummaryToJson(const OverheadSummary& overhead);

}  // namespace ephemera::api

#endif  // EPHEMERA_API_DEBUG_SESSION_H_
