// ApplyOutcome: what one executed step does to a DebugSession. The planner decides the step from
// what is observed; the reconciler performs the step's I/O and describes what happened as a
// StepOutcome; ApplyOutcome decides everything else — the phase, the message and conditions of the
// new status, the audit records (in order) and which of them are reported as steps (Kubernetes
// Events, metrics and logs: step_events.h), and how the status is written. Together with the
// planner it is the whole state machine, testable without an API server. Pure.
//
// The transition table (docs/architecture.md draws it):
//
//   step          outcome                       phase      condition            audit verbs
//   kInitialize   -                             Pending    -                    accepted
//   kAuthorize    allowed / refused             (same)     Authorized T/F       authorized / denied
//   kDeny         -                             Denied     Authorized F         denied
//   kEnsureKey    -                             Injecting  -                    key-created
//   kInject       injected                      Capturing  Injected T           injected
//                 refused (FailedPrecondition)  Failed     Injected F           injection-refused
//   kCollect      delivered                     Completed  Captured, Delivered  collected,
//   delivered
//                 unusable snapshot             Failed     Captured F           collection-failed
//   kFail         -                             Failed     Injected/Captured F  failed
//   kWipe         -                             Expired    Wiped T              expired, wiped
//                 container still running      (same)     ContainerTerminated  + still-running-
//                                                          F                    after-ttl
//
// Any other error of a step's I/O is returned as it is: the step did not happen, and the
// reconciler retries it with backoff.
#ifndef EPHEMERA_CONTROLLER_SESSION_TRANSITIONS_H_
#define EPHEMERA_CONTROLLER_SESSION_TRANSITIONS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/debug_session.h"
#include "base/status.h"
#include "controller/session/access_checks.h"
#include "controller/session/log_pull.h"
#include "controller/session/planner.h"
#include "controller/session/pod_view.h"
#include "controller/session/policy.h"
#include "controller/session/step_events.h"

namespace ephemera::session {

// What the I/O of one step found. Only the fields of the step taken are read.
struct StepOutcome {
  // The I/O's result. For kInject, FailedPrecondition means the API server (or a container of the
  // same name that Ephemera did not add) refused the injection for good; for kCollect, DataLoss,
  // PermissionDenied, InvalidArgument and ResourceExhausted mean the snapshot cannot be used. Any
  // other error (and any error of another step) is retried.
  Status result;
  // kAuthorize: what the requester's SubjectAccessReviews decided.
  AccessDecision access;
  // kInject: the pod with the snapshot container in it, and what the pod-annotation option did
  // ("" when it is off).
  std::optional<PodView> injected_pod;
  std::string annotated;
  // kCollect: what the delivered snapshot holds (from the document, never its values).
  std::optional<api::SnapshotSummary> snapshot;
  std::optional<api::RedactionSummary> redaction;
  std::optional<api::OverheadSummary> overhead;
  // kCollect of a session that captures logs: what was read of each instance of the target
  // container's log (and why it was not, when it was not), for one audit record each.
  struct LogRead {
    std::string container;
    LogLimits limits;
    std::vector<LogInstanceSummary> instances;
    std::string not_read;  // why no instance was read at all; "" when some were
  };
  std::optional<LogRead> logs;
  // kWipe: the target pod as read after the wipe (nullopt: gone or unreadable), and what the
  // pod-recycling option did ("" when it is off or had nothing to do).
  std::optional<PodView> pod_after_wipe;
  std::string recycled;
};

// One record of the session's audit chain. A `reported` record is also a step report
// (StepReportFor), from which the Events, the metrics and the log line come.
struct AuditEntry {
  std::string action;   // the audit verb (docs/audit.md)
  std::string outcome;  // "ok", or the reason it went otherwise (CamelCase)
  std::string message;
  nlohmann::json details = nlohmann::json::object();
  bool reported = true;
};

// How the new status reaches the API server.
enum class StatusWrite {
  kDeferred,         // with the next step's write: another step always follows at once
  kNow,              // written before the next step is planned
  kNowThenShredKey,  // written, then the session key deleted: nothing will read it again
};

struct Transition {
  // The new status, except status.audit: the reconciler appends `records` to the chain in order
  // and keeps the head there.
  api::DebugSessionStatus status;
  std::vector<AuditEntry> records;
  StatusWrite write = StatusWrite::kNow;
};

// The transition of `plan`'s step (kInitialize … kWipe) given what its I/O found, with the Ready
// condition summarizing the new phase (api::kReadyCondition) and every condition it sets carrying
// the session's generation as its observedGeneration. Returns the
// outcome's error when it is one to retry, and InvalidArgument for a step that changes no status
// (kWait, kAddFinalizer, kRemoveFinalizer).
StatusOr<Transition> ApplyOutcome(const Plan& plan, const StepOutcome& outcome,
                                  const api::DebugSession& session, const Policy& policy,
                                  api::TimePoint now);

// The step report of a `reported` record of `action`'s step.
StepRecord StepReportFor(const api::DebugSession& session, Action action, const AuditEntry& entry);

// The session's own snapshot container in `pod`: the one named for it whose mark verified
// (PodView's added_by_ephemera); null when there is none.
const EphemeralContainerView* SessionContainerIn(const PodView& pod, std::string_view session_uid);

// Why the API server refused the snapshot container, for people: its own message, and for a
// ptrace session refused by Pod Security, what to use instead.
std::string InjectionRefusedMessage(std::string_view server_message, api::Profile profile);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_TRANSITIONS_H_
