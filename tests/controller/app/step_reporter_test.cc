#include "controller/app/step_reporter.h"

#include <gtest/gtest.h>

#include "tests/controller/app/app_fixture.h"

namespace ephemera::app {
namespace {

session::StepRecord Step(session::Action action, std::string outcome) {
  session::StepRecord step;
  step.session = {"team-a", "s"};
  step.session_uid = "uid-s";
  step.requester = "alice";
  step.target = "shop-1/app";
  step.action = action;
  step.outcome = std::move(outcome);
  step.message = "something happened";
  return step;
}

std::string Labeled(session::Action action) { return std::string(session::ActionName(action)); }

TEST(StepReporterTest, CountsEveryStepAndLogsIt) {
  AppFixture app;
  StepReporter reporter(app.metrics, app.events, app.logger);
  reporter.OnStep(Step(session::Action::kInject, "ok"));
  reporter.OnStep(Step(session::Action::kInject, "ok"));

  EXPECT_EQ(app.metrics.session_steps.WithLabels({Labeled(session::Action::kInject), "ok"}).Value(),
            2);
  EXPECT_NE(app.logs.str().find("\"msg\":\"Session step\""), std::string::npos) << app.logs.str();
  EXPECT_NE(app.logs.str().find("\"debugsession\":\"team-a/s\""), std::string::npos);
}

TEST(StepReporterTest, QueuesTheEventsTheStepIsWorth) {
  for (const session::Action action :
       {session::Action::kInject, session::Action::kWait, session::Action::kWipe}) {
    SCOPED_TRACE(Labeled(action));
    AppFixture app;
    StepReporter reporter(app.metrics, app.events, app.logger);
    const session::StepRecord step = Step(action, "ok");
    reporter.OnStep(step);
    const std::size_t expected =
        (session::BuildSessionEvent(step) ? 1u : 0u) + (session::BuildPodEvent(step) ? 1u : 0u);
    EXPECT_EQ(app.events.Stats().queued, expected);
  }
}

TEST(StepReporterTest, ASnapshotContainerStillRunningIsCountedAndReportedOnThePod) {
  const session::StepRecord step =
      Step(session::Action::kWipe, std::string(session::kSnapshotContainerStillRunning));
  ASSERT_TRUE(session::BuildPodEvent(step).has_value())
      << "the fixture's step must be one that reports on the pod";
  AppFixture app;
  StepReporter reporter(app.metrics, app.events, app.logger);
  reporter.OnStep(step);
  EXPECT_EQ(app.metrics.still_running.Get().Value(), 1);
  EXPECT_GE(app.events.Stats().queued, 1u);

  reporter.OnStep(Step(session::Action::kWipe, "ok"));
  EXPECT_EQ(app.metrics.still_running.Get().Value(), 1) << "an ordinary wipe is not counted";
  reporter.OnStep(Step(session::Action::kInject, "ok"));
  EXPECT_EQ(app.metrics.still_running.Get().Value(), 1)
      << "the injection's Event on the pod is no container left running";
}

TEST(StepReporterTest, AFailedReconcileIsCountedAndLogged) {
  AppFixture app;
  StepReporter reporter(app.metrics, app.events, app.logger);
  reporter.OnReconcileError({"team-a", "s"}, UnavailableError("apiserver away"));
  EXPECT_EQ(app.metrics.reconcile_errors.Get().Value(), 1);
  EXPECT_NE(app.logs.str().find("Reconcile failed; will retry"), std::string::npos);
  EXPECT_NE(app.logs.str().find("apiserver away"), std::string::npos);
}

}  // namespace
}  // namespace ephemera::app
