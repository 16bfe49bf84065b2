#include "controller/reconciler/debug_session_controller.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "audit/audit_log.h"
#include "envelope/envelope.h"
#include "kube/object/resource.h"
#include "tests/audit/fake_audit_sink.h"
#include "tests/base/fake_clock.h"
#include "tests/controller/reconciler/reconciler_fixture.h"
#include "tests/controller/session/session_fixtures.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::reconciler {
namespace {

nlohmann::json CreatedAt(const char* timestamp) {
  return {{"metadata", {{"name", "s"}, {"namespace", "team-a"}, {"creationTimestamp", timestamp}}}};
}

TEST(SessionAgeRankTest, OlderSessionsRankFirstWhateverOrderTheyArrivedIn) {
  const auto older = SessionAgeRank(CreatedAt("2026-11-29T05:00:00Z"), 7);
  const auto newer = SessionAgeRank(CreatedAt("2026-11-29T05:00:01Z"), 3);
  EXPECT_LT(older, newer);
}

TEST(SessionAgeRankTest, WithinOneSecondTheFirstSeenRanksFirst) {
  const auto first = SessionAgeRank(CreatedAt("2026-11-29T05:00:00Z"), 1);
  const auto second = SessionAgeRank(CreatedAt("2026-11-29T05:00:00Z"), 2);
  EXPECT_LT(first, second);
}

TEST(SessionAgeRankTest, ASessionWithoutACreationTimeRanksBeforeAllOthers) {
  // Not something the API server sends; it must not be starved either.
  nlohmann::json session = CreatedAt("not a time");
  EXPECT_LT(SessionAgeRank(session, 5), SessionAgeRank(CreatedAt("1970-01-01T00:00:01Z"), 0));
}

TEST(WithoutManagedFieldsTest, DropsManagedFieldsAndKeepsEverythingElse) {
  nlohmann::json session = CreatedAt("2026-11-29T05:00:00Z");
  session["metadata"]["annotations"] = {{"kubectl.kubernetes.io/last-applied-configuration", "{}"}};
  session["metadata"]["managedFields"] = {{{"manager", "ephemera-controller"},
                                           {"operation", "Update"},
                                           {"subresource", "status"},
                                           {"fieldsV1", {{"f:status", nlohmann::json::object()}}}}};
  session["status"] = {{"phase", "Capturing"}};
  nlohmann::json expected = session;
  expected["metadata"].erase("managedFields");
  EXPECT_EQ(WithoutManagedFields(session), expected);
  EXPECT_EQ(WithoutManagedFields(nlohmann::json::object()), nlohmann::json::object());
}

// Waits (real time, at most 10 s) until `done` holds; the controller runs on its own threads.
template <typename Predicate>
bool Eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// The whole loop over the fake API server: a new session is reconciled once (to Capturing); the
// watch event that echoes the controller's own last write is not queued; someone else's change is.
TEST(DebugSessionControllerTest, QueuesOthersChangesButNotTheEchoOfItsOwnWrites) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  nlohmann::json session = session::testing::SessionObject();
  session["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";
  client.PutObject(kube::DebugSessionsResource(), session);
  client.PutObject(kube::PodsResource(), session::testing::PodObject());
  client.SetCreateAnswer("subjectaccessreviews", [](const nlohmann::json& review) {
    return testing::ReviewAnswer(review, true);
  });
  audit::FakeAuditSink sink;
  audit::AuditLog audit_log(sink);
  DebugSessionReconciler reconciler(client, clock, testing::BaseOptions(audit_log));
  DebugSessionController controller(client, clock, reconciler, 1);
  std::jthread loop([&](const std::stop_token& stop) { controller.Run(stop, nullptr); });

  const kube::ObjectKey key{session["metadata"]["namespace"], session["metadata"]["name"]};
  ASSERT_TRUE(Eventually([&] { return controller.Stats().reconciles_ok >= 1; }));
  const nlohmann::json written = client.GetObject(kube::DebugSessionsResource(), key).value();
  ASSERT_EQ(written["status"].value("phase", ""), "Capturing");

  client.PushWatch(kube::WatchScript::Closed({kube::ModifiedEvent(written)}));
  // The echo reaches the informer within milliseconds; it must not reach the queue.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(controller.Stats().reconciles_ok, 1u) << "the echo of its own write was reconciled";

  nlohmann::json changed = written;
  changed["metadata"]["labels"] = {{"team", "checkout"}};
  client.PutObject(kube::DebugSessionsResource(), changed);  // someone else's write: a new version
  client.PushWatch(kube::WatchScript::Closed(
      {kube::ModifiedEvent(client.GetObject(kube::DebugSessionsResource(), key).value())}));
  EXPECT_TRUE(Eventually([&] { return controller.Stats().reconciles_ok >= 2; }))
      << "another writer's change must be reconciled";
}

// H3: a session whose reconcile throws (here: every SubjectAccessReview for it) fails alone. The
// worker survives, the error is reported for that key, and the other session is served.
TEST(DebugSessionControllerTest, ASessionWhoseReconcileThrowsDoesNotStopTheOthers) {
  kube::FakeKubeClient client;
  base::FakeClock clock;
  nlohmann::json healthy = session::testing::SessionObject();
  healthy["metadata"]["creationTimestamp"] = "2026-01-01T00:00:01Z";
  nlohmann::json hostile = session::testing::SessionObject();
  hostile["metadata"]["namespace"] = "team-b";
  hostile["metadata"]["uid"] = "8d3c0e7a-0002-4b7e-9d1e-5e0c7b1a2f3d";
  hostile["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";  // served first
  client.PutObject(kube::DebugSessionsResource(), healthy);
  client.PutObject(kube::DebugSessionsResource(), hostile);
  nlohmann::json pod_b = session::testing::PodObject();
  pod_b["metadata"]["namespace"] = "team-b";
  pod_b["metadata"]["uid"] = "pod-uid-b";
  client.PutObject(kube::PodsResource(), session::testing::PodObject());
  client.PutObject(kube::PodsResource(), pod_b);
  client.SetCreateAnswer("subjectaccessreviews", [](const nlohmann::json& review) {
    const nlohmann::json attributes = review.value("spec", nlohmann::json::object())
                                          .value("resourceAttributes", nlohmann::json::object());
    if (attributes.value("namespace", "") == "team-b") {
      throw std::runtime_error("a bug that only this session triggers");
    }
    return testing::ReviewAnswer(review, true);
  });
  audit::FakeAuditSink sink;
  audit::AuditLog audit_log(sink);
  DebugSessionReconciler reconciler(client, clock, testing::BaseOptions(audit_log));
  DebugSessionController controller(client, clock, reconciler, 1);
  std::mutex mu;
  std::vector<std::pair<kube::ObjectKey, Status>> errors;
  const std::function<void(const kube::ObjectKey&, const Status&)> on_error =
      [&](const kube::ObjectKey& key, const Status& status) {
        std::lock_guard lock(mu);
        errors.emplace_back(key, status);
      };
  std::jthread loop([&](const std::stop_token& stop) { controller.Run(stop, on_error); });

  const kube::ObjectKey healthy_key{"team-a", "checkout-500s"};
  ASSERT_TRUE(Eventually([&] {
    auto object = client.GetObject(kube::DebugSessionsResource(), healthy_key);
    return object &&
           object->value("status", nlohmann::json::object()).value("phase", "") == "Capturing";
  })) << "the other session was not served";
  EXPECT_GE(controller.Stats().reconciles_error, 1u);
  std::lock_guard lock(mu);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.front().first, (kube::ObjectKey{"team-b", "checkout-500s"}));
  EXPECT_EQ(errors.front().second.code(), StatusCode::kInternal);
  EXPECT_NE(errors.front().second.message().find("threw a bug that only this session triggers"),
            std::string::npos)
      << errors.front().second.message();
  for (const auto& [key, status] : errors) EXPECT_EQ(key.namespace_name, "team-b");
}

// A session whose snapshot container has ended, over the whole loop on the fake API server: the
// controller and its workers run on their own threads, the clock stands still unless a test moves
// it (so no poll can fire by itself).
class CaptureEndTest : public testing::ReconcilerFixture {
 protected:
  void SetUp() override { PutSessionAndPod(/*keep_finalizers=*/false, /*replica_set_pod=*/false); }

