#include "controller/session/step_events.h"

namespace ephemera::session {

bool ReportsAsEvent(const StepRecord& step) {
  if (step.outcome != "ok") return true;
  switch (step.action) {
    case Action::kInitialize:
    case Action::kAuthorize:
    case Action::kEnsureKey:
    case Action::kWait:
    case Action::kAddFinalizer:
    case Action::kRemoveFinalizer:
      return false;
    case Action::kDeny:
    case Action::kInject:
    case Action::kCollect:
    case Action::kFail:
    case Action::kWipe:
      return true;
  }
  return true;
}

namespace {

kube::ObjectReference SessionReference(const StepRecord& step) {
  return {"ephemera.dev/v1alpha1", "DebugSession", step.session.namespace_name, step.session.name,
          step.session_uid};
}

}  // namespace

std::optional<kube::EventRecord> BuildSessionEvent(const StepRecord& step) {
  if (!ReportsAsEvent(step)) return std::nullopt;
  const bool ok = step.outcome == "ok";
  kube::EventRecord event;
  event.regarding = SessionReference(step);
  event.type = ok ? "Normal" : "Warning";
  event.reason = ok ? std::string(ActionName(step.action)) : step.outcome;
  event.action = std::string(ActionName(step.action));
  event.note = step.message;
  return event;
}

std::optional<kube::EventRecord> BuildPodEvent(const StepRecord& step) {
  const bool started = step.action == Action::kInject && step.outcome == "ok";
  if (!started && step.outcome != kSnapshotContainerStillRunning) return std::nullopt;
  // Where people looking at the workload will see it, not only on the session.
  kube::EventRecord event;
  const std::size_t slash = step.target.find('/');
  event.regarding = {"v1", "Pod", step.session.namespace_name, step.target.substr(0, slash), ""};
  event.related = SessionReference(step);
  if (started) {
    const std::string container = slash == std::string::npos ? "" : step.target.substr(slash + 1);
    event.type = "Normal";
    event.reason = "DebugSessionStarted";
    event.action = "InjectEphemeralContainer";
    event.note = "DebugSession " + step.session.name + " by " + step.requester +
                 " added a snapshot container to debug " +
                 (container.empty() ? std::string("the pod") : "container " + container) + ": " +
                 step.reason;
    return event;
  }
  event.type = "Warning";
  event.reason = std::string(kSnapshotContainerStillRunning);
  event.action = "DetectEphemeralContainer";
  event.note = "The snapshot container of DebugSession " + step.session.name +
               " is still running after the session ended";
  return event;
}

}  // namespace ephemera::session
