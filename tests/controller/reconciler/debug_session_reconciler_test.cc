#include "controller/reconciler/debug_session_reconciler.h"

#include <gtest/gtest.h>

#include <sstream>

#include "controller/audit/audit_verifier.h"
#include "controller/detection/container_mark.h"
#include "controller/kube/base64.h"
#include "controller/kube/resource.h"
#include "controller/session/debug_session.h"
#include "debugpod/envelope/envelope.h"
#include "tests/controller/audit/fake_audit_sink.h"
#include "tests/controller/informer/fake_kube_client.h"
#include "tests/controller/kube/fake_clock.h"
#include "tests/controller/session/session_fixtures.h"

namespace ephemera::reconciler {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr char kMarkKey[] = "0123456789abcdef0123456789abcdef";
constexpr char kControllerNamespace[] = "ephemera-system";
const kube::ObjectKey kSessionKey{"team-a", "checkout-500s"};
const kube::ObjectKey kPodKey{"team-a", "shop-1"};

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    json session = session::testing::SessionObject();
    session["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z";  // FakeClock's start
    session["metadata"].erase("finalizers");
    client_.PutObject(kube::DebugSessionsResource(), session);
    json pod = session::testing::PodObject();
    pod["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                                           {"kind", "ReplicaSet"},
                                           {"name", "shop"},
                                           {"controller", true}}};
    client_.PutObject(kube::PodsResource(), pod);
    client_.SetCreateAnswer("subjectaccessreviews", [this](const json& review) {
      json answer = review;
      answer["status"] = {{"allowed", allow_}};
      if (!allow_) answer["status"]["reason"] = "no RBAC rule";
      return answer;
    });
  }

  DebugSessionReconciler MakeReconciler(audit::AuditLog& audit_log) {
    ReconcilerOptions options;
    options.controller_namespace = kControllerNamespace;
    options.policy.snapshot_image = "ephemera.local/snapshot@sha256:" + std::string(64, 'a');
    options.policy.annotate_debugged_pods = true;
    options.policy.recycle_debugged_pods = true;
    options.mark_key = kMarkKey;
    options.audit = &audit_log;
    return DebugSessionReconciler(client_, clock_, options);
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

  session::DebugSession Session() {
    auto object = client_.GetObject(kube::DebugSessionsResource(), kSessionKey);
    EXPECT_TRUE(object.has_value());
    auto parsed = session::ParseDebugSession(object.value_or(json::object()));
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? *parsed : session::DebugSession{};
  }

  // Plays the snapshot tool: a sealed document in the container's log, the container terminated.
  void FinishSnapshotContainer(const std::string& container, const std::string& session_uid) {
    auto secret =
        client_.GetObject(kube::SecretsResource(),
                          {kControllerNamespace, session::SessionKeySecretNameFor(session_uid)});
    ASSERT_TRUE(secret.has_value());
    auto recipient = kube::Base64Decode((*secret)["data"]["recipient"].get<std::string>());
    ASSERT_TRUE(recipient.ok());
    const json doc = {{"apiVersion", "ephemera.dev/snapshot/v1"},
                      {"kind", "Snapshot"},
                      {"targets", {{"mainPid", 1}, {"pids", {1, 7}}}},
                      {"sections", {"process", "threads", "fds"}},
                      {"processes", json::array()},
                      {"redaction", {{"envRedacted", 2}}},
                      {"degraded", json::array()},
                      {"overhead", {{"targetFreezeMicros", 0}}}};
    auto sealed = envelope::Seal(doc.dump(), {*recipient});
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    client_.SetPodLog(kPodKey, container, *sealed);
    json pod = *client_.GetObject(kube::PodsResource(), kPodKey);
    pod["status"]["ephemeralContainerStatuses"] = {
        {{"name", container}, {"state", {{"terminated", {{"exitCode", 0}}}}}}};
    client_.PutObject(kube::PodsResource(), pod);
  }

  kube::FakeKubeClient client_;
  kube::FakeClock clock_;
  bool allow_ = true;
};

