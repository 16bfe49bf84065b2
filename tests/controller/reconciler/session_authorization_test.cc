// The reconciler acts on who the requester is and what the requester may do, never on what the
// session's status claims (M6), and asks for every right the cluster policy uses on the requester's
// behalf (L7), with the requester's whole identity (L8). Over the fake API server.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/debug_session.h"
#include "audit/audit_log.h"
#include "base/rfc3339.h"
#include "controller/reconciler/debug_session_reconciler.h"
#include "kube/object/resource.h"
#include "tests/audit/fake_audit_sink.h"
#include "tests/controller/reconciler/reconciler_fixture.h"

namespace ephemera::reconciler {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using testing::kControllerNamespace;
using testing::kPodKey;
using testing::kSessionKey;

class SessionAuthorizationTest : public testing::ReconcilerFixture {
 protected:
  void SetUp() override { PutSessionAndPod(/*keep_finalizers=*/true, /*replica_set_pod=*/true); }

  DebugSessionReconciler MakeReconciler(bool annotate, bool recycle) {
    ReconcilerOptions options = testing::BaseOptions(audit_log_);
    options.policy.annotate_debugged_pods = annotate;
    options.policy.recycle_debugged_pods = recycle;
    options.policy.max_ttl = max_ttl_;
    return DebugSessionReconciler(client_, clock_, options);
  }

  // Writes `status` into the stored session, as someone with `update debugsessions/status` can.
  void ForgeStatus(const json& status) {
    json object = client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value();
    object["status"] = status;
    client_.PutObject(kube::DebugSessionsResource(), object);
  }

  bool KeyExists(const std::string& session_uid) {
    return client_
        .GetObject(kube::SecretsResource(),
                   {kControllerNamespace, session::SessionKeySecretNameFor(session_uid)})
        .has_value();
  }

  std::chrono::seconds max_ttl_{3600};
};

// M6, the review's path 1: carol, who may not get the pod, writes {phase: Pending, expiresAt: 2099,
// conditions: [Authorized=True]} into status before the controller's first write. The controller
// runs the review itself, ends the session Denied, and creates no key and no container. The
// expiry it writes back is creation + TTL, not 2099.
TEST_F(SessionAuthorizationTest, AForgedAuthorizedStatusStillRunsTheReviewAndEndsDenied) {
  json object = client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value();
  object["spec"]["requestedBy"] = {{"username", "carol"}, {"groups", {"system:authenticated"}}};
  client_.PutObject(kube::DebugSessionsResource(), object);
  ForgeStatus({{"phase", "Pending"},
               {"expiresAt", "2099-01-01T00:00:00Z"},
               {"conditions",
                {{{"type", "Authorized"},
                  {"status", "True"},
                  {"reason", "Allowed"},
                  {"message", "carol may debug pod shop-1"},
                  {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}});
  denied_verbs_ = {"get"};
  DebugSessionReconciler reconciler = MakeReconciler(false, false);
  ASSERT_TRUE(Settle(reconciler).ok());

  const api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied) << s.status.message;
  EXPECT_EQ(s.status.message, "carol may not get pods/shop-1 in namespace team-a (no RBAC rule)");
  ASSERT_FALSE(reviews_.empty()) << "the review ran despite Authorized=True in status";
  EXPECT_EQ(reviews_[0]["spec"]["user"], "carol");
  EXPECT_FALSE(Injected());
  EXPECT_FALSE(KeyExists(s.uid));
  ASSERT_TRUE(s.status.expires_at.has_value());
  EXPECT_EQ(base::FormatRfc3339(*s.status.expires_at), "2026-01-01T00:05:00Z")
      << "the forged expiry is written back as creation + TTL";
}

// The same forgery with phase Injecting (which skipped the Pending checks altogether).
TEST_F(SessionAuthorizationTest, AForgedInjectingPhaseStillRunsTheReviewAndEndsDenied) {
  ForgeStatus({{"phase", "Injecting"}, {"expiresAt", "2099-01-01T00:00:00Z"}});
  denied_verbs_ = {"get"};
  DebugSessionReconciler reconciler = MakeReconciler(false, false);
  ASSERT_TRUE(Settle(reconciler).ok());
  const api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied) << s.status.message;
  EXPECT_FALSE(Injected());
  EXPECT_FALSE(KeyExists(s.uid));
}

// M6, path 2: once the session runs, its expiresAt is pushed out to 2099. The policy caps TTLs at
// 2m (the spec asks for 5m): the key and the session are wiped at creation + 2m all the same.
TEST_F(SessionAuthorizationTest, AnExpiryPushedOutIsWipedAtCreationPlusMaxTtl) {
  max_ttl_ = 120s;
  DebugSessionReconciler reconciler = MakeReconciler(false, false);
  ASSERT_TRUE(Settle(reconciler).ok());
  api::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, api::Phase::kCapturing) << s.status.message;
  ASSERT_TRUE(KeyExists(s.uid));
  json status = api::StatusToJson(s.status);
  status["expiresAt"] = "2099-01-01T00:00:00Z";
  ForgeStatus(status);

  clock_.Advance(121s);
  ASSERT_TRUE(Settle(reconciler).ok());
  s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kExpired) << s.status.message;
  EXPECT_FALSE(KeyExists(s.uid)) << "the session key is shredded at creation + maxTtl";
  const api::Condition* wiped = s.status.FindCondition("Wiped");
  ASSERT_NE(wiped, nullptr);
  EXPECT_EQ(wiped->status, "True");
  ASSERT_TRUE(s.status.expires_at.has_value());
  EXPECT_EQ(base::FormatRfc3339(*s.status.expires_at), "2026-01-01T00:02:00Z");
}

