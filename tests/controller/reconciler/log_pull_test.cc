// The log pull of a session that captures `logs` (docs/decisions/log-pull.md), over the fake API
// server: the requester's right is checked first, the current and previous instances are read
// within the session's limits, the lines are redacted with the values the snapshot tool hid, the
// controller-only section never reaches the requester, and each instance is an audit record.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "envelope/envelope.h"
#include "tests/controller/reconciler/reconciler_fixture.h"

namespace ephemera::reconciler {
namespace {

using nlohmann::json;
using testing::kPodKey;
using testing::kSessionKey;

// Values the target holds in its environment, that the tool hides and hands over.
constexpr char kDbPassword[] = "hunter2-correct-horse";
constexpr char kApiKey[] = "zq81-internal-api-key-7731";

class LogPullTest : public testing::ReconcilerFixture {
 protected:
  void SetUp() override {
    PutSessionAndPod(/*keep_finalizers=*/false, /*replica_set_pod=*/false);
    auto identity = envelope::GenerateIdentity();
    ASSERT_TRUE(identity.ok());
    identity_ = identity->identity;
    json session = *client_.GetObject(kube::DebugSessionsResource(), kSessionKey);
    session["spec"]["capture"] = {"process", "logs"};
    session["spec"]["recipients"] = json::array({identity->recipient});
    session["spec"]["logs"] = {{"tailLines", 50}, {"since", "1h"}};
    client_.PutObject(kube::DebugSessionsResource(), session);
  }

  // The target container restarted once; its previous instance was OOM-killed.
  void RestartTarget() {
    json pod = *client_.GetObject(kube::PodsResource(), kPodKey);
    json& status = pod["status"]["containerStatuses"][0];
    status["restartCount"] = 1;
    status["lastState"] = {{"terminated",
                            {{"exitCode", 137},
                             {"reason", "OOMKilled"},
                             {"startedAt", "2025-12-31T23:50:00Z"},
                             {"finishedAt", "2025-12-31T23:58:00Z"}}}};
    client_.PutObject(kube::PodsResource(), pod);
  }

  // The tool's document, with the controller-only section `controller_only` (null: none).
  static json ToolDocument(const json& controller_only) {
    json doc = {{"apiVersion", "ephemera.dev/snapshot/v1"},
                {"kind", "Snapshot"},
                {"targets", {{"mainPid", 1}, {"pids", {1}}}},
                {"sections", {"process"}},
                {"processes", {{{"pid", 1}, {"cmdline", "/app"}}}},
                {"redaction", {{"envRedacted", 2}, {"patternsMatched", {{"jwt", 1}}}}},
                {"degraded", json::array()},
                {"overhead", {{"targetFreezeMicros", 0}}}};
    if (!controller_only.is_null()) doc["controllerOnly"] = controller_only;
    return doc;
  }

  static json HandedOver() {
    return {{"valueKeys", {kDbPassword, kApiKey}}, {"environsUnread", 0}};
  }

  // Runs the session up to its snapshot container, which then ends with `document` sealed.
  api::DebugSession RunWith(DebugSessionReconciler& reconciler, const json& document) {
    EXPECT_TRUE(Settle(reconciler).ok());
    api::DebugSession s = Session();
    EXPECT_EQ(s.status.phase, api::Phase::kCapturing) << s.status.message;
    auto sealed = envelope::Seal(document.dump(), {SessionRecipient(s.uid)});
    EXPECT_TRUE(sealed.ok());
    FinishSnapshotContainerWithLog(s.status.ephemeral_container, sealed.ok() ? *sealed : "");
    EXPECT_TRUE(Settle(reconciler).ok());
    return Session();
  }

  // The delivered DebugSnapshot, decrypted as the requester does.
  json Delivered() {
    auto snapshot = client_.GetObject(kube::DebugSnapshotsResource(), kSessionKey);
    EXPECT_TRUE(snapshot.has_value());
    if (!snapshot) return json();
    auto opened = envelope::Open((*snapshot)["spec"]["ciphertext"].get<std::string>(), {identity_},
                                 std::size_t{16} << 20);
    delivered_text_ = opened.ok() ? *opened : "";
    return json::parse(delivered_text_, nullptr, false);
  }

