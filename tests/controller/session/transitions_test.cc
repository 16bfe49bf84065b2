#include "controller/session/transitions.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/rfc3339.h"
#include "tests/controller/session/session_fixtures.h"

namespace ephemera::session {
namespace {

using api::Phase;
using std::chrono::seconds;
using testing::PodObject;
using testing::SessionObject;

const api::TimePoint kNow = *base::ParseRfc3339("2026-11-28T10:01:00Z");

api::DebugSession Session(Phase phase) {
  auto s = api::ParseDebugSession(SessionObject());
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  s->status.phase = phase;
  s->status.expires_at = s->created + seconds(300);
  return *s;
}

Plan PlanOf(Action action, std::string reason = "", std::string message = "") {
  Plan plan;
  plan.action = action;
  plan.reason = std::move(reason);
  plan.message = std::move(message);
  plan.container = "app";
  return plan;
}

Transition Apply(const Plan& plan, const StepOutcome& outcome, const api::DebugSession& s,
                 api::TimePoint now = kNow) {
  auto t = ApplyOutcome(plan, outcome, s, Policy{}, now);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : Transition{};
}

std::vector<std::string> Verbs(const Transition& t) {
  std::vector<std::string> verbs;
  for (const AuditEntry& entry : t.records) verbs.push_back(entry.action);
  return verbs;
}

// A pod in which the session's snapshot container is in `state` (marked as Ephemera's own).
PodView PodWithSessionContainer(const api::DebugSession& s, EphemeralState::Kind state) {
  PodView pod = *ParsePodView(PodObject());
  EphemeralContainerView container;
  container.name = EphemeralContainerNameFor(s.uid);
  container.added_by_ephemera = true;
  container.state.kind = state;
  pod.ephemeral_containers.push_back(container);
  return pod;
}

TEST(TransitionsTest, InitializeIsPendingAndDefersItsWrite) {
  api::DebugSession s = Session(Phase::kPending);
  s.status.phase.reset();
  s.status.expires_at.reset();
  Plan plan = PlanOf(Action::kInitialize);
  plan.expires_at = s.created + seconds(300);
  Transition t = Apply(plan, {}, s);
  EXPECT_EQ(t.status.phase, Phase::kPending);
  EXPECT_EQ(t.status.expires_at, plan.expires_at);
  EXPECT_EQ(t.write, StatusWrite::kDeferred);
  EXPECT_EQ(Verbs(t), std::vector<std::string>{"accepted"});
}

TEST(TransitionsTest, AuthorizationSetsTheConditionEitherWay) {
  StepOutcome allowed;
  allowed.access = {true, "Allowed", "alice may debug pod shop-1"};
  Transition ok = Apply(PlanOf(Action::kAuthorize), allowed, Session(Phase::kPending));
  ASSERT_NE(ok.status.FindCondition("Authorized"), nullptr);
  EXPECT_EQ(ok.status.FindCondition("Authorized")->status, "True");
  EXPECT_EQ(ok.status.phase, Phase::kPending) << "authorizing does not move the phase";
  EXPECT_EQ(Verbs(ok), std::vector<std::string>{"authorized"});
  EXPECT_EQ(ok.records[0].outcome, "ok");

  StepOutcome refused;
  refused.access = {false, "Forbidden", "alice may not get pods/shop-1"};
  Transition no = Apply(PlanOf(Action::kAuthorize), refused, Session(Phase::kPending));
  EXPECT_EQ(no.status.FindCondition("Authorized")->status, "False");
  EXPECT_EQ(no.status.FindCondition("Authorized")->reason, "Forbidden");
  EXPECT_EQ(Verbs(no), std::vector<std::string>{"denied"});
  EXPECT_EQ(no.records[0].outcome, "Forbidden");
  EXPECT_EQ(no.write, StatusWrite::kNow);
}

TEST(TransitionsTest, DenyEndsTheSession) {
  Transition t = Apply(PlanOf(Action::kDeny, "ProfileNotAllowed", "ptrace is not allowed here"), {},
                       Session(Phase::kPending));
  EXPECT_EQ(t.status.phase, Phase::kDenied);
  EXPECT_EQ(t.status.message, "ptrace is not allowed here");
  EXPECT_EQ(t.status.FindCondition("Authorized")->reason, "ProfileNotAllowed");
  EXPECT_EQ(Verbs(t), std::vector<std::string>{"denied"});
}

// The summary condition that `kubectl wait --for=condition=Ready` reads: True only with a delivered
// snapshot, False with the phase as its reason on the way there and at any other end.
TEST(TransitionsTest, ReadySummarizesEveryPhase) {
  const auto ready = [](const Transition& t) {
    const api::Condition* c = t.status.FindCondition(api::kReadyCondition);
    return c == nullptr ? std::string("(none)") : c->status + "/" + c->reason + "/" + c->message;
  };
  EXPECT_EQ(ready(Apply(PlanOf(Action::kInitialize), {}, Session(Phase::kPending))),
            "False/Pending/Waiting for authorization");
  EXPECT_EQ(ready(Apply(PlanOf(Action::kDeny, "ProfileNotAllowed", "ptrace is not allowed here"),
                        {}, Session(Phase::kPending))),
            "False/Denied/ptrace is not allowed here");
  EXPECT_EQ(ready(Apply(PlanOf(Action::kFail, "ToolFailed", "the tool exited 3"), {},
                        Session(Phase::kCapturing))),
            "False/Failed/the tool exited 3");
  api::DebugSession capturing = Session(Phase::kCapturing);
  StepOutcome delivered;
  delivered.snapshot = api::SnapshotSummary{capturing.key.name, "abc", 1, {"process"}, {}, {7}};
  delivered.redaction = api::RedactionSummary{0, 0, 0};
  delivered.overhead = api::OverheadSummary{10, 20, 30, 40, std::nullopt, ""};
  const Transition completed = Apply(PlanOf(Action::kCollect), delivered, capturing);
  EXPECT_EQ(ready(completed).substr(0, 23), "True/SnapshotDelivered/");
  // Each condition carries the generation it was written for (metav1.Condition).
  for (const api::Condition& c : completed.status.conditions) {
    EXPECT_EQ(c.observed_generation, 1) << c.type;
  }
  // The JSON the status subresource gets has it too.
  const nlohmann::json status = api::StatusToJson(completed.status);
  for (const auto& c : status["conditions"]) EXPECT_EQ(c["observedGeneration"], 1) << c.dump();
}

TEST(TransitionsTest, KeyCreatedMovesToInjectingWithTheNextWrite) {
  Transition t = Apply(PlanOf(Action::kEnsureKey), {}, Session(Phase::kPending));
  EXPECT_EQ(t.status.phase, Phase::kInjecting);
  EXPECT_EQ(t.write, StatusWrite::kDeferred);
  EXPECT_EQ(Verbs(t), std::vector<std::string>{"key-created"});
}

TEST(TransitionsTest, InjectedMovesToCapturingAndNamesTheContainer) {
  api::DebugSession s = Session(Phase::kInjecting);
  StepOutcome outcome;
  outcome.injected_pod = PodWithSessionContainer(s, EphemeralState::Kind::kRunning);
  outcome.annotated = "; pod annotated ephemera.dev/debugged-by";
  Transition t = Apply(PlanOf(Action::kInject), outcome, s);
  EXPECT_EQ(t.status.phase, Phase::kCapturing);
  EXPECT_EQ(t.status.ephemeral_container, EphemeralContainerNameFor(s.uid));
  EXPECT_EQ(t.status.FindCondition("Injected")->status, "True");
  ASSERT_EQ(Verbs(t), std::vector<std::string>{"injected"});
  EXPECT_NE(t.records[0].message.find("pod annotated"), std::string::npos);
}

TEST(TransitionsTest, InjectedNotesAllowEnvEntriesThatCouldRevealASecret) {
  api::DebugSession s = Session(Phase::kInjecting);
  s.spec.allow_env = {"DB_PASSWORD"};  // filled from a Secret in the pod spec
  StepOutcome outcome;
  outcome.injected_pod = PodWithSessionContainer(s, EphemeralState::Kind::kRunning);
  Transition t = Apply(PlanOf(Action::kInject), outcome, s);
  EXPECT_NE(t.status.FindCondition("Injected")->message.find("DB_PASSWORD"), std::string::npos);
}

TEST(TransitionsTest, ARefusedInjectionFailsTheSession) {
  StepOutcome outcome;
  outcome.result = FailedPreconditionError("the API server refused the snapshot container: no");
  Transition t = Apply(PlanOf(Action::kInject), outcome, Session(Phase::kInjecting));
  EXPECT_EQ(t.status.phase, Phase::kFailed);
  EXPECT_EQ(t.status.FindCondition("Injected")->reason, "InjectionRefused");
  EXPECT_EQ(Verbs(t), std::vector<std::string>{"injection-refused"});
}

TEST(TransitionsTest, OtherStepErrorsAreReturnedForARetry) {
  StepOutcome unavailable;
  unavailable.result = UnavailableError("the API server is restarting");
  for (Action action : {Action::kInject, Action::kCollect, Action::kAuthorize}) {
    auto t = ApplyOutcome(PlanOf(action), unavailable, Session(Phase::kCapturing), Policy{}, kNow);
    EXPECT_EQ(t.status().code(), StatusCode::kUnavailable) << ActionName(action);
  }
  StepOutcome precondition;
  precondition.result = FailedPreconditionError("a DebugSnapshot of another session is in the way");
  auto collect = ApplyOutcome(PlanOf(Action::kCollect), precondition, Session(Phase::kCapturing),
                              Policy{}, kNow);
  EXPECT_EQ(collect.status().code(), StatusCode::kFailedPrecondition)
      << "only injection treats FailedPrecondition as final";
}

TEST(TransitionsTest, DeliveryCompletesWithTwoRecordsAndShredsTheKey) {
  api::DebugSession s = Session(Phase::kCapturing);
  StepOutcome outcome;
  outcome.snapshot = api::SnapshotSummary{s.key.name, "abc", 1234, {"process", "fds"}, {}, {7, 9}};
  outcome.redaction = api::RedactionSummary{3, 2, 0};
  outcome.overhead = api::OverheadSummary{10, 20, 30, 40, std::nullopt, ""};
  Transition t = Apply(PlanOf(Action::kCollect), outcome, s);
  EXPECT_EQ(t.status.phase, Phase::kCompleted);
  EXPECT_EQ(t.status.FindCondition("Captured")->status, "True");
  EXPECT_EQ(t.status.FindCondition("Delivered")->status, "True");
  ASSERT_TRUE(t.status.snapshot.has_value());
  EXPECT_EQ(t.status.snapshot->sha256, "abc");
  EXPECT_EQ(t.status.redaction->env_redacted, 3);
  EXPECT_EQ(t.write, StatusWrite::kNowThenShredKey);
  ASSERT_EQ(Verbs(t), (std::vector<std::string>{"collected", "delivered"}));
  EXPECT_FALSE(t.records[0].reported) << "what the tool read is in the audit trail only";
  EXPECT_EQ(t.records[0].message, "the snapshot tool read 2 section(s) of 2 process(es)");
  EXPECT_EQ(t.records[0].details["pids"], nlohmann::json({7, 9}));
  EXPECT_TRUE(t.records[1].reported);
  EXPECT_EQ(t.records[1].details["sha256"], "abc");
}

// Status shows the budget the tool was given (the session's, within the policy) beside what it
// measured, and which budget it reached; the Captured condition says so in words.
TEST(TransitionsTest, DeliveryShowsTheBudgetAndWhichWasReached) {
  api::DebugSession s = Session(Phase::kCapturing);
  s.spec.budget.cpu = std::chrono::milliseconds(500);
  StepOutcome outcome;
  outcome.snapshot = api::SnapshotSummary{s.key.name, "abc", 1234, {"process"}, {}, {7}};
  outcome.overhead = api::OverheadSummary{10, 20, 30, 40, std::nullopt, ""};
  outcome.overhead->budget_reached = "cpu";
  Transition t = Apply(PlanOf(Action::kCollect), outcome, s);
  ASSERT_TRUE(t.status.overhead.has_value());
  ASSERT_TRUE(t.status.overhead->budget.has_value());
  EXPECT_EQ(t.status.overhead->budget->cpu_millis, 500);
  EXPECT_EQ(t.status.overhead->budget->memory_bytes, BudgetPolicy{}.default_memory_bytes);
  EXPECT_EQ(t.status.overhead->budget->wall_millis, 20000);
  EXPECT_EQ(t.status.overhead->budget_reached, "cpu");
  EXPECT_NE(t.status.FindCondition("Captured")->message.find("it reached its cpu budget"),
            std::string::npos)
      << t.status.FindCondition("Captured")->message;
  const nlohmann::json status = api::StatusToJson(t.status);
  EXPECT_EQ(status["overhead"]["budget"],
            nlohmann::json({{"cpuMillis", 500}, {"memoryBytes", 64 << 20}, {"wallMillis", 20000}}));
  EXPECT_EQ(status["overhead"]["budgetReached"], "cpu");
  EXPECT_EQ(t.records[0].details["overhead"]["budgetReached"], "cpu");

  outcome.overhead->budget_reached.clear();
  Transition within = Apply(PlanOf(Action::kCollect), outcome, s);
  EXPECT_EQ(within.status.FindCondition("Captured")->message, "the snapshot tool finished");
  EXPECT_FALSE(api::StatusToJson(within.status)["overhead"].contains("budgetReached"));
}

TEST(TransitionsTest, AnUnusableSnapshotFailsForGoodAndShredsTheKey) {
  for (const Status& error :
       {DataLossError("not a snapshot"), ResourceExhaustedError("over the cap"),
        PermissionDeniedError("log refused"), InvalidArgumentError("bad field")}) {
    StepOutcome outcome;
    outcome.result = error;
    Transition t = Apply(PlanOf(Action::kCollect), outcome, Session(Phase::kCapturing));
    EXPECT_EQ(t.status.phase, Phase::kFailed) << error.ToString();
    EXPECT_EQ(t.status.FindCondition("Captured")->reason, "SnapshotInvalid");
    EXPECT_EQ(t.write, StatusWrite::kNowThenShredKey);
    EXPECT_EQ(Verbs(t), std::vector<std::string>{"collection-failed"});
  }
}

TEST(TransitionsTest, FailureNamesTheStepThatCouldNotHappen) {
  Transition before = Apply(PlanOf(Action::kFail, "TargetPodNotFound", "pod shop-1 is gone"), {},
                            Session(Phase::kInjecting));
  EXPECT_EQ(before.status.phase, Phase::kFailed);
  EXPECT_NE(before.status.FindCondition("Injected"), nullptr);
  EXPECT_EQ(before.status.FindCondition("Captured"), nullptr);

  api::DebugSession injected = Session(Phase::kCapturing);
  injected.status.SetCondition("Injected", true, "Injected", "container …", kNow);
  Transition after =
      Apply(PlanOf(Action::kFail, "SnapshotContainerFailed", "it exited 3"), {}, injected);
  EXPECT_EQ(after.status.FindCondition("Captured")->reason, "SnapshotContainerFailed");
  EXPECT_EQ(after.status.FindCondition("Injected")->status, "True") << "left as it was";
  EXPECT_EQ(Verbs(after), std::vector<std::string>{"failed"});
}

TEST(TransitionsTest, AnExpiredWipeRecordsTheExpiryThenTheWipe) {
  api::DebugSession s = Session(Phase::kCompleted);
  StepOutcome outcome;
  outcome.pod_after_wipe = PodWithSessionContainer(s, EphemeralState::Kind::kTerminated);
  Transition t =
      Apply(PlanOf(Action::kWipe, "Expired", "TTL lapsed"), outcome, s, s.created + seconds(301));
  EXPECT_EQ(t.status.phase, Phase::kExpired);
  EXPECT_EQ(t.status.FindCondition("Wiped")->status, "True");
  EXPECT_EQ(t.status.FindCondition("ContainerTerminated"), nullptr);
  ASSERT_EQ(Verbs(t), (std::vector<std::string>{"expired", "wiped"}));
  EXPECT_FALSE(t.records[0].reported);
}

TEST(TransitionsTest, AContainerStillRunningAfterTheTtlIsAnAlarm) {
  api::DebugSession s = Session(Phase::kCompleted);
  StepOutcome outcome;
  outcome.pod_after_wipe = PodWithSessionContainer(s, EphemeralState::Kind::kRunning);
  Transition t =
      Apply(PlanOf(Action::kWipe, "Expired", "TTL lapsed"), outcome, s, s.created + seconds(301));
  ASSERT_EQ(Verbs(t), (std::vector<std::string>{"expired", "still-running-after-ttl", "wiped"}));
  EXPECT_EQ(t.records[1].outcome, kSnapshotContainerStillRunning);
  EXPECT_EQ(t.status.FindCondition("ContainerTerminated")->status, "False");
  // The alarm is a step report, and so an Event on the pod as well as on the session.
  EXPECT_TRUE(BuildPodEvent(StepReportFor(s, Action::kWipe, t.records[1])).has_value());
}

TEST(TransitionsTest, ADeletedSessionWipedEarlyIsNoAlarmAndKeepsItsPhase) {
  api::DebugSession s = Session(Phase::kCapturing);
  s.deleting = true;
  s.status.SetCondition("Injected", true, "Injected", "container …", kNow);
  StepOutcome outcome;
  outcome.pod_after_wipe = PodWithSessionContainer(s, EphemeralState::Kind::kRunning);
  Transition t = Apply(PlanOf(Action::kWipe, "Deleted", "deleted"), outcome, s, kNow);
  EXPECT_EQ(t.status.phase, Phase::kCapturing);
  EXPECT_EQ(Verbs(t), std::vector<std::string>{"wiped"}) << "no expiry, no alarm";
}

TEST(TransitionsTest, AContainerOfTheSameNameThatEphemeraDidNotAddIsNotTheSessions) {
  api::DebugSession s = Session(Phase::kCompleted);
  PodView pod = PodWithSessionContainer(s, EphemeralState::Kind::kRunning);
  EXPECT_NE(SessionContainerIn(pod, s.uid), nullptr);
  pod.ephemeral_containers.back().added_by_ephemera = false;
  EXPECT_EQ(SessionContainerIn(pod, s.uid), nullptr);
}

TEST(TransitionsTest, StepsWithoutAStatusChangeAreRefused) {
  for (Action action : {Action::kWait, Action::kAddFinalizer, Action::kRemoveFinalizer}) {
    auto t = ApplyOutcome(PlanOf(action), {}, Session(Phase::kPending), Policy{}, kNow);
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << ActionName(action);
  }
}

TEST(TransitionsTest, AnExpiryPushedBackIsCorrected) {
  api::DebugSession s = Session(Phase::kPending);
  s.status.expires_at = s.created + std::chrono::hours(48);  // rewritten by someone else
  StepOutcome outcome;
  outcome.access = {true, "Allowed", "ok"};
  Transition t = Apply(PlanOf(Action::kAuthorize), outcome, s);
  EXPECT_EQ(t.status.expires_at, s.created + seconds(300));
}

TEST(TransitionsTest, APtraceSessionRefusedByPodSecurityIsToldWhatPasses) {
  EXPECT_NE(InjectionRefusedMessage("violates PodSecurity \"baseline\"", api::Profile::kPtrace)
                .find("restricted profile passes"),
            std::string::npos);
  EXPECT_EQ(InjectionRefusedMessage("violates PodSecurity", api::Profile::kRestricted)
                .find("restricted profile passes"),
            std::string::npos);
}

}  // namespace
}  // namespace ephemera::session