  std::string Phase() {
    auto object = client_.GetObject(kube::DebugSessionsResource(), testing::kSessionKey);
    return object ? object->value("status", nlohmann::json::object()).value("phase", "") : "";
  }

  // Runs the loop until the session is Capturing and the loop is idle, then plays the snapshot
  // tool: its log written, its container terminated. Idle matters: the status that reads Capturing
  // is written inside a reconcile, which is counted, and queues its safety-net poll, only when it
  // returns; a test that moved the clock before that would push the poll away with it.
  void StartAndFinishCapture(DebugSessionController& controller, std::jthread& loop) {
    loop =
        std::jthread([&controller](const std::stop_token& stop) { controller.Run(stop, nullptr); });
    ASSERT_TRUE(Eventually([&] { return Phase() == "Capturing"; })) << Phase();
    ASSERT_TRUE(Eventually([&] {
      const ControllerStats stats = controller.Stats();
      return stats.queue_depth == 0 && stats.in_progress == 0;
    })) << "the control loop never went idle";
    const api::DebugSession s = Session();
    ASSERT_FALSE(s.status.ephemeral_container.empty());
    const std::string recipient = SessionRecipient(s.uid);
    ASSERT_FALSE(recipient.empty());
    auto sealed = envelope::Seal(
        R"({"apiVersion":"ephemera.dev/snapshot/v1","kind":"Snapshot","targets":{"mainPid":1,"pids":[1]},"sections":["process"],"processes":[{"pid":1}],"degraded":[],"overhead":{"targetFreezeMicros":0}})",
        {recipient});
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    FinishSnapshotContainerWithLog(s.status.ephemeral_container, *sealed);
  }
};

// The pod watch says the snapshot container changed state: the session is collected at once. The
// clock never moves here, so no poll (the first comes kCaptureSafetyNetPoll after injecting) can
// have done it: the pod event alone completes the session.
TEST_F(CaptureEndTest, TheSessionIsCollectedOnThePodEventWithoutAPoll) {
  DebugSessionReconciler reconciler(client_, clock_, testing::BaseOptions(audit_log_));
  DebugSessionController controller(client_, clock_, reconciler, 1);
  std::jthread loop;
  ASSERT_NO_FATAL_FAILURE(StartAndFinishCapture(controller, loop));
  const auto started = clock_.SteadyNow();

  controller.EnqueueSessionsForPod(testing::kPodKey);
  EXPECT_TRUE(Eventually([&] { return Phase() == "Completed"; })) << Phase();
  EXPECT_EQ(clock_.SteadyNow(), started);
  EXPECT_TRUE(client_.GetObject(kube::DebugSnapshotsResource(), testing::kSessionKey).has_value());
}

// A pod event for another pod, or in another namespace, does not touch the session.
TEST_F(CaptureEndTest, AnotherPodsEventLeavesTheSessionWaiting) {
  DebugSessionReconciler reconciler(client_, clock_, testing::BaseOptions(audit_log_));
  DebugSessionController controller(client_, clock_, reconciler, 1);
  std::jthread loop;
  ASSERT_NO_FATAL_FAILURE(StartAndFinishCapture(controller, loop));
  const std::uint64_t reconciles = controller.Stats().reconciles_ok;
  ASSERT_GE(reconciles, 1u);

  controller.EnqueueSessionsForPod({testing::kPodKey.namespace_name, "other-pod"});
  controller.EnqueueSessionsForPod({"team-b", testing::kPodKey.name});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(controller.Stats().reconciles_ok, reconciles);
  EXPECT_EQ(Phase(), "Capturing");
}

// The pod event was missed (a watch that broke at the wrong moment): the safety-net poll still
// completes the session, and not before its time.
TEST_F(CaptureEndTest, AMissedPodEventIsMadeGoodByTheSafetyNetPoll) {
  DebugSessionReconciler reconciler(client_, clock_, testing::BaseOptions(audit_log_));
  DebugSessionController controller(client_, clock_, reconciler, 1);
  std::jthread loop;
  ASSERT_NO_FATAL_FAILURE(StartAndFinishCapture(controller, loop));

  clock_.Advance(session::kCaptureSafetyNetPoll - std::chrono::milliseconds(1));
  (void)controller.Stats();  // releases what is due on the queue
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Phase(), "Capturing") << "polled before the safety net's interval";

  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(Eventually([&] {
    (void)controller.Stats();
    return Phase() == "Completed";
  })) << Phase();
}

}  // namespace
}  // namespace ephemera::reconciler