TEST_F(ReconcilerTest, AWholeLifeIsOneVerifiableAuditChainWithItsHeadInStatus) {
  audit::FakeAuditSink sink;
  audit::AuditLog audit_log(sink);
  DebugSessionReconciler reconciler = MakeReconciler(audit_log);

  ASSERT_TRUE(Settle(reconciler).ok());
  session::DebugSession s = Session();
  ASSERT_EQ(s.status.phase, session::Phase::kCapturing) << s.status.message;
  const std::string container = s.status.ephemeral_container;

  // The container Ephemera added carries a valid mark; the pod is annotated (policy).
  json pod = *client_.GetObject(kube::PodsResource(), kPodKey);
  ASSERT_EQ(pod["spec"]["ephemeralContainers"].size(), 1u);
  std::string mark;
  for (const json& env : pod["spec"]["ephemeralContainers"][0]["env"]) {
    if (env["name"] == detection::kMarkEnvName) mark = env["value"];
  }
  EXPECT_TRUE(detection::IsValidMark(mark, kMarkKey, "pod-uid-1", container));
  EXPECT_NE(pod["metadata"]["annotations"]
                .value(std::string(kDebuggedByAnnotation), "")
                .find("team-a/checkout-500s by alice"),
            std::string::npos);

  FinishSnapshotContainer(container, s.uid);
  ASSERT_TRUE(Settle(reconciler).ok());
  s = Session();
  ASSERT_EQ(s.status.phase, session::Phase::kCompleted) << s.status.message;
  EXPECT_TRUE(client_.GetObject(kube::DebugSnapshotsResource(), kSessionKey).has_value());

  clock_.Advance(6min);
  ASSERT_TRUE(Settle(reconciler).ok());
  s = Session();
  ASSERT_EQ(s.status.phase, session::Phase::kExpired) << s.status.message;
  EXPECT_FALSE(client_.GetObject(kube::DebugSnapshotsResource(), kSessionKey).has_value());
  EXPECT_FALSE(client_.GetObject(kube::PodsResource(), kPodKey).has_value())
      << "the debugged pod is recycled through its owner (policy)";

  // Every step is a record of the session's chain, in order; the status holds the head.
  const auto records = sink.Records();
  std::vector<std::string> actions;
  for (const auto& r : records) {
    EXPECT_EQ(r.record.chain, audit::SessionChain(s.uid));
    EXPECT_EQ(r.record.requester, "alice");
    EXPECT_EQ(r.record.reason, "INC-1234 checkout returns 500");
    actions.push_back(r.record.action);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"accepted", "authorized", "key-created", "injected",
                                               "delivered", "wiped"}));
  const auto& delivered = records[4].record;
  EXPECT_EQ(delivered.details["pids"], json({1, 7}));
  EXPECT_EQ(delivered.details["sections"], json({"process", "threads", "fds"}));
  ASSERT_TRUE(s.status.audit.has_value());
  EXPECT_EQ(s.status.audit->records, static_cast<std::int64_t>(records.size()));
  EXPECT_EQ(s.status.audit->head, records.back().hash);

  std::stringstream stream;
  for (const auto& r : records) stream << audit::ToJson(r).dump() << "\n";
  audit::VerifyOptions verify;
  verify.anchors[audit::SessionChain(s.uid)] =
      audit::ChainHead{static_cast<std::uint64_t>(s.status.audit->records), s.status.audit->head};
  const audit::VerifyReport report = audit::VerifyAuditStream(stream, verify);
  EXPECT_TRUE(report.Verified()) << audit::FormatVerifyReport(report);
}

TEST_F(ReconcilerTest, StrictAuditStartsNoSessionWhileTheSinkFails) {
  audit::FakeAuditSink sink;
  sink.FailWith(UnavailableError("stdout closed"));
  audit::AuditLog audit_log(sink, {.strict = true});
  DebugSessionReconciler reconciler = MakeReconciler(audit_log);

  Status settled = Settle(reconciler);
  EXPECT_EQ(settled.code(), StatusCode::kUnavailable) << settled.ToString();
  const session::DebugSession s = Session();
  EXPECT_FALSE(s.status.phase.has_value()) << "no step counts without its audit record";
  EXPECT_FALSE(client_
                   .GetObject(kube::SecretsResource(),
                              {kControllerNamespace, session::SessionKeySecretNameFor(s.uid)})
                   .has_value());
  EXPECT_FALSE(
      client_.GetObject(kube::PodsResource(), kPodKey)->at("spec").contains("ephemeralContainers"));
}

TEST_F(ReconcilerTest, ADeniedSessionIsRecordedAndInjectsNothing) {
  allow_ = false;
  audit::FakeAuditSink sink;
  audit::AuditLog audit_log(sink);
  DebugSessionReconciler reconciler = MakeReconciler(audit_log);

  ASSERT_TRUE(Settle(reconciler).ok());
  const session::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, session::Phase::kDenied);
  EXPECT_NE(s.status.message.find("alice may not"), std::string::npos) << s.status.message;
  EXPECT_FALSE(
      client_.GetObject(kube::PodsResource(), kPodKey)->at("spec").contains("ephemeralContainers"));
  const auto records = sink.Records();
  ASSERT_GE(records.size(), 2u);
  EXPECT_EQ(records[1].record.action, "denied");
  EXPECT_EQ(s.status.audit->head, records.back().hash);
}

}  // namespace
}  // namespace ephemera::reconciler