  DebugSessionReconciler MakeReconciler(session::LogAccess access = session::LogAccess::kPodsLog) {
    ReconcilerOptions options = testing::BaseOptions(audit_log_);
    options.policy.logs.access = access;
    return DebugSessionReconciler(client_, clock_, options);
  }

  std::vector<audit::AuditRecord> Records(const std::string& action) {
    std::vector<audit::AuditRecord> out;
    for (const auto& r : sink_.Records()) {
      if (r.record.action == action) out.push_back(r.record);
    }
    return out;
  }

  std::string identity_;
  std::string delivered_text_;
};

TEST_F(LogPullTest, ReadsBothInstancesRedactedAndRecordsEach) {
  RestartTarget();
  client_.SetPodLog(kPodKey, "app",
                    "2026-01-01T00:00:01Z GET /pay 503 upstream timeout\n"
                    "2026-01-01T00:00:02Z connecting with password " +
                        std::string(kDbPassword) + " to db\n");
  client_.SetPodLog(kPodKey, "app",
                    "2025-12-31T23:57:59Z key=" + std::string(kApiKey) + " out of memory\n",
                    /*previous=*/true);
  DebugSessionReconciler reconciler = MakeReconciler();
  api::DebugSession s = RunWith(reconciler, ToolDocument(HandedOver()));
  ASSERT_EQ(s.status.phase, api::Phase::kCompleted) << s.status.message;

  const json doc = Delivered();
  ASSERT_TRUE(doc.is_object());
  EXPECT_FALSE(doc.contains("controllerOnly")) << "only the controller reads it";
  EXPECT_EQ(delivered_text_.find(kDbPassword), std::string::npos);
  EXPECT_EQ(delivered_text_.find(kApiKey), std::string::npos);
  EXPECT_EQ(delivered_text_.find("controllerOnly"), std::string::npos);
  EXPECT_NE(std::find(doc["sections"].begin(), doc["sections"].end(), "logs"),
            doc["sections"].end());

  const json& logs = doc["logs"];
  EXPECT_EQ(logs["container"], "app");
  EXPECT_EQ(logs["limits"]["tailLines"], 50);
  EXPECT_EQ(logs["limits"]["sinceSeconds"], 3600);
  ASSERT_EQ(logs["instances"].size(), 2u);
  const json& current = logs["instances"][0];
  EXPECT_EQ(current["instance"], "current");
  EXPECT_EQ(current["restartCount"], 1);
  ASSERT_EQ(current["lines"].size(), 2u);
  EXPECT_EQ(current["lines"][0], "2026-01-01T00:00:01Z GET /pay 503 upstream timeout");
  EXPECT_NE(current["lines"][1].get<std::string>().find("[REDACTED:secret-value]"),
            std::string::npos)
      << current["lines"][1];
  const json& previous = logs["instances"][1];
  EXPECT_EQ(previous["instance"], "previous");
  EXPECT_EQ(previous["termination"]["exitCode"], 137);
  EXPECT_EQ(previous["termination"]["reason"], "OOMKilled");
  EXPECT_EQ(previous["termination"]["finishedAt"], "2025-12-31T23:58:00Z");
  EXPECT_GE(doc["redaction"]["patternsMatched"]["secret-value"].get<int>(), 2);
  EXPECT_EQ(doc["redaction"]["patternsMatched"]["jwt"], 1) << "the tool's counts are kept";

  // Both reads asked for what the session's spec says, with timestamps.
  const std::vector<kube::PodLogOptions> requests = client_.PodLogRequests();
  std::vector<kube::PodLogOptions> target_reads;
  for (const auto& r : requests) {
    if (r.container == "app") {
      target_reads.push_back(r);
      continue;
    }
    // The snapshot container's output is read whole, up to the cap, with no window: the API
    // server refuses sinceSeconds 0, and a window could cut the armored snapshot.
    EXPECT_FALSE(r.since_seconds.has_value()) << *r.since_seconds;
    EXPECT_FALSE(r.tail_lines.has_value());
    EXPECT_FALSE(r.timestamps);
    EXPECT_FALSE(r.previous);
  }
  ASSERT_EQ(target_reads.size(), 2u);
  for (const auto& r : target_reads) {
    EXPECT_EQ(r.tail_lines, 50);
    EXPECT_EQ(r.since_seconds, 3600);
    EXPECT_EQ(r.limit_bytes, 256 * 1024);
    EXPECT_TRUE(r.timestamps);
  }
  EXPECT_FALSE(target_reads[0].previous);
  EXPECT_TRUE(target_reads[1].previous);

  // One record per instance, with the digest of what was delivered; the requester's right to
  // read the log was checked first.
  const auto records = Records("logs-read");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].details["instance"], "current");
  EXPECT_EQ(records[0].details["lines"], 2);
  EXPECT_EQ(records[1].details["instance"], "previous");
  EXPECT_EQ(records[0].details["sha256"], s.status.snapshot->sha256);
  EXPECT_EQ(records[0].details["window"]["sinceSeconds"], 3600);
  bool checked = false;
  for (const json& review : reviews_) {
    const json& attributes = review["spec"]["resourceAttributes"];
    checked |= attributes.value("resource", "") == "pods" &&
               attributes.value("subresource", "") == "log" &&
               attributes.value("verb", "") == "get";
  }
  EXPECT_TRUE(checked) << "get pods/log was asked for the requester";
  for (const auto& r : sink_.Records()) {
    const std::string text = audit::ToJson(r).dump();
    EXPECT_EQ(text.find(kDbPassword), std::string::npos) << text;
    EXPECT_EQ(text.find("upstream timeout"), std::string::npos) << "no log text in the trail";
  }
}

