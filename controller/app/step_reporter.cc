#include "controller/app/step_reporter.h"

#include <string>
#include <utility>

#include "controller/session/planner.h"

namespace ephemera::app {

StepReporter::StepReporter(const ControllerMetrics& metrics, kube::EventRecorder& events,
                           logging::Logger logger)
    : steps_(metrics.session_steps),
      still_running_(metrics.still_running),
      reconcile_errors_(metrics.reconcile_errors),
      session_phase_(metrics.session_phase),
      capture_(metrics.capture),
      events_(events),
      logger_(std::move(logger)) {}

void StepReporter::OnStep(const session::StepRecord& step) {
  steps_.WithLabels({std::string(session::ActionName(step.action)), step.outcome}).Increment();
  if (step.outcome == session::kSnapshotContainerStillRunning) still_running_.Get().Increment();
  if (step.entered_phase) {
    session_phase_.WithLabels({std::string(api::PhaseName(*step.entered_phase))})
        .Observe(step.seconds_since_creation);
  }
  if (step.capture_seconds) capture_.Get().Observe(*step.capture_seconds);
  if (auto on_pod = session::BuildPodEvent(step)) events_.Record(std::move(*on_pod));
  if (auto on_session = session::BuildSessionEvent(step)) {
    events_.Record(std::move(*on_session));
  }
  logger_.Info("Session step", {{"debugsession", step.session.ToString()},
                                {"action", session::ActionName(step.action)},
                                {"outcome", step.outcome},
                                {"requester", step.requester},
                                {"target", step.target},
                                {"message", step.message}});
}

void StepReporter::OnReconcileError(const kube::ObjectKey& session, const Status& error) {
  reconcile_errors_.Get().Increment();
  logger_.Warn("Reconcile failed; will retry",
               {{"debugsession", session.ToString()}, {"error", error}});
}

}  // namespace ephemera::app
