// A step the reconciler took, and the Kubernetes Events that tell people about it (pure).
//
// The audit trail has every step; Events summarize for whoever looks at the objects: an Event on
// the DebugSession for the steps ReportsAsEvent selects, and an Event on the debugged pod for what
// the workload's owners should see there (who is debugging it and why; the session's snapshot
// container still running after the session ended). main hands both to the EventRecorder.
#ifndef EPHEMERA_CONTROLLER_SESSION_STEP_EVENTS_H_
#define EPHEMERA_CONTROLLER_SESSION_STEP_EVENTS_H_

#include <optional>
#include <string>
#include <string_view>

#include "controller/session/planner.h"
#include "kube/object/event.h"
#include "kube/object/resource.h"

namespace ephemera::session {

// The outcome of a wipe that found the session's snapshot container not terminated.
inline constexpr std::string_view kSnapshotContainerStillRunning = "SnapshotContainerStillRunning";

// A step the reconciler took, for audit records, events, logs and metrics. Never carries secrets.
struct StepRecord {
  kube::ObjectKey session;
  std::string session_uid;
  std::string requester;
  std::string reason;  // the session's spec.reason
  std::string target;  // pod/container
  Action action = Action::kWait;
  std::string outcome;  // "ok", or the failure/denial reason
  std::string message;
  // When the step moved the session into another phase: that phase, and the seconds from the
  // session's creation until then (session_phase_seconds).
  std::optional<api::Phase> entered_phase{};
  double seconds_since_creation = 0;
  // A delivery's tool wall time as the tool measured it (capture_seconds).
  std::optional<double> capture_seconds{};
};

// Whether a step is worth a Kubernetes Event. Events summarize (the audit trail has every step): a
// step that went wrong, the injection, the delivery and the wipe. Accepting a session, creating its
// key and an allowed authorization are only in the audit trail and the status conditions, which
// saves three API requests per session.
bool ReportsAsEvent(const StepRecord& step);

// The Event on the DebugSession for `step`; nullopt when !ReportsAsEvent(step). Normal with the
// action's name as reason for a step that went well, Warning with the outcome as reason otherwise;
// the note is the step's message.
std::optional<kube::EventRecord> BuildSessionEvent(const StepRecord& step);

// The Event on the debugged pod for `step` (regarding the pod named by step.target in the
// session's namespace, related to the DebugSession): Normal DebugSessionStarted when the snapshot
// container was added, naming the session, the requester, the container and the reason, so that
// `kubectl describe pod` shows who debugged it and why; a Warning SnapshotContainerStillRunning
// when the step found the session's snapshot container still running after the session ended;
// nullopt for every other step.
std::optional<kube::EventRecord> BuildPodEvent(const StepRecord& step);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_STEP_EVENTS_H_
