#include "controller/session/planner.h"

#include <gtest/gtest.h>

#include "base/rfc3339.h"
#include "tests/controller/session/session_fixtures.h"

namespace ephemera::session {
namespace {

using std::chrono::seconds;
using testing::PodObject;
using testing::SessionObject;

api::TimePoint At(const char* rfc3339) { return *base::ParseRfc3339(rfc3339); }

api::DebugSession Session(const nlohmann::json& object = SessionObject()) {
  auto s = api::ParseDebugSession(object);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

api::DebugSession Initialized(api::Phase phase) {
  api::DebugSession s = Session();
  s.status.phase = phase;
  s.status.expires_at = s.created + seconds(300);
  return s;
}

Observations WithPod(bool running = true, bool key = true) {
  return Observations{*ParsePodView(PodObject(running)), key, ""};
}

// `observed` with the requester's rights established by the controller's own reviews in this
// reconcile (allowed unless told otherwise).
Observations Authorized(Observations observed, bool allowed = true) {
  observed.access = AccessDecision{
      allowed, allowed ? "Allowed" : "Forbidden",
      allowed ? "alice may debug pod shop-1" : "alice may not get pods/shop-1 in namespace team-a"};
  return observed;
}

const api::TimePoint kNow = At("2026-11-28T10:00:05Z");

TEST(SessionPlannerTest, AddsFinalizerFirst) {
  nlohmann::json object = SessionObject();
  object["metadata"].erase("finalizers");
  EXPECT_EQ(PlanSession(Session(object), {}, Policy{}, kNow).action, Action::kAddFinalizer);
}

TEST(SessionPlannerTest, InitializesExpiryFromCreationPlusTtl) {
  Plan p = PlanSession(Session(), {}, Policy{}, kNow);
  ASSERT_EQ(p.action, Action::kInitialize);
  EXPECT_EQ(base::FormatRfc3339(*p.expires_at), "2026-11-28T10:05:00Z");
}

TEST(SessionPlannerTest, PolicyCapsTtl) {
  Policy policy;
  policy.max_ttl = seconds(120);
  Plan p = PlanSession(Session(), {}, policy, kNow);
  EXPECT_EQ(base::FormatRfc3339(*p.expires_at), "2026-11-28T10:02:00Z");
}

TEST(SessionPlannerTest, ExpiryWrittenOnceIsNeverExtended) {
  api::DebugSession s = Initialized(api::Phase::kPending);
  s.status.expires_at = At("2026-11-28T10:01:00Z");  // a restart must not recompute it
  Plan p = PlanSession(s, WithPod(), Policy{}, At("2026-11-28T10:01:00Z"));
  EXPECT_EQ(p.action, Action::kWipe);
  EXPECT_EQ(p.reason, "TTLExpired");
}

TEST(SessionPlannerTest, DeniesForbiddenNamespace) {
  Policy policy;
  policy.forbidden_namespaces = {"team-a"};
  Plan p = PlanSession(Initialized(api::Phase::kPending), WithPod(), policy, kNow);
  EXPECT_EQ(p.action, Action::kDeny);
  EXPECT_EQ(p.reason, "NamespaceNotAllowed");
}

TEST(SessionPlannerTest, DeniesNamespaceOutsideAllowList) {
  Policy policy;
  policy.allowed_namespaces = {"team-b"};
  EXPECT_EQ(PlanSession(Initialized(api::Phase::kPending), WithPod(), policy, kNow).reason,
            "NamespaceNotAllowed");
}

TEST(SessionPlannerTest, DeniesDisallowedProfile) {
  Policy policy;
  policy.allowed_profiles = {api::Profile::kPtrace};
  EXPECT_EQ(PlanSession(Initialized(api::Phase::kPending), WithPod(), policy, kNow).reason,
            "ProfileNotAllowed");
}

// spec.redaction.pii under the policy's minimum is denied (a policy raised after admission);
// a session naming no mode gets the default, which the configuration keeps at or above it.
TEST(SessionPlannerTest, DeniesAPiiModeBelowThePolicyMinimum) {
  Policy policy;
  policy.minimum_pii = api::PiiMode::kStandard;
  api::DebugSession s = Initialized(api::Phase::kPending);
  s.spec.pii = api::PiiMode::kNone;
  Plan p = PlanSession(s, WithPod(), policy, kNow);
  EXPECT_EQ(p.action, Action::kDeny);
  EXPECT_EQ(p.reason, "RedactionBelowPolicy");
  EXPECT_NE(p.message.find("ask for standard or strict"), std::string::npos) << p.message;

  s.spec.pii = api::PiiMode::kStrict;
  EXPECT_NE(PlanSession(s, WithPod(), policy, kNow).action, Action::kDeny);
  s.spec.pii.reset();
  EXPECT_NE(PlanSession(s, WithPod(), policy, kNow).action, Action::kDeny)
      << "the default (standard) meets the minimum";
}

// spec.budget above a policy ceiling is refused here too (admission refuses it first), at the
// ceiling it is not; each message names the field and the limit.
TEST(SessionPlannerTest, DeniesBudgetsAboveThePolicysCeilings) {
  Policy policy;
  policy.budget.max_cpu = std::chrono::milliseconds(5000);
  policy.budget.max_memory_bytes = std::int64_t{128} << 20;
  policy.budget.max_wall = seconds(60);
  const auto plan = [&](const api::BudgetSpec& budget) {
    api::DebugSession s = Initialized(api::Phase::kPending);
    s.spec.budget = budget;
    return PlanSession(s, WithPod(), policy, kNow);
  };
  api::BudgetSpec at;
  at.cpu = std::chrono::milliseconds(5000);
  at.memory_bytes = std::int64_t{128} << 20;
  at.wall = seconds(60);
  EXPECT_EQ(plan(at).action, Action::kAuthorize) << plan(at).message;

  api::BudgetSpec cpu = at;
  cpu.cpu = std::chrono::milliseconds(5001);
  Plan p = plan(cpu);
  EXPECT_EQ(p.action, Action::kDeny);
  EXPECT_EQ(p.reason, "BudgetBeyondPolicy");
  EXPECT_EQ(p.message,
            "spec.budget.cpu: 5001ms exceeds the cluster's maximum of 5s of CPU time; ask for 5s "
            "or less");

  api::BudgetSpec memory = at;
  memory.memory_bytes = (std::int64_t{128} << 20) + 1;
  p = plan(memory);
  EXPECT_EQ(p.reason, "BudgetBeyondPolicy");
  EXPECT_NE(p.message.find("spec.budget.memoryBytes: 134217729 exceeds the cluster's maximum of "
                           "134217728 (128Mi) bytes"),
            std::string::npos)
      << p.message;

  api::BudgetSpec wall = at;
  wall.wall = seconds(61);
  p = plan(wall);
  EXPECT_EQ(p.reason, "BudgetBeyondPolicy");
  EXPECT_NE(p.message.find("spec.budget.wall: 1m1s exceeds the cluster's maximum of 1m;"),
            std::string::npos)
      << p.message;
}

TEST(SessionPlannerTest, DeniesAWallBudgetTheSessionWouldNotOutlive) {
  Policy policy;
  api::DebugSession s = Initialized(api::Phase::kPending);
  s.spec.ttl = seconds(60);
  s.spec.budget.wall = seconds(60);
  Plan p = PlanSession(s, WithPod(), policy, kNow);
  EXPECT_EQ(p.reason, "BudgetBeyondPolicy");
  EXPECT_NE(p.message.find("is not shorter than the session's ttl of 1m,"), std::string::npos)
      << p.message;
  s.spec.budget.wall = seconds(59);
  EXPECT_EQ(PlanSession(s, WithPod(), policy, kNow).action, Action::kAuthorize);
}

TEST(SessionPlannerTest, DeniesWithoutRequester) {
  api::DebugSession s = Initialized(api::Phase::kPending);
  s.spec.requested_by.reset();
  Plan p = PlanSession(s, WithPod(), Policy{}, kNow);
  EXPECT_EQ(p.action, Action::kDeny);
  EXPECT_EQ(p.reason, "RequesterUnknown");
}

TEST(SessionPlannerTest, AuthorizesBeforeAnythingIsInjected) {
  EXPECT_EQ(PlanSession(Initialized(api::Phase::kPending), WithPod(), Policy{}, kNow).action,
            Action::kAuthorize);
}

TEST(SessionPlannerTest, DeniedAuthorizationEndsSession) {
  api::DebugSession s = Initialized(api::Phase::kPending);
  s.status.SetCondition("Authorized", false, "Forbidden", "alice may not get pods", kNow);
  Plan p = PlanSession(s, WithPod(), Policy{}, kNow);
  EXPECT_EQ(p.action, Action::kDeny);
  EXPECT_EQ(p.message, "alice may not get pods");
}

TEST(SessionPlannerTest, CreatesKeyThenInjects) {
  api::DebugSession s = Initialized(api::Phase::kPending);
  s.status.SetCondition("Authorized", true, "Allowed", "", kNow);
  Plan key = PlanSession(s, Authorized(WithPod(true, false)), Policy{}, kNow);
  EXPECT_EQ(key.action, Action::kEnsureKey);
  EXPECT_EQ(key.container, "app");
  s.status.phase = api::Phase::kInjecting;
  EXPECT_EQ(PlanSession(s, Authorized(WithPod(true, true)), Policy{}, kNow).action,
            Action::kInject);
}

// A run that created the key but stopped before writing the step (it is written with the next
// one) left phase Pending: the key step is taken again, so its audit record is not lost.
TEST(SessionPlannerTest, RetakesTheKeyStepWhenItIsNotOnRecord) {
  api::DebugSession s = Initialized(api::Phase::kPending);
  s.status.SetCondition("Authorized", true, "Allowed", "", kNow);
  EXPECT_EQ(PlanSession(s, Authorized(WithPod(true, true)), Policy{}, kNow).action,
            Action::kEnsureKey);
}

TEST(SessionPlannerTest, FailsWhenPodMissing) {
  api::DebugSession s = Initialized(api::Phase::kInjecting);
  Plan p = PlanSession(s, Authorized(Observations{std::nullopt, true, ""}), Policy{}, kNow);
  EXPECT_EQ(p.action, Action::kFail);
  EXPECT_EQ(p.reason, "TargetPodNotFound");
}

TEST(SessionPlannerTest, FailsWhenContainerMissing) {
  api::DebugSession s = Initialized(api::Phase::kInjecting);
  s.spec.container = "sidecar";
  EXPECT_EQ(PlanSession(s, Authorized(WithPod()), Policy{}, kNow).reason,
            "TargetContainerNotFound");
}

TEST(SessionPlannerTest, DefaultsToPodsDefaultContainer) {
  api::DebugSession s = Initialized(api::Phase::kInjecting);
  s.spec.container.clear();
  EXPECT_EQ(PlanSession(s, Authorized(WithPod()), Policy{}, kNow).container, "app");
}

TEST(SessionPlannerTest, WaitsForTargetToRunThenGivesUp) {
  api::DebugSession s = Initialized(api::Phase::kInjecting);
  Plan waiting = PlanSession(s, Authorized(WithPod(false)), Policy{}, kNow);
  EXPECT_EQ(waiting.action, Action::kWait);
  ASSERT_TRUE(waiting.requeue_after.has_value());
  Plan late = PlanSession(s, Authorized(WithPod(false)), Policy{}, s.created + seconds(61));
  EXPECT_EQ(late.reason, "TargetNotRunning");
}

Observations CapturingPod(const api::DebugSession& s, const nlohmann::json& state) {
  nlohmann::json pod = PodObject();
  const std::string name = EphemeralContainerNameFor(s.uid);
  pod["spec"]["ephemeralContainers"] = {{{"name", name}, {"image", "snap"}}};
  if (!state.is_null()) {
    pod["status"]["ephemeralContainerStatuses"] = {{{"name", name}, {"state", state}}};
  }
  Observations observed;
  observed.pod = *ParsePodView(pod);
  observed.key_exists = true;
  // The reconciler has checked its mark: Ephemera added it (see ForeignContainer tests).
  observed.pod->ephemeral_containers[0].added_by_ephemera = true;
  return observed;
}

TEST(SessionPlannerTest, WhileTheToolRunsOnlyTheSafetyNetPollIsScheduled) {
  // The pod watch reports a capture's end; the poll is the safety net for a missed event, and
  // must not spend the API budget when many sessions capture at once.
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  s.status.SetCondition("Injected", true, "Injected", "", s.created);
  auto running = CapturingPod(s, {{"running", nlohmann::json::object()}});
  auto poll_at = [&](std::chrono::milliseconds since_injection) {
    Plan p = PlanSession(s, running, Policy{}, s.created + since_injection);
    EXPECT_EQ(p.action, Action::kWait);
    return p.requeue_after.value_or(std::chrono::milliseconds(-1));
  };
  EXPECT_EQ(poll_at(std::chrono::milliseconds(0)), kCaptureSafetyNetPoll);
  EXPECT_EQ(poll_at(seconds(4)), kCaptureSafetyNetPoll);
  EXPECT_EQ(poll_at(seconds(30)), kCaptureSafetyNetPoll);
}

TEST(SessionPlannerTest, AToolAboutToBeOverdueIsLookedAtWhenItIs) {
  // The safety net must not let a tool that never ends run past its deadline by a whole poll.
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  s.status.SetCondition("Injected", true, "Injected", "", s.created);
  Policy policy;
  const auto overdue_at = ToolOverdueAt(s, policy) - s.created;
  EXPECT_EQ(overdue_at, policy.budget.default_wall + policy.tool_grace);
  auto running = CapturingPod(s, {{"running", nlohmann::json::object()}});
  Plan before = PlanSession(s, running, policy, s.created + overdue_at - seconds(2));
  ASSERT_EQ(before.action, Action::kWait);
  EXPECT_EQ(before.requeue_after, std::chrono::milliseconds(2001));
  Plan after =
      PlanSession(s, running, policy, s.created + overdue_at + before.requeue_after.value());
  EXPECT_EQ(after.reason, "SnapshotTimedOut");
}

TEST(SessionPlannerTest, ASessionsOwnWallBudgetSetsWhenItsToolIsOverdue) {
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  s.status.SetCondition("Injected", true, "Injected", "", s.created);
  s.spec.budget.wall = seconds(5);
  Policy policy;
  ASSERT_NE(policy.budget.default_wall, seconds(5));
  EXPECT_EQ(ToolOverdueAt(s, policy) - s.created, seconds(5) + policy.tool_grace);
  auto running = CapturingPod(s, {{"running", nlohmann::json::object()}});
  Plan late = PlanSession(s, running, policy, s.created + seconds(6) + policy.tool_grace);
  EXPECT_EQ(late.reason, "SnapshotTimedOut");
}

TEST(SessionPlannerTest, CollectsAfterCleanExit) {
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  auto obs = CapturingPod(s, {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}});
  EXPECT_EQ(PlanSession(s, obs, Policy{}, kNow).action, Action::kCollect);
}

TEST(SessionPlannerTest, FailsOnToolError) {
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  auto obs = CapturingPod(s, {{"terminated", {{"exitCode", 3}, {"reason", "Error"}}}});
  Plan p = PlanSession(s, obs, Policy{}, kNow);
  EXPECT_EQ(p.reason, "SnapshotToolFailed");
  EXPECT_NE(p.message.find("code 3"), std::string::npos);
}

// L5: a container with the session's name whose mark did not verify (someone else added it) is
// never taken for the session's own, before the injection or during the capture.
TEST(SessionPlannerTest, FailsWhenAForeignContainerHoldsTheSessionsName) {
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  auto obs = CapturingPod(s, {{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}});
  obs.pod->ephemeral_containers[0].added_by_ephemera = false;
  Plan capturing = PlanSession(s, obs, Policy{}, kNow);
  EXPECT_EQ(capturing.action, Action::kFail) << "its output must not be collected";
  EXPECT_EQ(capturing.reason, "ForeignSnapshotContainer");
  EXPECT_NE(capturing.message.find("pod shop-1 has an ephemeral container named " +
                                   EphemeralContainerNameFor(s.uid) + " that Ephemera did not add"),
            std::string::npos)
      << capturing.message;

  s.status.phase = api::Phase::kInjecting;
  s.status.SetCondition("Authorized", true, "Allowed", "alice may debug pod shop-1", kNow);
  Plan injecting = PlanSession(s, obs, Policy{}, kNow);
  EXPECT_EQ(injecting.action, Action::kFail) << "no injection next to it, no key";
  EXPECT_EQ(injecting.reason, "ForeignSnapshotContainer");
  EXPECT_NE(injecting.message.find("already has an ephemeral container named"), std::string::npos)
      << injecting.message;
}

TEST(SessionPlannerTest, FailsOnImagePullError) {
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  auto obs = CapturingPod(s, {{"waiting", {{"reason", "ErrImagePull"}, {"message", "not found"}}}});
  EXPECT_EQ(PlanSession(s, obs, Policy{}, kNow).reason, "SnapshotContainerFailed");
}

TEST(SessionPlannerTest, FailsWhenToolOutlivesItsDeadline) {
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  s.status.SetCondition("Injected", true, "Injected", "", s.created);
  auto obs = CapturingPod(s, {{"running", nlohmann::json::object()}});
  EXPECT_EQ(PlanSession(s, obs, Policy{}, s.created + seconds(61)).reason, "SnapshotTimedOut");
}

// The tool's deadline is the session's wall budget: the controller waits for it plus the grace.
TEST(SessionPlannerTest, WaitsForTheSessionsOwnWallBudget) {
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  s.spec.budget.wall = seconds(100);
  s.status.SetCondition("Injected", true, "Injected", "", s.created);
  auto obs = CapturingPod(s, {{"running", nlohmann::json::object()}});
  EXPECT_NE(PlanSession(s, obs, Policy{}, s.created + seconds(140)).reason, "SnapshotTimedOut");
  Plan late = PlanSession(s, obs, Policy{}, s.created + seconds(141));
  EXPECT_EQ(late.reason, "SnapshotTimedOut");
  EXPECT_NE(late.message.find("within 140s"), std::string::npos) << late.message;
}

TEST(SessionPlannerTest, FailsWhenPodReplacedDuringCapture) {
  api::DebugSession s = Initialized(api::Phase::kCapturing);
  EXPECT_EQ(PlanSession(s, WithPod(), Policy{}, kNow).reason, "TargetPodReplaced");
}

TEST(SessionPlannerTest, TerminalSessionWaitsUntilExpiry) {
  api::DebugSession s = Initialized(api::Phase::kCompleted);
  Plan p = PlanSession(s, {}, Policy{}, kNow);
  EXPECT_EQ(p.action, Action::kWait);
  EXPECT_EQ(p.requeue_after->count(), 295000);
}

TEST(SessionPlannerTest, ExpiredAndWipedIsDone) {
  api::DebugSession s = Initialized(api::Phase::kExpired);
  s.status.SetCondition("Wiped", true, "TTLExpired", "", kNow);
  Plan p = PlanSession(s, {}, Policy{}, s.created + seconds(400));
  EXPECT_EQ(p.action, Action::kWait);
  EXPECT_FALSE(p.requeue_after.has_value());
}

TEST(SessionPlannerTest, DeletionWipesThenReleasesFinalizer) {
  api::DebugSession s = Initialized(api::Phase::kCompleted);
  s.deleting = true;
  EXPECT_EQ(PlanSession(s, {}, Policy{}, kNow).action, Action::kWipe);
  s.status.SetCondition("Wiped", true, "SessionDeleted", "", kNow);
  EXPECT_EQ(PlanSession(s, {}, Policy{}, kNow).action, Action::kRemoveFinalizer);
}

// --- Status is not proof (M6) -----------------------------------------------------------------
//
// Whoever may update the status subresource can write any status before the controller's first
// write. The plan never takes Authorized=True or a later expiresAt from there.

// Carol (no `get pods`) wrote {phase: Pending, expiresAt: 2099, conditions: [Authorized=True]}:
// the controller still asks, and acts only on its own answer.
TEST(SessionPlannerTest, AForgedAuthorizedConditionIsNotADecision) {
  api::DebugSession s = Initialized(api::Phase::kPending);
  s.status.expires_at = At("2099-01-01T00:00:00Z");
  s.status.SetCondition("Authorized", true, "Allowed", "carol may debug pod shop-1", kNow);
  EXPECT_EQ(PlanSession(s, WithPod(true, false), Policy{}, kNow).action, Action::kAuthorize)
      << "no key is created on the strength of a condition in status";
  Plan denied = PlanSession(s, Authorized(WithPod(true, false), false), Policy{}, kNow);
  EXPECT_EQ(denied.action, Action::kDeny);
  EXPECT_EQ(denied.reason, "Forbidden");
  EXPECT_EQ(denied.message, "alice may not get pods/shop-1 in namespace team-a");
  EXPECT_EQ(PlanSession(s, Authorized(WithPod(true, false)), Policy{}, kNow).action,
            Action::kEnsureKey)
      << "the controller's own yes lets it go on";
}

// A forged phase skips no check either: Injecting with a key in place still needs the
// controller's own decision before the container goes in, and the requester is still required.
TEST(SessionPlannerTest, AForgedInjectingPhaseIsAuthorizedBeforeInjecting) {
  api::DebugSession s = Initialized(api::Phase::kInjecting);
  EXPECT_EQ(PlanSession(s, WithPod(true, true), Policy{}, kNow).action, Action::kAuthorize);
  s.status.SetCondition("Authorized", true, "Allowed", "", kNow);
  EXPECT_EQ(PlanSession(s, WithPod(true, true), Policy{}, kNow).action, Action::kAuthorize);
  EXPECT_EQ(PlanSession(s, Authorized(WithPod(true, true), false), Policy{}, kNow).action,
            Action::kDeny);
  s.spec.requested_by.reset();
  EXPECT_EQ(PlanSession(s, Authorized(WithPod(true, true)), Policy{}, kNow).reason,
            "RequesterUnknown");
}

// An earlier yes (this controller's, on record) does not cost a review while the session only
// waits for its target; the step that acts asks again (rights revoked meanwhile count).
TEST(SessionPlannerTest, AnEarlierYesIsAskedAgainOnlyWhenTheSessionActs) {
  api::DebugSession s = Initialized(api::Phase::kPending);
  s.status.SetCondition("Authorized", true, "Allowed", "alice may debug pod shop-1", kNow);
  EXPECT_EQ(PlanSession(s, WithPod(false), Policy{}, kNow).action, Action::kWait);
  EXPECT_EQ(PlanSession(s, WithPod(true), Policy{}, kNow).action, Action::kAuthorize);
}

// spec.ttl 2h (admission would have refused it; the policy changed since), policy cap 1h, and a
// status that says 2099: the session is wiped at creation + 1h, and waits no longer than that.
TEST(SessionPlannerTest, AForgedExpiryCannotDelayTheWipePastCreationPlusMaxTtl) {
  Policy policy;
  policy.max_ttl = std::chrono::hours(1);
  api::DebugSession s = Initialized(api::Phase::kCompleted);
  s.spec.ttl = std::chrono::hours(2);
  s.status.expires_at = At("2099-01-01T00:00:00Z");
  EXPECT_EQ(ExpiresAt(s, policy), s.created + std::chrono::hours(1));
  Plan waiting = PlanSession(s, {}, policy, s.created + std::chrono::minutes(59));
  EXPECT_EQ(waiting.action, Action::kWait);
  ASSERT_TRUE(waiting.requeue_after.has_value());
  EXPECT_EQ(*waiting.requeue_after, std::chrono::minutes(1));
  Plan wipe = PlanSession(s, {}, policy, s.created + std::chrono::hours(1));
  EXPECT_EQ(wipe.action, Action::kWipe);
  EXPECT_EQ(wipe.reason, "TTLExpired");

  // Within the spec's own TTL too: 5m, whatever status says.
  api::DebugSession five = Initialized(api::Phase::kCapturing);
  five.status.expires_at = At("2099-01-01T00:00:00Z");
  EXPECT_EQ(PlanSession(five, {}, Policy{}, five.created + seconds(300)).action, Action::kWipe);
}

// An expiresAt before creation + TTL is kept: status can only bring the end forward.
TEST(SessionPlannerTest, AnEarlierExpiryInStatusIsHonoured) {
  api::DebugSession s = Initialized(api::Phase::kCompleted);
  s.status.expires_at = s.created + seconds(60);
  EXPECT_EQ(ExpiresAt(s, Policy{}), s.created + seconds(60));
  EXPECT_EQ(PlanSession(s, {}, Policy{}, s.created + seconds(60)).action, Action::kWipe);
  Plan waiting = PlanSession(s, {}, Policy{}, s.created + seconds(30));
  EXPECT_EQ(waiting.action, Action::kWait);
  EXPECT_EQ(*waiting.requeue_after, seconds(30));
}

// An authorized, pending session on `pod`, as the planner sees it once the reviews have passed.
Plan PlanOn(const nlohmann::json& pod, const Policy& policy = Policy{},
            const nlohmann::json& session = SessionObject()) {
  api::DebugSession s = Session(session);
  s.status.phase = api::Phase::kPending;
  s.status.expires_at = s.created + seconds(300);
  s.status.SetCondition("Authorized", true, "Allowed", "", kNow);
  Observations observed;
  observed.pod = *ParsePodView(pod);
  observed.key_exists = false;
  return PlanSession(s, Authorized(observed), policy, kNow);
}

// H2: a pod that shares the node's namespaces, or a privileged target, is refused by default,
// with one sentence naming the pod's setting and what would allow it.
TEST(SessionPlannerTest, HostNamespacePodsAreDeniedUnlessThePolicyAllowsThem) {
  for (const char* field : {"hostPID", "hostIPC", "hostNetwork"}) {
    nlohmann::json pod = PodObject();
    pod["spec"][field] = true;
    Plan p = PlanOn(pod);
    EXPECT_EQ(p.action, Action::kDeny) << field;
    EXPECT_EQ(p.reason, "HostNamespacesNotAllowed") << field;
    EXPECT_NE(p.message.find(std::string("uses ") + field), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("policy.hostNamespaces to allow"), std::string::npos) << p.message;
    EXPECT_NE(p.message.find("debugprofiles/host"), std::string::npos) << p.message;
  }
  nlohmann::json privileged = PodObject();
  privileged["spec"]["containers"][0]["securityContext"] = {{"privileged", true}};
  Plan p = PlanOn(privileged);
  EXPECT_EQ(p.reason, "HostNamespacesNotAllowed");
  EXPECT_NE(p.message.find("uses privileged"), std::string::npos) << p.message;

  nlohmann::json host = PodObject();
  host["spec"]["hostPID"] = true;
  host["spec"]["hostNetwork"] = true;
  EXPECT_NE(PlanOn(host).message.find("hostPID and hostNetwork"), std::string::npos);
  Policy allow;
  allow.allow_host_namespaces = true;
  EXPECT_EQ(PlanOn(host, allow).action, Action::kEnsureKey);
  // shareProcessNamespace is allowed (the tool keeps to the target container).
  nlohmann::json shared = PodObject();
  shared["spec"]["shareProcessNamespace"] = true;
  EXPECT_EQ(PlanOn(shared).action, Action::kEnsureKey);
}

TEST(SessionPlannerTest, NamesAreDeterministicAndDistinct) {
  EXPECT_EQ(EphemeralContainerNameFor("uid-1"), EphemeralContainerNameFor("uid-1"));
  EXPECT_NE(EphemeralContainerNameFor("uid-1"), EphemeralContainerNameFor("uid-2"));
  EXPECT_EQ(EphemeralContainerNameFor("uid-1").size(), std::string("ephemera-").size() + 10);
  EXPECT_EQ(SessionKeySecretNameFor("uid-1").substr(0, 13), "ephemera-key-");
}

}  // namespace
}  // namespace ephemera::session
