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

}  // namespace
}  // namespace ephemera::reconciler
