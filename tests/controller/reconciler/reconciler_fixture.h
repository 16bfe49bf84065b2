// What the reconciler tests share: one DebugSession and its target pod on the fake API server, an
// authorizer the test can steer, the options every reconciler starts from, and the helpers that
// drive a session and read it back.
#ifndef EPHEMERA_TESTS_CONTROLLER_RECONCILER_RECONCILER_FIXTURE_H_
#define EPHEMERA_TESTS_CONTROLLER_RECONCILER_RECONCILER_FIXTURE_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/debug_session.h"
#include "audit/audit_log.h"
#include "base/base64.h"
#include "base/status.h"
#include "controller/reconciler/debug_session_reconciler.h"
#include "kube/object/resource.h"
#include "tests/audit/fake_audit_sink.h"
#include "tests/base/fake_clock.h"
#include "tests/controller/session/session_fixtures.h"
#include "tests/kube/client/fake_kube_client.h"

namespace ephemera::reconciler::testing {

inline constexpr char kControllerNamespace[] = "ephemera-system";
inline constexpr char kMarkKey[] = "0123456789abcdef0123456789abcdef";
inline const kube::ObjectKey kSessionKey{"team-a", "checkout-500s"};
inline const kube::ObjectKey kPodKey{"team-a", "shop-1"};

// The options every test's reconciler starts from: the controller's namespace, a pinned snapshot
// image, the mark key, and `audit_log` as the audit trail.
inline ReconcilerOptions BaseOptions(audit::AuditLog& audit_log) {
  ReconcilerOptions options;
  options.controller_namespace = kControllerNamespace;
  options.policy.snapshot_image = "ephemera.local/snapshot@sha256:" + std::string(64, 'a');
  options.mark_key = kMarkKey;
  options.audit = &audit_log;
  return options;
}

// An authorizer's answer to `review`: allowed, or denied "no RBAC rule".
inline nlohmann::json ReviewAnswer(const nlohmann::json& review, bool allowed) {
  nlohmann::json answer = review;
  answer["status"] = {{"allowed", allowed}};
  if (!allowed) answer["status"]["reason"] = "no RBAC rule";
  return answer;
}

class ReconcilerFixture : public ::testing::Test {
 protected:
  // Puts the session (created at the FakeClock's start; its finalizers kept or not) and its target
  // pod (owned by a ReplicaSet or by nothing) on the fake API server, and answers every
  // SubjectAccessReview: allowed unless `allow_` is false or its verb is in `denied_verbs_`.
  void PutSessionAndPod(bool keep_finalizers, bool replica_set_pod) {
    nlohmann::json session = session::testing::SessionObject();
    session["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";  // FakeClock's start
    if (!keep_finalizers) session["metadata"].erase("finalizers");
    client_.PutObject(kube::DebugSessionsResource(), session);
    nlohmann::json pod = session::testing::PodObject();
    if (replica_set_pod) {
      pod["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                             {"kind", "ReplicaSet"},
                                             {"name", "shop"},
                                             {"controller", true}}};
    }
    client_.PutObject(kube::PodsResource(), pod);
    client_.SetCreateAnswer("subjectaccessreviews", [this](const nlohmann::json& review) {
      reviews_.push_back(review);
      const std::string verb = review["spec"]["resourceAttributes"].value("verb", "");
      const bool denied =
          std::find(denied_verbs_.begin(), denied_verbs_.end(), verb) != denied_verbs_.end();
      return ReviewAnswer(review, allow_ && !denied);
    });
  }

  // Reconciles until the reconciler has nothing more to do now (a wait or a requeue later).
  Status Settle(DebugSessionReconciler& reconciler) {
    for (int i = 0; i < 20; ++i) {
      auto result = reconciler.Reconcile(kSessionKey);
      if (!result.ok()) return result.status();
      if (result->steps == 0) return OkStatus();
    }
    return InternalError("the session never settled");
  }

  api::DebugSession Session() {
    auto object = client_.GetObject(kube::DebugSessionsResource(), kSessionKey);
    EXPECT_TRUE(object.has_value());
    auto parsed = api::ParseDebugSession(object.value_or(nlohmann::json::object()));
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? *parsed : api::DebugSession{};
  }

  // Whether the target pod has an ephemeral container.
  bool Injected() {
    return client_.GetObject(kube::PodsResource(), kPodKey)
        ->at("spec")
        .contains("ephemeralContainers");
  }

  // The session key's recipient ("age1…"), as the snapshot tool receives it; empty when absent.
  std::string SessionRecipient(const std::string& session_uid) {
    auto secret =
        client_.GetObject(kube::SecretsResource(),
                          {kControllerNamespace, session::SessionKeySecretNameFor(session_uid)});
    if (!secret.has_value()) return "";
    auto recipient = base::Base64Decode((*secret)["data"]["recipient"].get<std::string>());
    return recipient.ok() ? *recipient : "";
  }

  // Plays the snapshot tool: `log` in the container's log, the container terminated (exit 0).
  void FinishSnapshotContainerWithLog(const std::string& container, const std::string& log) {
    client_.SetPodLog(kPodKey, container, log);
    nlohmann::json pod = *client_.GetObject(kube::PodsResource(), kPodKey);
    pod["status"]["ephemeralContainerStatuses"] = {
        {{"name", container}, {"state", {{"terminated", {{"exitCode", 0}}}}}}};
    client_.PutObject(kube::PodsResource(), pod);
  }

  kube::FakeKubeClient client_;
  base::FakeClock clock_;
  audit::FakeAuditSink sink_;
  audit::AuditLog audit_log_{sink_};       // for the tests that need one audit trail only
  bool allow_ = true;                      // the authorizer's answer to every review
  std::vector<std::string> denied_verbs_;  // and the verbs it denies even so
  std::vector<nlohmann::json> reviews_;    // the SubjectAccessReviews POSTed, in order
};

}  // namespace ephemera::reconciler::testing

#endif  // EPHEMERA_TESTS_CONTROLLER_RECONCILER_RECONCILER_FIXTURE_H_
