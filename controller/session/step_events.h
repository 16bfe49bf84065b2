// A step the reconciler took, and the Kubernetes Events that tell people about it (pure).
//
// The audit trail has every step; Events summarize for whoever looks at the objects: an Event on
// the DebugSession for the steps ReportsAsEvent selects, and an Event on the debugged pod when a
// step found something the workload's owners should see there (the session's snapshot container
// still running after the session ended). main hands both to the EventRecorder.
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

// The Event on the debugged pod for `step`: a Warning SnapshotContainerStillRunning (regarding the
// pod named by step.target in the session's namespace, related to the DebugSession) when the step
// found the session's snapshot container still running after the session ended; nullopt for every
// other step.
std::optional<kube::EventRecord> BuildPodEvent(const StepRecord& step);

}  // namespace ephemera::session

#endif  // EPHEMERA_CONTROLLER_SESSION_STEP_EVENTS_H_
