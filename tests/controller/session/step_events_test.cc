#include "controller/session/step_events.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <utility>

namespace ephemera::session {
namespace {

StepRecord Step(Action action, std::string outcome, std::string message = "a sentence") {
  return StepRecord{{"team-a", "checkout-500s"},
                    "8d3c0e7a-0001-4b7e-9d1e-5e0c7b1a2f3d",
                    "alice",
                    "INC-1234 checkout returns 500",
                    "shop-1/app",
                    action,
                    std::move(outcome),
                    std::move(message)};
}

TEST(StepEventsTest, AStillRunningSnapshotContainerIsAWarningOnThePod) {
  const auto event = BuildPodEvent(
      Step(Action::kWipe, std::string(kSnapshotContainerStillRunning),
           "snapshot container ephemera-3f9a1c0b7e in pod shop-1 has not terminated"));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->regarding.api_version, "v1");
  EXPECT_EQ(event->regarding.kind, "Pod");
  EXPECT_EQ(event->regarding.namespace_name, "team-a") << "the session's namespace";
  EXPECT_EQ(event->regarding.name, "shop-1") << "the pod of the step's target, not the container";
  ASSERT_TRUE(event->related.has_value());
  EXPECT_EQ(event->related->kind, "DebugSession");
  EXPECT_EQ(event->related->name, "checkout-500s");
  EXPECT_EQ(event->related->uid, "8d3c0e7a-0001-4b7e-9d1e-5e0c7b1a2f3d");
  EXPECT_EQ(event->type, "Warning");
  EXPECT_EQ(event->reason, "SnapshotContainerStillRunning");
  EXPECT_EQ(event->action, "DetectEphemeralContainer");
  EXPECT_NE(event->note.find("DebugSession checkout-500s"), std::string::npos) << event->note;

  // It is a valid Event for the API server once the recorder names the reporter.
  kube::EventRecord sent = *event;
  sent.reporting_controller = "ephemera.dev/ephemera-controller";
  sent.reporting_instance = "ephemera-controller-0";
  auto object = kube::BuildEventObject(sent, std::chrono::system_clock::time_point{});
  ASSERT_TRUE(object.ok()) << object.status().ToString();
  EXPECT_EQ((*object)["metadata"]["namespace"], "team-a");
  EXPECT_EQ((*object)["regarding"]["name"], "shop-1");
}

TEST(StepEventsTest, TheInjectionTellsThePodWhoDebugsItAndWhy) {
  const auto event = BuildPodEvent(Step(Action::kInject, "ok", "ephemera-3f9a1c0b7e"));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->regarding.kind, "Pod");
  EXPECT_EQ(event->regarding.name, "shop-1");
  EXPECT_EQ(event->related->name, "checkout-500s");
  EXPECT_EQ(event->type, "Normal");
  EXPECT_EQ(event->reason, "DebugSessionStarted");
  EXPECT_EQ(event->note,
            "DebugSession checkout-500s by alice added a snapshot container to debug container "
            "app: INC-1234 checkout returns 500");
}

TEST(StepEventsTest, OtherStepsPutNothingOnThePod) {
  EXPECT_FALSE(BuildPodEvent(Step(Action::kWipe, "ok")).has_value());
  EXPECT_FALSE(BuildPodEvent(Step(Action::kCollect, "ok")).has_value());
  EXPECT_FALSE(BuildPodEvent(Step(Action::kInject, "InjectionRefused")).has_value());
}

TEST(StepEventsTest, TheSessionEventSummarizesTheStep) {
  const auto delivered = BuildSessionEvent(Step(Action::kCollect, "ok", "snapshot delivered"));
  ASSERT_TRUE(delivered.has_value());
  EXPECT_EQ(delivered->regarding.kind, "DebugSession");
  EXPECT_EQ(delivered->regarding.namespace_name, "team-a");
  EXPECT_EQ(delivered->regarding.name, "checkout-500s");
  EXPECT_EQ(delivered->type, "Normal");
  EXPECT_EQ(delivered->reason, "Collect");
  EXPECT_EQ(delivered->note, "snapshot delivered");

  const auto still_running =
      BuildSessionEvent(Step(Action::kWipe, std::string(kSnapshotContainerStillRunning)));
  ASSERT_TRUE(still_running.has_value()) << "on the session as well as on the pod";
  EXPECT_EQ(still_running->type, "Warning");
  EXPECT_EQ(still_running->reason, "SnapshotContainerStillRunning");
  EXPECT_EQ(still_running->action, "Wipe");

  EXPECT_FALSE(BuildSessionEvent(Step(Action::kEnsureKey, "ok")).has_value())
      << "in the audit trail and the conditions only";
}

}  // namespace
}  // namespace ephemera::session