TEST_F(LogPullTest, AContainerThatNeverRestartedHasOnlyItsCurrentInstance) {
  client_.SetPodLog(kPodKey, "app", "2026-01-01T00:00:01Z ready\n");
  DebugSessionReconciler reconciler = MakeReconciler();
  api::DebugSession s = RunWith(reconciler, ToolDocument(HandedOver()));
  ASSERT_EQ(s.status.phase, api::Phase::kCompleted) << s.status.message;
  const json doc = Delivered();
  ASSERT_EQ(doc["logs"]["instances"].size(), 1u);
  EXPECT_EQ(doc["logs"]["instances"][0]["lines"][0], "2026-01-01T00:00:01Z ready");
  EXPECT_TRUE(doc["degraded"].empty()) << doc["degraded"];
}

TEST_F(LogPullTest, WithoutTheHiddenValuesTheLogIsNotRead) {
  client_.SetPodLog(kPodKey, "app", "password " + std::string(kDbPassword) + "\n");
  for (const json& handed :
       {json(nullptr), json{{"valueKeys", json::array()}, {"environsUnread", 1}}}) {
    client_.RemoveObject(kube::DebugSnapshotsResource(), kSessionKey);
    SetUp();
    DebugSessionReconciler reconciler = MakeReconciler();
    api::DebugSession s = RunWith(reconciler, ToolDocument(handed));
    ASSERT_EQ(s.status.phase, api::Phase::kCompleted) << s.status.message;
    const json doc = Delivered();
    EXPECT_FALSE(doc.contains("logs"));
    EXPECT_EQ(delivered_text_.find(kDbPassword), std::string::npos);
    bool degraded = false;
    for (const json& entry : doc["degraded"]) degraded |= entry["section"] == "logs";
    EXPECT_TRUE(degraded) << doc["degraded"];
    for (const auto& r : client_.PodLogRequests()) EXPECT_NE(r.container, "app") << "never read";
  }
}

TEST_F(LogPullTest, AMalformedControllerOnlySectionFailsTheSession) {
  DebugSessionReconciler reconciler = MakeReconciler();
  api::DebugSession s =
      RunWith(reconciler, ToolDocument(json{{"valueKeys", {std::string(5000, 'x')}}}));
  EXPECT_EQ(s.status.phase, api::Phase::kFailed) << s.status.message;
  EXPECT_NE(s.status.message.find("controllerOnly"), std::string::npos) << s.status.message;
  EXPECT_FALSE(client_.GetObject(kube::DebugSnapshotsResource(), kSessionKey).has_value());
}

