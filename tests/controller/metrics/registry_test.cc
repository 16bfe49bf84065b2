#include "controller/metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace ephemera::metrics {
namespace {

TEST(RegistryTest, RendersUnlabeledCounterFromZero) {
  Registry registry;
  registry.AddCounter("leader_transitions_total", "Times this replica became leader.");
  EXPECT_EQ(registry.RenderPrometheusText(),
            "# HELP ephemera_leader_transitions_total Times this replica became leader.\n"
            "# TYPE ephemera_leader_transitions_total counter\n"
            "ephemera_leader_transitions_total 0\n");
}

TEST(RegistryTest, RendersLabeledCounterChildrenInLabelOrder) {
  Registry registry;
  auto& reconciles = registry.AddCounter("reconcile_total", "Reconciles by result.", {"result"});
  reconciles.WithLabels({"success"}).Increment();
  reconciles.WithLabels({"success"}).Increment(2);
  reconciles.WithLabels({"error"}).Increment();
  EXPECT_EQ(registry.RenderPrometheusText(),
            "# HELP ephemera_reconcile_total Reconciles by result.\n"
            "# TYPE ephemera_reconcile_total counter\n"
            "ephemera_reconcile_total{result=\"error\"} 1\n"
            "ephemera_reconcile_total{result=\"success\"} 3\n");
}

TEST(RegistryTest, CounterIgnoresNegativeIncrements) {
  Counter counter;
  counter.Increment(2.5);
  counter.Increment(-1);
  counter.Increment(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(counter.Value(), 2.5);
}

TEST(RegistryTest, LabeledFamilyWithoutChildrenIsLeftOut) {
  Registry registry;
  registry.AddCounter("reconcile_total", "Reconciles by result.", {"result"});
  EXPECT_EQ(registry.RenderPrometheusText(), "");
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  auto& gauge = registry.AddGauge("info", "Line one\\two\nthree \"quoted\"", {"a", "b"});
  gauge.WithLabels({"back\\slash \"q\"", "new\nline"}).Set(1);
  EXPECT_EQ(registry.RenderPrometheusText(),
            "# HELP ephemera_info Line one\\\\two\\nthree \"quoted\"\n"
            "# TYPE ephemera_info gauge\n"
            "ephemera_info{a=\"back\\\\slash \\\"q\\\"\",b=\"new\\nline\"} 1\n");
}

TEST(RegistryTest, GaugeSetAndAdd) {
  Registry registry;
  auto& active = registry.AddGauge("sessions_active", "Sessions not yet finished.").Get();
  active.Set(4);
  active.Add(-1.5);
  EXPECT_EQ(registry.RenderPrometheusText(),
            "# HELP ephemera_sessions_active Sessions not yet finished.\n"
            "# TYPE ephemera_sessions_active gauge\n"
            "ephemera_sessions_active 2.5\n");
}

TEST(RegistryTest, RendersHistogramBucketsSumAndCount) {
  Registry registry;
  auto& duration = registry.AddHistogram("reconcile_duration_seconds", "Time per reconcile.",
                                         {"controller"}, {0.1, 0.5, 2});
  auto& child = duration.WithLabels({"debugsession"});
  child.Observe(0.05);
  child.Observe(0.1);  // on a bound: counted in that bucket (le = less or equal)
  child.Observe(0.3);
  child.Observe(7);
  EXPECT_EQ(
      registry.RenderPrometheusText(),
      "# HELP ephemera_reconcile_duration_seconds Time per reconcile.\n"
      "# TYPE ephemera_reconcile_duration_seconds histogram\n"
      "ephemera_reconcile_duration_seconds_bucket{controller=\"debugsession\",le=\"0.1\"} 2\n"
      "ephemera_reconcile_duration_seconds_bucket{controller=\"debugsession\",le=\"0.5\"} 3\n"
      "ephemera_reconcile_duration_seconds_bucket{controller=\"debugsession\",le=\"2\"} 3\n"
      "ephemera_reconcile_duration_seconds_bucket{controller=\"debugsession\",le=\"+Inf\"} 4\n"
      "ephemera_reconcile_duration_seconds_sum{controller=\"debugsession\"} 7.45\n"
      "ephemera_reconcile_duration_seconds_count{controller=\"debugsession\"} 4\n");
}

TEST(RegistryTest, UnlabeledHistogramUsesDefaultBuckets) {
  Registry registry;
  registry.AddHistogram("capture_seconds", "Capture time.", {});
  const std::string text = registry.RenderPrometheusText();
  EXPECT_NE(text.find("ephemera_capture_seconds_bucket{le=\"0.005\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ephemera_capture_seconds_bucket{le=\"10\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ephemera_capture_seconds_bucket{le=\"+Inf\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("ephemera_capture_seconds_sum 0\nephemera_capture_seconds_count 0\n"),
            std::string::npos);
}

TEST(RegistryTest, FamiliesRenderInNameOrder) {
  Registry registry;
  registry.AddGauge("zeta", "Z.");
  registry.AddCounter("alpha_total", "A.");
  const std::string text = registry.RenderPrometheusText();
  EXPECT_LT(text.find("ephemera_alpha_total"), text.find("ephemera_zeta"));
}

TEST(RegistryTest, FuncMetricsAreReadAtRenderTime) {
  Registry registry;
  double depth = 3;
  registry.AddGaugeFunc("workqueue_depth", "Keys waiting.", {"name"}, {"debugsessions"},
                        [&] { return depth; });
  registry.AddCounterFunc("workqueue_adds_total", "Keys added.", {"name"}, {"debugsessions"},
                          [] { return 12.0; });
  depth = 5;
  EXPECT_EQ(registry.RenderPrometheusText(),
            "# HELP ephemera_workqueue_adds_total Keys added.\n"
            "# TYPE ephemera_workqueue_adds_total counter\n"
            "ephemera_workqueue_adds_total{name=\"debugsessions\"} 12\n"
            "# HELP ephemera_workqueue_depth Keys waiting.\n"
            "# TYPE ephemera_workqueue_depth gauge\n"
            "ephemera_workqueue_depth{name=\"debugsessions\"} 5\n");
}

TEST(RegistryTest, RegisteringSameShapeTwiceReturnsSameFamily) {
  Registry registry;
  auto& a = registry.AddCounter("x_total", "X.", {"k"});
  auto& b = registry.AddCounter("x_total", "X.", {"k"});
  EXPECT_EQ(&a, &b);
  a.WithLabels({"v"}).Increment();
  EXPECT_EQ(b.WithLabels({"v"}).Value(), 1);
}

TEST(RegistryTest, CustomPrefix) {
  Registry registry("test_");
  registry.AddGauge("g", "G.");
  EXPECT_EQ(registry.RenderPrometheusText(), "# HELP test_g G.\n# TYPE test_g gauge\ntest_g 0\n");
}

TEST(RegistryTest, FormatsSampleValues) {
  EXPECT_EQ(FormatSampleValue(0), "0");
  EXPECT_EQ(FormatSampleValue(42), "42");
  EXPECT_EQ(FormatSampleValue(0.25), "0.25");
  EXPECT_EQ(FormatSampleValue(1e21), "1e+21");
  EXPECT_EQ(FormatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatSampleValue(std::nan("")), "NaN");
}

TEST(RegistryTest, ExponentialBuckets) {
  EXPECT_EQ(ExponentialBuckets(0.5, 2, 4), (std::vector<double>{0.5, 1, 2, 4}));
}

TEST(RegistryTest, ConcurrentIncrementsAreNotLost) {
  Registry registry;
  auto& family = registry.AddCounter("events_total", "Events.", {"kind"});
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) family.WithLabels({"a"}).Increment();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(family.WithLabels({"a"}).Value(), 40000);
}

using RegistryDeathTest = ::testing::Test;

TEST(RegistryDeathTest, AbortsOnInvalidMetricName) {
  Registry registry;
  EXPECT_DEATH(registry.AddCounter("bad-name", "X."), "invalid metric name");
}

TEST(RegistryDeathTest, AbortsOnWrongLabelCount) {
  Registry registry;
  auto& family = registry.AddCounter("x_total", "X.", {"a", "b"});
  EXPECT_DEATH(family.WithLabels({"only-one"}), "has 2 labels but got 1 values");
}

TEST(RegistryDeathTest, AbortsOnConflictingReRegistration) {
  Registry registry;
  registry.AddCounter("x_total", "X.");
  EXPECT_DEATH(registry.AddGauge("x_total", "X."), "registered twice");
}

TEST(RegistryDeathTest, AbortsOnReservedHistogramLabel) {
  Registry registry;
  EXPECT_DEATH(registry.AddHistogram("h", "H.", {"le"}), "reserved label name");
}

}  // namespace
}  // namespace ephemera::metrics
