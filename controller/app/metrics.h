// The controller's metrics: registered once at startup, in one place, so that the list of what
// /metrics shows is here (names as scrapers see them get the registry's "ephemera_" prefix).
#ifndef EPHEMERA_CONTROLLER_APP_METRICS_H_
#define EPHEMERA_CONTROLLER_APP_METRICS_H_

#include <functional>
#include <string>

#include "controller/metrics/registry.h"
#include "controller/reconciler/debug_session_controller.h"
#include "kube/client/event_recorder.h"

namespace ephemera::app {

// The metrics the controller updates itself. References into the registry, which must outlive
// this.
struct ControllerMetrics {
  metrics::Family<metrics::Counter>& kube_requests;     // kube_requests_total{method, code}
  metrics::Family<metrics::Counter>& session_steps;     // session_steps_total{action, outcome}
  metrics::Family<metrics::Counter>& reconcile_errors;  // reconcile_errors_total
  metrics::Family<metrics::Gauge>& leader;              // leader: 1 while leading
  // snapshot_containers_running_after_ttl_total
  metrics::Family<metrics::Counter>& still_running;
  // unsanctioned_ephemeral_containers_total{source, decision}
  metrics::Family<metrics::Counter>& unsanctioned;
  // kube_request_duration_seconds{method}: each request's time to its answer (watches excluded)
  metrics::Family<metrics::Histogram>& kube_request_duration;
  // session_phase_seconds{phase}: from a session's creation until it entered Capturing,
  // Completed, Failed, Denied or Expired
  metrics::Family<metrics::Histogram>& session_phase;
  // capture_seconds: the snapshot tool's wall time, as it measured it, of each delivered capture
  metrics::Family<metrics::Histogram>& capture;

  // For RestKubeClientOptions::on_response: counts each response by method and HTTP status.
  std::function<void(const std::string& method, int status)> CountKubeResponse() const;
  // For RestKubeClientOptions::on_latency: kube_request_duration_seconds.
  std::function<void(const std::string& method, double seconds)> TimeKubeRequest() const;
};

// Registers the metrics above in `registry`.
ControllerMetrics RegisterControllerMetrics(metrics::Registry& registry);

// What the metrics read from objects that keep their own counts, when /metrics is rendered.
// Each function must be thread safe and quick.
struct ObservedCounts {
  std::function<kube::EventRecorderStats()> events;           // events_queued, events_dropped_total
  std::function<reconciler::ControllerStats()> control_loop;  // sessions, workqueue_depth
  std::function<std::size_t()> watched_pods;                  // watched_pods
};

// Registers the gauges and counters read from `counts` in `registry`.
void RegisterObservedMetrics(metrics::Registry& registry, ObservedCounts counts);

// build_info{version} 1, and the process_* metrics every Prometheus client exports (unprefixed:
// metrics::RegisterProcessMetrics).
void RegisterBuildAndProcessMetrics(metrics::Registry& registry, std::string version);

}  // namespace ephemera::app

#endif  // EPHEMERA_CONTROLLER_APP_METRICS_H_
