#include "controller/app/metrics.h"

#include <utility>

#include "controller/metrics/process_metrics.h"

namespace ephemera::app {

std::function<void(const std::string&, int)> ControllerMetrics::CountKubeResponse() const {
  return [&requests = kube_requests](const std::string& method, int status) {
    requests.WithLabels({method, std::to_string(status)}).Increment();
  };
}

std::function<void(const std::string&, double)> ControllerMetrics::TimeKubeRequest() const {
  return [&durations = kube_request_duration](const std::string& method, double seconds) {
    durations.WithLabels({method}).Observe(seconds);
  };
}

ControllerMetrics RegisterControllerMetrics(metrics::Registry& registry) {
  return {
      .kube_requests = registry.AddCounter(
          "kube_requests_total",
          "Requests sent to the Kubernetes API, by HTTP method and status (0: no answer).",
          {"method", "code"}),
      .session_steps = registry.AddCounter("session_steps_total",
                                           "Steps taken for DebugSessions, by action and outcome.",
                                           {"action", "outcome"}),
      .reconcile_errors =
          registry.AddCounter("reconcile_errors_total", "Reconciles that failed and were retried."),
      .leader = registry.AddGauge("leader", "1 while this replica leads and reconciles."),
      .still_running = registry.AddCounter(
          "snapshot_containers_running_after_ttl_total",
          "Snapshot containers found still running when their session ended (never expected)."),
      .unsanctioned = registry.AddCounter(
          "unsanctioned_ephemeral_containers_total",
          "Ephemeral containers Ephemera did not add, by where they were seen and the decision.",
          {"source", "decision"}),
      .kube_request_duration = registry.AddHistogram(
          "kube_request_duration_seconds",
          "Time from sending a request to the Kubernetes API to its answer, by HTTP method "
          "(watches excluded).",
          {"method"}),
      // 0.25 s to 8.5 min: a session takes about a second when all is well, minutes when not.
      .session_phase = registry.AddHistogram(
          "session_phase_seconds",
          "Time from a DebugSession's creation until it entered a phase (Capturing, Completed, "
          "Failed, Denied, Expired).",
          {"phase"}, metrics::ExponentialBuckets(0.25, 2, 12)),
      .capture = registry.AddHistogram(
          "capture_seconds",
          "Wall time of the snapshot tool for each delivered capture, as the tool measured it.", {},
          {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 120}),
  };
}

void RegisterBuildAndProcessMetrics(metrics::Registry& registry, std::string version) {
  registry.AddGaugeFunc("build_info", "1, labelled with the controller's version.", {"version"},
                        {std::move(version)}, [] { return 1.0; });
  metrics::RegisterProcessMetrics(registry);
}

void RegisterObservedMetrics(metrics::Registry& registry, ObservedCounts counts) {
  registry.AddGaugeFunc("events_queued", "Kubernetes Events waiting for spare API budget.", {}, {},
                        [events = counts.events] { return static_cast<double>(events().queued); });
  registry.AddCounterFunc(
      "events_dropped_total",
      "Kubernetes Events not sent: queue full, refused by the API server, or queued at shutdown.",
      {}, {}, [events = counts.events] { return static_cast<double>(events().dropped); });
  registry.AddGaugeFunc(
      "sessions", "DebugSessions in the controller's cache.", {}, {},
      [loop = counts.control_loop] { return static_cast<double>(loop().sessions_cached); });
  registry.AddGaugeFunc(
      "workqueue_depth", "Keys waiting for a worker.", {}, {},
      [loop = counts.control_loop] { return static_cast<double>(loop().queue_depth); });
  registry.AddGaugeFunc(
      "watched_pods", "Pods in the detection cache (a few fields each).", {}, {},
      [pods = std::move(counts.watched_pods)] { return static_cast<double>(pods()); });
}

}  // namespace ephemera::app