TEST_F(LogPullTest, AToolWrittenLogsSectionAndControllerOnlyNeverReachTheRequester) {
  // A session that does not capture logs: whatever the tool wrote in their place is dropped.
  json session = *client_.GetObject(kube::DebugSessionsResource(), kSessionKey);
  session["spec"]["capture"] = {"process"};
  client_.PutObject(kube::DebugSessionsResource(), session);
  json forged = ToolDocument(HandedOver());
  forged["logs"] = {{"container", "app"}, {"instances", {{{"lines", {"forged line"}}}}}};
  DebugSessionReconciler reconciler = MakeReconciler();
  api::DebugSession s = RunWith(reconciler, forged);
  ASSERT_EQ(s.status.phase, api::Phase::kCompleted) << s.status.message;
  const json doc = Delivered();
  EXPECT_FALSE(doc.contains("logs"));
  EXPECT_FALSE(doc.contains("controllerOnly"));
  EXPECT_EQ(delivered_text_.find(kDbPassword), std::string::npos);
  EXPECT_EQ(delivered_text_.find("forged line"), std::string::npos);
}

TEST_F(LogPullTest, UnderTheDebugProfilePolicyTheRequesterNeedsUseOnDebugprofilesLogs) {
  denied_verbs_ = {"use"};
  DebugSessionReconciler reconciler = MakeReconciler(session::LogAccess::kDebugProfile);
  ASSERT_TRUE(Settle(reconciler).ok());
  api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied) << s.status.message;
  EXPECT_NE(s.status.message.find("use debugprofiles/logs"), std::string::npos) << s.status.message;
  EXPECT_FALSE(Injected());
}

TEST_F(LogPullTest, ARequesterWhoMayNotReadTheLogIsDeniedBeforeAnythingIsInjected) {
  client_.SetCreateAnswer("subjectaccessreviews", [](const json& review) {
    const bool log = review["spec"]["resourceAttributes"].value("subresource", "") == "log";
    return testing::ReviewAnswer(review, !log);
  });
  DebugSessionReconciler reconciler = MakeReconciler();
  ASSERT_TRUE(Settle(reconciler).ok());
  api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied) << s.status.message;
  EXPECT_NE(s.status.message.find("may not get pods/log of shop-1"), std::string::npos)
      << s.status.message;
  EXPECT_FALSE(Injected());
  EXPECT_TRUE(client_.PodLogRequests().empty());
}

TEST_F(LogPullTest, ASpecBeyondThePolicysCeilingIsDenied) {
  json session = *client_.GetObject(kube::DebugSessionsResource(), kSessionKey);
  session["spec"]["logs"]["limitBytes"] = 4 << 20;
  client_.PutObject(kube::DebugSessionsResource(), session);
  DebugSessionReconciler reconciler = MakeReconciler();
  ASSERT_TRUE(Settle(reconciler).ok());
  api::DebugSession s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kDenied) << s.status.message;
  EXPECT_NE(s.status.message.find("spec.logs.limitBytes"), std::string::npos) << s.status.message;
  EXPECT_FALSE(Injected());
}

TEST_F(LogPullTest, AnApiServerThatIsBusyRetriesTheStepAndLosesNothing) {
  client_.SetPodLog(kPodKey, "app", "2026-01-01T00:00:01Z ready\n");
  DebugSessionReconciler reconciler = MakeReconciler();
  ASSERT_TRUE(Settle(reconciler).ok());
  api::DebugSession s = Session();
  auto sealed = envelope::Seal(ToolDocument(HandedOver()).dump(), {SessionRecipient(s.uid)});
  ASSERT_TRUE(sealed.ok());
  FinishSnapshotContainerWithLog(s.status.ephemeral_container, *sealed);
  // The snapshot container's log is read first; the target's log then answers 429 once.
  int calls = 0;
  client_.OnGetPodLog([&calls](const kube::PodLogOptions& options) -> std::optional<Status> {
    if (options.container == "app" && calls++ == 0) {
      return ResourceExhaustedError("429 Too Many Requests");
    }
    return std::nullopt;
  });
  EXPECT_FALSE(Settle(reconciler).ok()) << "the step is retried, not failed";
  EXPECT_EQ(Session().status.phase, api::Phase::kCapturing);
  ASSERT_TRUE(Settle(reconciler).ok());
  s = Session();
  EXPECT_EQ(s.status.phase, api::Phase::kCompleted) << s.status.message;
  EXPECT_EQ(Delivered()["logs"]["instances"][0]["lines"][0], "2026-01-01T00:00:01Z ready");
}

}  // namespace
}  // namespace ephemera::reconciler
