#include "controller/app/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace ephemera::app {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(ControllerMetricsTest, RegistersTheControllersOwnMetrics) {
  metrics::Registry registry;
  const ControllerMetrics m = RegisterControllerMetrics(registry);
  m.kube_requests.WithLabels({"GET", "200"}).Increment();
  m.session_steps.WithLabels({"inject", "ok"}).Increment();
  m.reconcile_errors.Get().Increment();
  m.leader.Get().Set(1);
  m.still_running.Get().Increment();
  m.unsanctioned.WithLabels({"watch", "allowed"}).Increment();

  const std::string text = registry.RenderPrometheusText();
  EXPECT_TRUE(Has(text, "ephemera_kube_requests_total{method=\"GET\",code=\"200\"} 1\n")) << text;
  EXPECT_TRUE(Has(text, "ephemera_session_steps_total{action=\"inject\",outcome=\"ok\"} 1\n"));
  EXPECT_TRUE(Has(text, "ephemera_reconcile_errors_total 1\n"));
  EXPECT_TRUE(Has(text, "ephemera_leader 1\n"));
  EXPECT_TRUE(Has(text, "ephemera_snapshot_containers_running_after_ttl_total 1\n"));
  EXPECT_TRUE(Has(text,
                  "ephemera_unsanctioned_ephemeral_containers_total{source=\"watch\",decision="
                  "\"allowed\"} 1\n"));
  EXPECT_TRUE(Has(text, "# TYPE ephemera_leader gauge\n"));
  EXPECT_TRUE(Has(text, "# TYPE ephemera_reconcile_errors_total counter\n"));
}

TEST(ControllerMetricsTest, CountsKubeResponsesByMethodAndStatus) {
  metrics::Registry registry;
  const ControllerMetrics m = RegisterControllerMetrics(registry);
  const auto count = m.CountKubeResponse();
  count("GET", 200);
  count("GET", 200);
  count("PATCH", 0);
  EXPECT_EQ(m.kube_requests.WithLabels({"GET", "200"}).Value(), 2);
  EXPECT_EQ(m.kube_requests.WithLabels({"PATCH", "0"}).Value(), 1);
}

TEST(ObservedMetricsTest, AreReadWhenRendered) {
  metrics::Registry registry;
  kube::EventRecorderStats events{.dropped = 3, .queued = 2};
  reconciler::ControllerStats loop{.sessions_cached = 5, .queue_depth = 1};
  std::size_t pods = 40;
  RegisterObservedMetrics(registry, {.events = [&] { return events; },
                                     .control_loop = [&] { return loop; },
                                     .watched_pods = [&] { return pods; }});

  std::string text = registry.RenderPrometheusText();
  EXPECT_TRUE(Has(text, "ephemera_events_queued 2\n")) << text;
  EXPECT_TRUE(Has(text, "ephemera_events_dropped_total 3\n"));
  EXPECT_TRUE(Has(text, "ephemera_sessions 5\n"));
  EXPECT_TRUE(Has(text, "ephemera_workqueue_depth 1\n"));
  EXPECT_TRUE(Has(text, "ephemera_watched_pods 40\n"));
  EXPECT_TRUE(Has(text, "# TYPE ephemera_events_dropped_total counter\n"));

  loop.sessions_cached = 6;
  pods = 41;
  text = registry.RenderPrometheusText();
  EXPECT_TRUE(Has(text, "ephemera_sessions 6\n")) << text;
  EXPECT_TRUE(Has(text, "ephemera_watched_pods 41\n"));
}

}  // namespace
}  // namespace ephemera::app