// L7: under recycleDebuggedPods the controller deletes the pod for the requester, so the requester
// must be allowed to; the refusal names the right and the policy, and nothing happens to the pod.
TEST_F(SessionAuthorizationTest, RecyclingNeedsTheRequestersDeleteRight) {
  denied_verbs_ = {"delete"};
  DebugSessionReconciler reconciler = MakeReconciler(false, true);
  ASSERT_TRUE(Settle(reconciler).ok());
  const api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied) << s.status.message;
  EXPECT_EQ(s.status.message,
            "alice may not delete pods/shop-1 in namespace team-a, which is required because the "
            "cluster policy recycleDebuggedPods deletes the debugged pod when the session ends "
            "(no RBAC rule)");
  EXPECT_FALSE(Injected());
  clock_.Advance(6min);
  ASSERT_TRUE(Settle(reconciler).ok());
  EXPECT_TRUE(client_.GetObject(kube::PodsResource(), kPodKey).has_value()) << "never recycled";
}

// L7: under annotateDebuggedPods the controller patches the pod: the requester needs `patch`.
TEST_F(SessionAuthorizationTest, AnnotatingNeedsTheRequestersPatchRight) {
  denied_verbs_ = {"patch"};
  DebugSessionReconciler reconciler = MakeReconciler(true, false);
  ASSERT_TRUE(Settle(reconciler).ok());
  const api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied) << s.status.message;
  EXPECT_NE(s.status.message.find("alice may not patch pods/shop-1 in namespace team-a"),
            std::string::npos)
      << s.status.message;
  EXPECT_NE(s.status.message.find("annotateDebuggedPods"), std::string::npos) << s.status.message;
  EXPECT_FALSE(Injected());
  const json pod = client_.GetObject(kube::PodsResource(), kPodKey).value();
  EXPECT_FALSE(pod["metadata"].contains("annotations"));
}

// L8: the reviews carry the requester's extra, as admission recorded it, for every right.
TEST_F(SessionAuthorizationTest, TheReviewsCarryTheRequestersExtra) {
  json object = client_.GetObject(kube::DebugSessionsResource(), kSessionKey).value();
  const json extra = {{"scopes.authorization.openshift.io", {"user:info"}}};
  object["spec"]["requestedBy"]["extra"] = extra;
  client_.PutObject(kube::DebugSessionsResource(), object);
  DebugSessionReconciler reconciler = MakeReconciler(true, true);
  ASSERT_TRUE(Settle(reconciler).ok());
  EXPECT_EQ(Session().status.phase, api::Phase::kCapturing)
      << "with every right the session goes ahead: " << Session().status.message;
  ASSERT_EQ(reviews_.size(), 3u) << "get, patch, delete";
  for (const json& review : reviews_) {
    EXPECT_EQ(review["spec"]["user"], "alice");
    EXPECT_EQ(review["spec"]["extra"], extra) << review.dump();
  }
}

}  // namespace
}  // namespace ephemera::reconciler
