#include "controller/reconciler/debug_session_controller.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "controller/audit/audit_log.h"
#include "controller/kube/resource.h"
#include "tests/controller/audit/fake_audit_sink.h"
#include "tests/controller/informer/fake_kube_client.h"
#include "tests/controller/kube/fake_clock.h"
#include "tests/controller/session/session_fixtures.h"

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
  kube::FakeClock clock;
  nlohmann::json session = session::testing::SessionObject();
  session["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";
  client.PutObject(kube::DebugSessionsResource(), session);
  client.PutObject(kube::PodsResource(), session::testing::PodObject());
  client.SetCreateAnswer("subjectaccessreviews", [](const nlohmann::json& review) {
    nlohmann::json answer = review;
    answer["status"] = {{"allowed", true}};
    return answer;
  });
  audit::FakeAuditSink sink;
  audit::AuditLog audit_log(sink);
  ReconcilerOptions options;
  options.controller_namespace = "ephemera-system";
  options.policy.snapshot_image = "ephemera.local/snapshot@sha256:" + std::string(64, 'a');
  options.mark_key = "0123456789abcdef0123456789abcdef";
  options.audit = &audit_log;
  DebugSessionReconciler reconciler(client, clock, options);
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

}  // namespace
}  // namespace ephemera::reconciler
