#include "controller/app/metrics.h"

#include <utility>

namespace ephemera::app {

std::function<void(const std::string&, int)> ControllerMetrics::CountKubeResponse() const {
  return [&requests = kube_requests](const std::string& method, int status) {
    requests.WithLabels({method, std::to_string(status)}).Increment();
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
  };
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
