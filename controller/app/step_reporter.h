// StepReporter: what the controller makes of each step the reconciler took and each reconcile
// that failed: metrics, Kubernetes Events (queued on the EventRecorder) and log lines. The audit
// records are the reconciler's own.
#ifndef EPHEMERA_CONTROLLER_APP_STEP_REPORTER_H_
#define EPHEMERA_CONTROLLER_APP_STEP_REPORTER_H_

#include "base/status.h"
#include "controller/app/metrics.h"
#include "controller/logging/logger.h"
#include "controller/session/step_events.h"
#include "kube/client/event_recorder.h"
#include "kube/object/resource.h"

namespace ephemera::app {

class StepReporter {
 public:
  // Borrows `metrics`' families and `events`, which must outlive this. Thread safe.
  StepReporter(const ControllerMetrics& metrics, kube::EventRecorder& events,
               logging::Logger logger);

  // ReconcilerOptions::on_step: counts the step (session_steps_total{action, outcome}, and
  // snapshot_containers_running_after_ttl_total for a container still running after its session),
  // times the phase it entered and the capture it delivered (session_phase_seconds,
  // capture_seconds), queues its Events (session::BuildSessionEvent, BuildPodEvent) and logs
  // "Session step".
  void OnStep(const session::StepRecord& step);
  // The control loop's error callback: counts reconcile_errors_total and logs the retry.
  void OnReconcileError(const kube::ObjectKey& session, const Status& error);

 private:
  metrics::Family<metrics::Counter>& steps_;
  metrics::Family<metrics::Counter>& still_running_;
  metrics::Family<metrics::Counter>& reconcile_errors_;
  metrics::Family<metrics::Histogram>& session_phase_;
  metrics::Family<metrics::Histogram>& capture_;
  kube::EventRecorder& events_;
  const logging::Logger logger_;
};

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_STEP_REPORTER_H_
